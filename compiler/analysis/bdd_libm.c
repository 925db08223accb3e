/* BuDDy (libbdd.a, linked statically: see the Makefile) calls log() and pow() only in
 * bdd_satcount and bdd_satcountln, which pinhole never calls; but they sit in the object file
 * of bdd_apply, so the link needs the two all the same. Taking them from libm cost every
 * pinhole and pinholed run about 350 KB of RSS: at start the dynamic loader runs each of
 * libm's IFUNC resolvers, which faults a quarter of its code in. So the link takes these.
 * They stop the program if ever called: a new use of BuDDy that counts assignments needs the
 * real ones (put -lm back in PKG_LIBS and remove this file). No shared library pinhole loads
 * refers to either name, so only BuDDy's calls come here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static _Noreturn void bdd_libm_unavailable(const char *fn)
{
	fprintf(stderr, "pinhole: internal error: %s() called, and libm is not linked (compiler/analysis/bdd_libm.c)\n", fn);
	abort();
}

double log(double x)
{
	(void)x;
	bdd_libm_unavailable("log");
}

double pow(double x, double y)
{
	(void)x;
	(void)y;
	bdd_libm_unavailable("pow");
}
