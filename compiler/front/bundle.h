/* Bundles: an app's `uses APP, ...;` stands for the flows of those apps. */
#ifndef PINHOLE_BUNDLE_H
#define PINHOLE_BUNDLE_H

#include "load.h"

/* Fills all_flows of every app of the library not resolved yet (library apps at load, then
 * the policy's own). Unknown names and cycles are errors at the `uses` word. */
bool library_resolve_uses(struct library *lib, struct diags *d);

/* An app without `uses` (e.g. one made from a port literal): all_flows = its own flows. */
void app_own_flows(struct ast_app *a);

#endif
