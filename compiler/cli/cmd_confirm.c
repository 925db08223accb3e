/* pinhole confirm [--netns NAME] [--state-dir DIR]: keeps the ruleset that a pending
 * `apply --confirm` loaded, from any shell, even after the apply process died: drops the saved
 * previous ruleset and stops its watchdog (rollback.h). Exit 0 confirmed, 1 nothing pending. */
#include <string.h>
#include <time.h>

#include "cli.h"
#include "rollback.h"

static const char usage[] =
	"usage: pinhole confirm [OPTIONS]\n"
	"Keep the ruleset a pending 'pinhole apply --confirm' loaded, from any shell (also after\n"
	"the apply process died): its watchdog then restores nothing. Exit 0 confirmed, 1 nothing\n"
	"was pending (already confirmed, or rolled back).\n"
	"  --netns NAME         the apply ran with --netns NAME\n"
	"  --state-dir DIR      the apply ran with --state-dir DIR (default $PINHOLE_STATE_DIR\n"
	"                       or " ROLLBACK_STATE_DIR ")\n"
	"  -q, --quiet          print errors only\n"
	"  -v, --verbose        also say which files and processes were involved\n"
	"  -h, --help           this help\n";

int cmd_confirm(struct cli *cli, int argc, char **argv)
{
	const char *netns = NULL, *dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (cli_help_arg(argv[i]))
			return cli_help(usage);
		int r = cli_common_option(cli, argc, argv, &i);
		if (r == 0)
			r = cli_value("confirm", argc, argv, &i, NULL, "--netns", &netns);
		if (r == 0)
			r = cli_value("confirm", argc, argv, &i, NULL, "--state-dir", &dir);
		if (r < 0)
			return EXIT_BAD_INPUT;
		if (!r)
			return cli_usage_error("confirm", "unknown argument '%s'", argv[i]);
	}
	struct rollback rb;
	char *why = NULL;
	if (rollback_init(&rb, dir, netns, &why) < 0) {
		int rc = cli_usage_error("confirm", "%s", why);
		free(why);
		return rc;
	}
	struct rollback_info info;
	int r = rollback_confirm(&rb, true, &info, &why);
	int rc = EXIT_OK;
	if (r == 0) {
		if (!cli_quiet)
			printf("confirmed: the ruleset of %s stays%s%s\n", info.policy[0] ? info.policy : "the pending apply",
			       netns ? " in network namespace " : "", netns ? netns : "");
		if (cli_verbose)
			fprintf(stderr, "pinhole confirm: removed %s; watchdog pid %ld, apply pid %ld (told with "
					"SIGUSR1 if still running)\n", rb.batch_path, info.watchdog, info.apply);
	} else {
		fprintf(stderr, "pinhole confirm: nothing to confirm%s%s: no 'apply --confirm' is waiting "
				"(already confirmed, or rolled back: see %s)\n",
			netns ? " in network namespace " : "", netns ? netns : "", rb.log_path);
		rc = EXIT_FINDINGS;
	}
	free(why);
	rollback_free(&rb);
	return rc;
}
