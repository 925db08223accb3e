#include "diag.h"
#include "util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest stretch of a source line quoted under a diagnostic: long lines are cut around the column. */
#define QUOTE_WIDTH 100

static const struct diag_rule rules[DIAG_ID_COUNT] = {
	[DIAG_NONE] = {"PH000", "none", SEV_NOTE, "no finding"},
	[DIAG_E_SYNTAX] = {"PH001", "syntax", SEV_ERROR, "the text is not a policy: a syntax error"},
	[DIAG_E_INPUT] = {"PH002", "input", SEV_ERROR,
			  "a file cannot be read: missing, not text, an include cycle or too deep"},
	[DIAG_E_UNKNOWN_NAME] = {"PH003", "unknown-name", SEV_ERROR,
				 "an unknown app, address name or ICMP type"},
	[DIAG_E_POLICY] = {"PH004", "policy", SEV_ERROR, "a statement that cannot mean anything"},
	[DIAG_E_APP] = {"PH005", "app-definition", SEV_ERROR, "an app or flow definition is wrong"},
	[DIAG_E_BACKEND] = {"PH006", "backend", SEV_ERROR, "the target cannot say a rule exactly"},
	[DIAG_W_OTHER] = {"PH100", "warning", SEV_WARNING, "a warning of no other kind"},
	[DIAG_W_OVERLAP] = {"PH101", "overlapping-addresses", SEV_WARNING,
			    "an address list holds addresses that others in it already cover"},
	[DIAG_W_REPEATED] = {"PH102", "repeated-setting", SEV_WARNING,
			     "'established only' or 'log unmatched' given twice"},
	[DIAG_W_ALLOWS_NOTHING] = {"PH103", "allows-nothing", SEV_WARNING,
				   "the policy has no allow: every packet is dropped"},
	[DIAG_W_UNUSED_DEFINE] = {"PH104", "unused-define", SEV_WARNING, "a define no rule uses"},
	[DIAG_W_REDUNDANT] = {"PH105", "redundant-statement", SEV_WARNING,
			      "a statement adds nothing: without it every packet gets the same verdict"},
	[DIAG_W_USELESS_DENY] = {"PH106", "useless-deny", SEV_WARNING,
				 "a deny closes nothing: without it no packet it matches is allowed"},
	[DIAG_W_STATELESS] = {"PH107", "stateless-fallback", SEV_WARNING,
			      "in stateless mode a flow that needs state opens a wider static hole"},
	[DIAG_W_FAMILY] = {"PH108", "family-without-rules", SEV_WARNING,
			   "an iptables target gets no rules, or misses the other family's"},
	[DIAG_W_BAD_SUPPRESSION] = {"PH109", "bad-suppression", SEV_WARNING,
				    "a '# pinhole: ignore' comment without a known ID or a reason"},
	[DIAG_W_UNUSED_SUPPRESSION] = {"PH110", "unused-suppression", SEV_WARNING,
				       "a '# pinhole: ignore' comment that suppresses nothing"},
	[DIAG_W_FAMILY_NARROWING] = {"PH111", "family-narrowing", SEV_WARNING,
				     "0.0.0.0/0 (or ::/0) without the other family makes a rule one family only"},
	[DIAG_W_SHADOWED] = {"PH112", "shadowed-statement", SEV_WARNING,
			     "a statement decides nothing: statements before it decide its packets, "
			     "some of them the other way"},
	[DIAG_W_FAMILY_PARITY] = {"PH113", "family-parity", SEV_WARNING,
				  "an app is allowed over IPv4 only or IPv6 only, by its address lists"},
	[DIAG_W_ADMIN_PORT] = {"PH114", "broad-admin-access", SEV_WARNING,
			       "an administration port (ssh, telnet, rdp, vnc, ...) is open, or port "
			       "forwarded, to public addresses"},
	[DIAG_W_MGMT_LOCKOUT] = {"PH115", "management-lockout", SEV_WARNING,
				 "a management network (check --mgmt) cannot reach ssh on this host"},
	[DIAG_W_FORWARD_DENIED] = {"PH116", "forward-denied", SEV_WARNING,
				   "a port forward whose rewritten connections the filter drops, each of them"},
	[DIAG_W_ALLOW_NO_FORWARD] = {"PH117", "allow-without-forward", SEV_WARNING,
				     "an allow towards masqueraded hosts that no port forward leads to"},
	[DIAG_W_TARGET_HELPER] = {"PH118", "target-lacks-helper", SEV_WARNING,
				  "(check -t iptables|ip6tables) helper channels the target cannot open "
				  "per connection: its file opens their static fallback"},
	[DIAG_W_OWNED_FORWARD] = {"PH119", "owned-forward", SEV_WARNING,
				  "a gateway rule about a zone whose forwarded traffic is left to its "
				  "owner ('forward owned'): the rule decides none of it"},
	[DIAG_N_PEER_RESTRICTION] = {"PH201", "restriction-hits-peers", SEV_NOTE,
				     "a from/to restriction also applies to an app's peer-to-peer flows"},
	[DIAG_N_BROADCAST_RESTRICTION] = {"PH202", "restriction-hits-broadcasts", SEV_NOTE,
					  "a from/to list of hosts only also limits this host's broadcasts "
					  "to those hosts"},
	[DIAG_N_NEEDS_PINHOLED] = {"PH203", "needs-pinholed", SEV_NOTE,
				   "a statement uses helper channels: pinholed must run to open them"},
};

const struct diag_rule *diag_rule(enum diag_id id)
{
	return id > DIAG_NONE && id < DIAG_ID_COUNT ? &rules[id] : &rules[DIAG_NONE];
}

