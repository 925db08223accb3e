/* Bundles: an app's `uses APP, ...;` stands for the flows of those apps. */
#ifndef PINHOLE_BUNDLE_H
#define PINHOLE_BUNDLE_H

#include "load.h"

/* Expands the flows of every app of the library not resolved yet (library apps at load, then
 * the policy's own) into lib->expanded. Unknown names and cycles are errors at the `uses`
 * word. */
bool library_resolve_uses(struct library *lib, struct diags *d);

#endif
