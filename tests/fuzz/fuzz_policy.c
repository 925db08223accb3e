/* libFuzzer target: any bytes as a policy must give diagnostics or a ruleset, never a crash, a
 * leak or undefined behaviour. The policy comes from memory and the app library is loaded once;
 * every policy that compiles goes through every backend: nft text, the netlink objects and the
 * batch that would replace the table (built into a buffer, no socket), and iptables-restore
 * text for both families. Build and run: make fuzz [FUZZ_SECONDS=60]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnftnl/batch.h>

#include "backend.h"
#include "compile.h"
#include "nft_netlink.h"
#include "nft_nlsock.h"

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
	const char *lib = getenv("PINHOLE_FUZZ_LIB");
	if (lib)
		dirs[0] = lib;
	if (!compile_library(&o, &base)) {
		diag_print(&base.diags, stderr);
		fprintf(stderr, "fuzz_policy: cannot load the app library (run from the source tree)\n");
		exit(1);
	}
	devnull = fopen("/dev/null", "w");
	return 0;
}

static void netlink(const struct ir_ruleset *ir)
{
	struct nl_ruleset nl;
	nl_ruleset_init(&nl, 1 /* NFPROTO_INET */, PINHOLE_TABLE);
	if (nl_from_ir(ir, &nl) == 0) {
		struct nftnl_batch *b = nl_batch_alloc();
		struct nl_msgmap map = {0};
		if (b) {
			for (int commit = 0; commit < 2; commit++)
				(void)nl_batch_replace(b, &nl, 1, commit, &map), nl_msgmap_free(&map);
			nftnl_batch_free(b);
		}
	}
	nl_ruleset_free(&nl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The first byte picks the mode, as --stateful/--stateless would. */
	struct compile_opts o = {.mode = MODE_AS_POLICY};
	if (size > 0 && (data[0] == '\x01' || data[0] == '\x02')) {
		o.mode = data[0] == '\x01' ? MODE_STATEFUL : MODE_STATELESS;
		data++;
		size--;
	}
	struct compilation c;
	if (compile_policy_text("fuzz.pin", (const char *)data, size, &o, &base, &c)) {
		struct render_info info = {.policy = "fuzz.pin", .version = "fuzz"};
		nft_render(&c.ir, &info, devnull);
		netlink(&c.ir);
		(void)ipt_render(&c.ir, IR_V4, &info, devnull);
		(void)ipt_render(&c.ir, IR_V6, &info, devnull);
	}
	diag_print(&c.diags, devnull);
	compilation_free(&c);
	return 0;
}
