/* The body of the fuzz_import_* targets: any bytes as one file of a format must give
 * diagnostics or app definitions, never a crash, a leak or undefined behaviour; and what an
 * import writes must compile (with every app allowed as a server), or the target aborts. The
 * app library is loaded once. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "import.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct compilation base;
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	static const char *dirs[] = {"stdlib-apps"};
	struct compile_opts o = {.libdirs = dirs, .nlibdirs = 1};
	if (!compile_library(&o, &base)) {
		diag_print(&base.diags, stderr);
		fprintf(stderr, "fuzz_import: cannot load the app library (run from the source tree)\n");
		exit(1);
	}
	devnull = fopen("/dev/null", "w");
	return 0;
}

static int fuzz_import(enum import_format fmt, const char *name, const uint8_t *data, size_t size)
{
	struct sources srcs = {0};
	struct diags d = {0};
	struct imp_set set = {0};
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct source *src = sources_add(&srcs, name, text, size);
	bool ok = import_source(fmt, src, &set, &d);
	if (ok)
		import_resolve(&set, &base.lib, &d);
	diag_print(&d, devnull);
	if (ok && !d.errors) {
		char *out = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&out, &len);
		import_write(&set, fmt, m);
		size_t apps = 0;
		for (size_t i = 0; i < set.apps.n; i++)
			if (!set.apps.v[i]->skipped && ++apps)
				fprintf(m, "allow %s server;\n", set.apps.v[i]->name);
		if (!apps) /* nothing imported: the text is a comment, which no policy is alone */
			fputs("allow tcp/1 server;\n", m);
		fclose(m);
		struct compilation c;
		struct compile_opts o = {.mode = MODE_AS_POLICY};
		if (!compile_policy_text("imported.pin", out, len, &o, &base, &c)) {
			diag_print(&c.diags, stderr);
			fprintf(stderr, "fuzz_import: the import does not compile:\n%s", out);
			abort();
		}
		compilation_free(&c);
		free(out);
	}
	import_set_free(&set);
	diag_free(&d);
	sources_free(&srcs);
	return 0;
}
