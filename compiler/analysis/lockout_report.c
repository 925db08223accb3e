/* The lockout guard's message: the session, and each of its packets with the rule (or chain
 * policy) that decides it, so the user sees why before anything is changed. */
#include <stdlib.h>

#include "lockout.h"

void lockout_report(FILE *out, const char *cmd, const char *policy, const struct ssh_session *s,
		    const struct lockout_probe probes[LOCKOUT_PROBES], bool allow_lockout)
{
	char who[160];
	ssh_session_format(s, who, sizeof(who));
	fprintf(out, "pinhole %s: %s %s would cut the SSH session this command runs in\n"
		     "  (SSH_CONNECTION: %s%s%s):\n",
		cmd, allow_lockout ? "warning:" : "refusing:", policy, who, s->iface[0] ? ", interface " : "",
		s->iface);
	for (int i = 0; i < LOCKOUT_PROBES; i++) {
		const struct lockout_probe *p = &probes[i];
		fprintf(out, "    %-36s %s", p->what, ir_action_name(p->v.action));
		if (!p->v.rule) {
			fprintf(out, " (no rule matched: the %s chain's policy is drop)\n", ir_hook_name(p->pkt.hook));
		} else {
			char *why = ir_origin_describe(&p->v.rule->origin);
			fprintf(out, " (%s)\n", why);
			free(why);
		}
	}
	if (allow_lockout)
		fprintf(out, "  --allow-lockout given: applying anyway.\n");
	else
		fprintf(out, "  Allow ssh from where you are (e.g. 'allow ssh server from ADDRESS;'), or pass\n"
			     "  --allow-lockout (best with --confirm SECONDS, which rolls back unless you confirm).\n");
}
