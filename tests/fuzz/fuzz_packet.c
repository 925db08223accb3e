/* libFuzzer target for explain's input: any bytes as lines of packets (`pinhole explain POLICY -`)
 * against a fixed policy that uses zones, scoped channels, helpers and both families. Each line
 * goes through packet_parse, the evaluator and explain's report; a bad line must give a located
 * error, never a crash. The first byte picks brief mode. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "packet.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct compilation policy;
static FILE *devnull;

static const char policy_text[] =
	"zone lan { interface lan0, \"wlan*\"; address 10.0.0.0/8, fd00:a::/64; }\n"
	"zone wan { interface wan0; }\n"
	"define office = 192.0.2.0/24, 2001:db8::/32;\n"
	"allow ssh server from office;\n"
	"allow http, https, dns, ntp, ping client;\n"
	"allow ftp client;\n"
	"allow realplayer client;\n"
	"allow nfs server from lan;\n"
	"allow ping server;\n"
	"allow http, ftp, realplayer from lan to wan;\n"
	"reject tcp/113 from wan to lan;\n"
	"log unmatched;\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	static const char *dirs[] = {"stdlib-apps"};
	struct compile_opts o = {.libdirs = dirs, .nlibdirs = 1};
	if (!compile_policy_text("fuzz.pin", policy_text, sizeof(policy_text) - 1, &o, NULL, &policy)) {
		diag_print(&policy.diags, stderr);
		fprintf(stderr, "fuzz_packet: the fixed policy does not compile (run from the source tree)\n");
		exit(1);
	}
	devnull = fopen("/dev/null", "w");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool brief = size > 0 && (data[0] & 1);
	/* One line by itself, as `pinhole explain POLICY 'PACKET'` takes it. */
	char *one = malloc(size + 1);
	memcpy(one, data, size);
	one[size] = '\0';
	struct packet_text pt;
	char *why = NULL;
	int col = 0;
	if (packet_parse(one, &pt, &why, &col))
		free(packet_describe(&pt.pkt));
	else
		free(why);
	free(one);
	/* Every line, as a batch from stdin. */
	FILE *in = fmemopen((void *)data, size, "r");
	if (in) {
		(void)explain_batch(&policy, in, "-", brief, devnull, devnull);
		fclose(in);
	}
	return 0;
}