enum diag_id diag_rule_find(const char *s)
{
	for (int i = DIAG_NONE + 1; i < DIAG_ID_COUNT; i++)
		if (!strcasecmp(s, rules[i].code) || !strcmp(s, rules[i].name))
			return (enum diag_id)i;
	return DIAG_NONE;
}

static void diag_vadd(struct diags *d, enum diag_id id, enum severity sev, const struct loc *loc,
		      const char *fmt, va_list ap)
{
	if (id == DIAG_NONE && sev == SEV_ERROR)
		id = d->stage != DIAG_NONE ? d->stage : DIAG_E_POLICY;
	else if (id == DIAG_NONE && sev == SEV_WARNING)
		id = DIAG_W_OTHER;
	struct diag item = {.sev = sev, .id = id};
	if (loc)
		item.loc = *loc;
	struct strbuf sb = {0};
	sb_vprintf(&sb, fmt, ap);
	item.msg = sb_steal(&sb);
	VEC_PUSH(*d, item);
	if (sev == SEV_ERROR)
		d->errors++;
	else if (sev == SEV_WARNING)
		d->warnings++;
}

void diag_add(struct diags *d, enum severity sev, const struct loc *loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(d, DIAG_NONE, sev, loc, fmt, ap);
	va_end(ap);
}

void diag_add_id(struct diags *d, enum diag_id id, enum severity sev, const struct loc *loc,
		 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vadd(d, id, sev, loc, fmt, ap);
	va_end(ap);
}

bool diag_too_many(const struct diags *d)
{
	return d->errors >= MAX_ERRORS;
}

const char *diag_severity_name(enum severity s)
{
	switch (s) {
	case SEV_ERROR: return "error";
	case SEV_WARNING: return "warning";
	case SEV_NOTE: return "note";
	}
	return "error";
}

/* Finds line `line` (1-based) of src; returns its start and sets *len. */
static const char *find_line(const struct source *src, int line, size_t *len)
{
	const char *p = src->text, *end = src->text + src->len;
	for (int l = 1; l < line && p < end; l++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return NULL;
		p = nl + 1;
	}
	if (p > end)
		return NULL;
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	*len = (size_t)((nl ? nl : end) - p);
	return p;
}

/* Control bytes and non-ASCII are shown as '?' so junk input cannot garble the terminal. */
void diag_caret(FILE *out, const char *indent, const char *line, size_t len, int column, int width)
{
	size_t col = column > 0 ? (size_t)column - 1 : 0;
	size_t w = width > 0 ? (size_t)width : 1;
	size_t start = 0;
	if (col > QUOTE_WIDTH / 2 && len > QUOTE_WIDTH)
		start = col - QUOTE_WIDTH / 2;
	size_t stop = len < start + QUOTE_WIDTH ? len : start + QUOTE_WIDTH;
	fputs(indent, out);
	fputs(start ? "..." : "", out);
	for (size_t i = start; i < stop; i++) {
		unsigned char c = (unsigned char)line[i];
		fputc(c == '\t' ? ' ' : (c < 0x20 || c >= 0x7f) ? '?' : c, out);
	}
	fputs(stop < len ? "...\n" : "\n", out);
	fputs(indent, out);
	size_t pad = (start ? 3 : 0) + (col >= start ? col - start : 0);
	for (size_t i = 0; i < pad; i++)
		fputc(' ', out);
	fputc('^', out);
	if (w > QUOTE_WIDTH)
		w = QUOTE_WIDTH;
	for (size_t i = 1; i < w && col + i < stop; i++)
		fputc('~', out);
	fputc('\n', out);
}

static void quote_line(FILE *out, const struct loc *loc)
{
	size_t len;
	const char *line = find_line(loc->src, loc->first_line, &len);
	if (!line)
		return;
	int width = 1;
	if (loc->last_line == loc->first_line && loc->last_column >= loc->first_column)
		width = loc->last_column - loc->first_column + 1;
	diag_caret(out, "", line, len, loc->first_column, width);
}

void diag_print_one(const struct diag *g, enum severity sev, bool tag, FILE *out)
{
	const char *code = tag && g->id != DIAG_NONE ? diag_rule(g->id)->code : NULL;
	if (g->loc.src)
		fprintf(out, "%s:%d:%d: ", g->loc.src->name, g->loc.first_line, g->loc.first_column);
	else
		fputs("pinhole: ", out);
	fprintf(out, "%s: %s%s%s%s\n", diag_severity_name(sev), g->msg, code ? " [" : "",
		code ? code : "", code ? "]" : "");
	if (g->loc.src)
		quote_line(out, &g->loc);
}

void diag_print(const struct diags *d, FILE *out)
{
	for (size_t i = 0; i < d->n; i++)
		diag_print_one(&d->v[i], d->v[i].sev, false, out);
}

void diag_free(struct diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].msg);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

struct source *sources_add(struct sources *s, const char *name, char *text, size_t len)
{
	struct source *src = xcalloc(1, sizeof(*src));
	src->name = xstrdup(name);
	src->text = text;
	src->len = len;
	VEC_PUSH(*s, src);
	return src;
}

void sources_free(struct sources *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i]->name);
		free(s->v[i]->text);
		free(s->v[i]);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

void diag_append(struct diags *to, struct diags *from)
{
	for (size_t i = 0; i < from->n; i++)
		VEC_PUSH(*to, from->v[i]);
	to->errors += from->errors;
	to->warnings += from->warnings;
	VEC_FREE(*from);
	from->errors = from->warnings = 0;
}
