/* pinhole import firehol|ufw|firewalld [-o FILE] FILE...: other tools' service databases as
 * pinhole app definitions (compiler/import/). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "import.h"

static const char usage[] =
	"usage: pinhole import FORMAT [OPTIONS] FILE...\n"
	"Turn another firewall's service definitions into pinhole app definitions.\n"
	"FORMAT is one of:\n"
	"  firehol    FireHOL services files (server_NAME_ports=\"tcp/80\", client_NAME_ports,\n"
	"             helper_NAME, require_NAME_modules): /etc/firehol/services/*.conf\n"
	"  ufw        ufw application profiles ([Name], title=, description=, ports=):\n"
	"             /etc/ufw/applications.d/*\n"
	"  firewalld  firewalld service XML, one service per file: /usr/lib/firewalld/services/*.xml\n"
	"  -o, --output FILE  write FILE (- or none: standard output); on error it is left alone\n"
	"  -L, --library DIR  also search DIR for apps: an imported name that is taken gets a note\n"
	"  -q, --quiet        print errors only, not the notes on what was not carried over\n"
	"  -h, --help         this help\n"
	"Each app's flows run client -> server on the ports the database lists; what cannot be\n"
	"carried over is a note on standard error (docs/migrating.md). Exit 0 written, 2 bad input.\n";

/* The whole text is made first, then written: a regular FILE through FILE.tmp and a rename. */
static int write_text(const char *text, size_t len, const char *path)
{
	if (!path || !strcmp(path, "-")) {
		fwrite(text, 1, len, stdout);
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_INTERNAL;
	}
	struct stat st;
	bool regular = !(stat(path, &st) == 0 && !S_ISREG(st.st_mode));
	char *tmp = regular ? xasprintf("%s.tmp.%d", path, (int)getpid()) : xstrdup(path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "pinhole: error: cannot write '%s': %s\n", path, strerror(errno));
		free(tmp);
		return EXIT_BAD_INPUT;
	}
	bool failed = fwrite(text, 1, len, f) != len;
	failed |= fclose(f) != 0;
	if (failed || (regular && rename(tmp, path) != 0)) {
		fprintf(stderr, "pinhole: error: cannot write '%s': %s\n", path, strerror(errno));
		if (regular)
			unlink(tmp);
		free(tmp);
		return EXIT_INTERNAL;
	}
	free(tmp);
	return EXIT_OK;
}

static bool read_inputs(enum import_format fmt, const char *const *files, size_t n,
			struct sources *srcs, struct imp_set *set, struct diags *d)
{
	bool ok = true;
	for (size_t i = 0; i < n && !diag_too_many(d); i++) {
		size_t len;
		char *why = NULL;
		char *text = load_read_file(files[i], &len, &why);
		if (!text) {
			diag_error(d, NULL, "cannot read '%s': %s", files[i], why);
			free(why);
			ok = false;
			continue;
		}
		char *name = util_path_clean(files[i]);
		struct source *src = sources_add(srcs, name, text, len);
		free(name);
		ok &= import_source(fmt, src, set, d);
		if (set->apps.n > IMPORT_MAX_APPS) {
			diag_error(d, NULL, "more than %d apps in one import", IMPORT_MAX_APPS);
			return false;
		}
	}
	return ok;
}

int cmd_import(struct cli *cli, int argc, char **argv)
{
	const char *out = NULL, *format = NULL;
	VEC(const char *) files = {0};
	for (int i = 1; i < argc; i++) {
		if (cli_help_arg(argv[i])) {
			VEC_FREE(files);
			return cli_help(usage);
		}
		int r = cli_common_option(cli, argc, argv, &i);
		if (r == 0)
			r = cli_value("import", argc, argv, &i, "-o", "--output", &out);
		if (r < 0) {
			VEC_FREE(files);
			return EXIT_BAD_INPUT;
		}
		if (r)
			continue;
		if (argv[i][0] == '-' && argv[i][1]) {
			VEC_FREE(files);
			return cli_usage_error("import", "unknown option '%s'", argv[i]);
		}
		if (!format)
			format = argv[i];
		else
			VEC_PUSH(files, argv[i]);
	}
	enum import_format fmt;
	if (!format || !files.n) {
		VEC_FREE(files);
		return cli_usage_error("import", "which format and files? pinhole import "
				       "firehol|ufw|firewalld FILE...");
	}
	if (!import_format_parse(format, &fmt)) {
		VEC_FREE(files);
		return cli_usage_error("import", "unknown format '%s' (available: firehol, ufw, firewalld)",
				       format);
	}
	/* The library, to tell which imported names it already has. */
	struct compilation lib;
	bool ok = compile_library(&cli->copts, &lib);
	struct sources srcs = {0};
	struct diags d = {0};
	struct imp_set set = {0};
	if (ok)
		ok = read_inputs(fmt, files.v, files.n, &srcs, &set, &d);
	if (ok)
		import_resolve(&set, &lib.lib, &d);
	ok = ok && !d.errors;
	cli_diag_print(&lib.diags, stderr);
	cli_diag_print(&d, stderr);
	int rc = EXIT_BAD_INPUT;
	if (ok) {
		char *text = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&text, &len);
		if (!m) {
			rc = EXIT_INTERNAL;
		} else {
			import_write(&set, fmt, m);
			rc = fclose(m) == 0 ? write_text(text, len, out) : EXIT_INTERNAL;
		}
		free(text);
	}
	import_set_free(&set);
	diag_free(&d);
	sources_free(&srcs);
	compilation_free(&lib);
	VEC_FREE(files);
	return rc;
}
