/* pinhole: firewall policy compiler. Dispatches to the subcommands in cmd_*.c. */
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "cli.h"

#ifndef PINHOLE_VERSION
#define PINHOLE_VERSION "dev"
#endif

static const char usage[] =
	"usage: pinhole [OPTIONS] COMMAND [ARGS]\n"
	"\n"
	"Compile a small firewall policy into a correct, minimal ruleset.\n"
	"\n"
	"commands:\n"
	"  compile [-t TARGET] [-o FILE] POLICY\n"
	"                                      compile to a ruleset (stdout by default); TARGET is\n"
	"                                      nft (default), iptables or ip6tables\n"
	"  check [OPTIONS] POLICY...           parse, resolve and lint; report every finding\n"
	"                                      (options: pinhole check --help)\n"
	"  explain [--brief] POLICY PACKET     the verdict for one packet and the line that decided it;\n"
	"                                      PACKET '-' reads one packet per line from stdin\n"
	"      --why-not LINE     also say why the rules of policy line LINE did not match\n"
	"      --to PROTO/PORT    instead of PACKET: which sources can connect to that port (tcp/22)\n"
	"  diff OLD NEW                        the traffic NEW newly allows and newly denies, exactly,\n"
	"                                      with a witness packet each\n"
	"  apps [APP]                          list the app library, or show one app's flows\n"
	"  apply [OPTIONS] POLICY              load the policy into the kernel in one transaction\n"
	"                                      (netlink, no nft needed); replaces table inet pinhole\n"
	"      --dry-run          let the kernel check it and show what would change; commit nothing\n"
	"      --netns NAME       work in network namespace NAME (ip netns)\n"
	"      --confirm SECONDS  roll back unless confirmed in time: type 'yes', run 'pinhole\n"
	"                         confirm', or send SIGUSR1; survives the death of this process\n"
	"      --state-dir DIR    where --confirm saves the previous ruleset\n"
	"      --allow-lockout    apply even if the new policy would cut this SSH session\n"
	"  confirm [--netns NAME]              keep what a pending 'apply --confirm' loaded\n"
	"  status [--netns NAME] POLICY        does the kernel run this policy? lists differences\n"
	"  import FORMAT [-o FILE] FILE...     FireHOL services, ufw profiles or firewalld service XML\n"
	"                                      (FORMAT firehol, ufw, firewalld) as pinhole apps\n"
	"\n"
	"Every command takes -h/--help. POLICY - reads the policy from standard input; -o - writes\n"
	"to standard output.\n"
	"Options take their value as '--opt VALUE' or '--opt=VALUE' ('-oFILE', '-LDIR' for short ones).\n"
	"\n"
	"options (before or after the command):\n"
	"  -L, --library DIR  also search DIR for app definitions (before the standard library);\n"
	"                 $PINHOLE_LIB (colon separated) does the same\n"
	"  --stateless    compile as if the policy said 'established only;'\n"
	"  --stateful     compile with connection tracking even if the policy says 'established only;'\n"
	"  -q, --quiet    print errors only: no warnings, no success lines\n"
	"  -v, --verbose  also say what was read, how long it took, what apply saved\n"
	"  -h, --help     this help\n"
	"  --version      print the version\n"
	"\n"
	"PACKET: PROTO SRC -> DST DIR [flags...], quoted for the shell, e.g.\n"
	"  pinhole explain fw.pin 'tcp 192.0.2.7:40000 -> 10.0.0.5:2049 in syn'\n"
	"  pinhole explain fw.pin 'udp [fd00::7]:5353 -> [fd00::5]:53 out'\n"
	"  pinhole explain fw.pin 'icmp 10.0.0.7 -> 10.0.0.5 in echo-request'\n"
	"  pinhole explain fw.pin 'esp 192.0.2.7 -> 10.0.0.5 in'\n"
	"  DIR is in, out or fwd; flags: syn ack fin rst psh urg, new established related invalid,\n"
	"  iif NAME, oif NAME, helper TYPE, fragment.\n"
	"\n"
	"Input: policy and include files must be regular files of at most 16 MiB, 64 MiB with all\n"
	"their includes.\n"
	"\n"
	"exit status: 0 success, 1 findings (check), dropped (explain), not applied (apply: kernel\n"
	"refused, lockout guard, rolled back), differs (status) or nothing to confirm (confirm),\n"
	"2 bad input or usage, 3 internal error.\n"
	"The policy language: docs/language.md. The library: pinhole apps.\n";

int main(int argc, char **argv)
{
#ifdef __GLIBC__
	/* Every large vector (a policy's rules, a merge's candidates) in a mapping of its own,
	 * returned to the system when freed. glibc otherwise raises this threshold to the largest
	 * block freed so far, and the stages after it take their vectors from the heap, where
	 * the freed ones stay resident: about a fifth more peak RSS at 50,000 entries. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	/* No fast bins: a freed small block is merged with its free neighbours and serves a
	 * request of any size, where a fast bin keeps it for its exact size only. A stage that
	 * frees one kind of small block as it allocates another (the merge frees each member's
	 * steps as it words its comment) otherwise takes fresh memory for every one. */
	mallopt(M_MXFAST, 0);
#endif
	struct cli cli = {0};
	int i = 1;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			VEC_FREE(cli.libdirs);
			return EXIT_OK;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("pinhole %s\n", PINHOLE_VERSION);
			VEC_FREE(cli.libdirs);
			return EXIT_OK;
		}
		int r = cli_common_option(&cli, argc, argv, &i);
		if (r < 0) {
			VEC_FREE(cli.libdirs);
			return EXIT_BAD_INPUT;
		}
		if (!r)
			break;
	}
	if (i >= argc) {
		fputs(usage, stderr);
		VEC_FREE(cli.libdirs);
		return EXIT_BAD_INPUT;
	}
	static const struct {
		const char *name;
		int (*fn)(struct cli *, int, char **);
	} cmds[] = {
		{"compile", cmd_compile},
		{"check", cmd_check},
		{"explain", cmd_explain},
		{"diff", cmd_diff},
		{"apps", cmd_apps},
		{"apply", cmd_apply},
		{"status", cmd_status},
		{"confirm", cmd_confirm},
		{"import", cmd_import},
	};
	int rc = -1;
	for (size_t k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
		if (!strcmp(argv[i], cmds[k].name))
			rc = cmds[k].fn(&cli, argc - i, argv + i);
	if (rc < 0)
		rc = cli_usage_error(NULL, "unknown command '%s'", argv[i]);
	VEC_FREE(cli.libdirs);
	return rc;
}
