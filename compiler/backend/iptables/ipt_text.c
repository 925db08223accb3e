/*
 * iptables-restore backend: the IR's rules of one family as a file for `iptables-restore
 * --noflush` (IPv4) or `ip6tables-restore --noflush` (IPv6).
 *
 * pinhole keeps to chains of its own (PINHOLE-INPUT, -FORWARD, -OUTPUT in the filter table,
 * PINHOLE-PREROUTING and -OUTPUT in the raw table for conntrack helpers), so loading never
 * flushes what other software keeps in the same tables. Each `:PINHOLE-...` line creates the
 * chain or, under --noflush, empties it; the built-in chains need one jump each, which each
 * table's end deletes and inserts again at the top (the first load adds them by the header's
 * commands instead: docs/iptables.md). The default drop is the last rule of each filter chain.
 *
 * iptables has no sets here (plain iptables, no ipset), one interface per rule and at most 15
 * ports per multiport match, so one IR rule may become several lines: the cross product of its
 * interfaces, prefixes and port chunks, all with the same comment and target. The dynamic sets
 * of scoped channels are xt_recent lists: `--set` records (and refreshes) a peer, `--rcheck
 * --seconds N` admits a peer recorded within N seconds.
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "diag.h"
#include "icmp.h"

#define IPT_COMMENT_MAX 255   /* xt_comment: 256 bytes with the NUL */
#define IPT_LOG_PREFIX_MAX 29 /* LOG target: 30 bytes with the NUL */
#define IPT_IFNAME_MAX 15     /* IFNAMSIZ - 1 */
#define IPT_MULTIPORT_MAX 15  /* xt_multiport: a range takes two of the 15 slots */
#define IPT_RECENT_NAME_MAX 199 /* xt_recent: 200 bytes with the NUL */

static const char *chain_name(enum ir_hook h)
{
	switch (h) {
	case IR_PREROUTING: return "PINHOLE-PREROUTING";
	case IR_INPUT: return "PINHOLE-INPUT";
	case IR_FORWARD: return "PINHOLE-FORWARD";
	case IR_OUTPUT: return "PINHOLE-OUTPUT";
	/* in the nat table, jumped to from its PREROUTING and POSTROUTING */
	case IR_DSTNAT: return "PINHOLE-PREROUTING";
	case IR_SRCNAT: return "PINHOLE-POSTROUTING";
	case IR_HOOK_COUNT: break;
	}
	return "?";
}

static bool in_family(const struct ir_rule *r, uint8_t family)
{
	return !r->family || r->family == family;
}

/* A rule's matches decoded into the shape iptables writes them in: each kind goes to its
 * option, whatever order; absent ones stay empty (any). The switch names every kind. */
struct ipt_view {
	struct ir_ifset iif, oif;
	uint8_t l4proto;
	struct ir_addrset saddr, daddr;
	struct ir_portset sport, dport; /* a same-port match keeps its ports in sport */
	bool same_port;
	uint8_t tcp_flags_mask, tcp_flags_cmp, tcp_flags_any;
	uint8_t ct_state;
	const char *ct_helper;
	int icmp_type;                  /* -1 = any */
	bool fragment;
	bool dst_local, ct_dnat;
	struct ir_setref in_set;
	const struct ir_limit *limit;   /* NULL = none */
};

static void view_of(const struct ir_rule *r, struct ipt_view *v)
{
	memset(v, 0, sizeof(*v));
	v->icmp_type = -1;
	for (size_t i = 0; i < r->match.n; i++) {
		const struct ir_match *m = &r->match.v[i];
		switch (m->kind) {
		case IR_M_IIF: v->iif = m->u.ifs; break;
		case IR_M_OIF: v->oif = m->u.ifs; break;
		case IR_M_SADDR: v->saddr = m->u.addrs; break;
		case IR_M_DADDR: v->daddr = m->u.addrs; break;
		case IR_M_IN_SET: v->in_set = m->u.set; break;
		case IR_M_FRAGMENT: v->fragment = true; break;
		case IR_M_L4PROTO: v->l4proto = m->u.proto; break;
		case IR_M_SPORT: v->sport = m->u.ports; break;
		case IR_M_DPORT: v->dport = m->u.ports; break;
		case IR_M_SAME_PORT:
			v->sport = m->u.ports;
			v->same_port = true;
			break;
		case IR_M_TCP_FLAGS:
			v->tcp_flags_mask = m->u.flags.mask;
			v->tcp_flags_cmp = m->u.flags.cmp;
			break;
		case IR_M_TCP_FLAGS_ANY: v->tcp_flags_any = m->u.flags.mask; break;
		case IR_M_ICMP_TYPE: v->icmp_type = m->u.icmp_type; break;
		case IR_M_CT_STATE: v->ct_state = m->u.ct_state; break;
		case IR_M_CT_HELPER: v->ct_helper = m->u.helper; break;
		case IR_M_DADDR_LOCAL: v->dst_local = true; break;
		case IR_M_CT_DNAT: v->ct_dnat = true; break;
		case IR_M_LIMIT: v->limit = &m->u.limit; break;
		}
	}
}

/* ---- range checks: nothing reaches iptables that it would store differently ---- */

/* iptables matches a trailing '+' as a wildcard where the IR (like nft) writes '*'. A '+'
 * anywhere, or a '*' not at the end, would change meaning; quotes and blanks would break
 * the restore file. */
static char *check_ifname(const char *name)
{
	size_t n = strlen(name);
	if (n == 0)
		return xstrdup("an empty interface name cannot be matched");
	if (n > IPT_IFNAME_MAX)
		return xasprintf("interface name '%s' is longer than %d characters", name,
				 IPT_IFNAME_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '*' && i == n - 1 && n > 1)
			continue;
		if (c == '*' || c == '+')
			return xasprintf("interface name '%s': iptables knows only a trailing '*' wildcard "
					 "(written '+'), and no literal '+'", name);
		if (c <= ' ' || c == '"' || c == '\'' || c == '\\' || c == '/' || c == ':' || c >= 0x7f)
			return xasprintf("interface name '%s' has a character iptables cannot take", name);
	}
	return NULL;
}

static char *check_ports(const struct ir_portset *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].lo > p->v[i].hi)
			return xasprintf("port range %u-%u runs backwards", p->v[i].lo, p->v[i].hi);
	return NULL;
}

static char *check_addrs(const struct ir_addrset *a, uint8_t family)
{
	for (size_t i = 0; i < a->n; i++) {
		const struct ir_prefix *p = &a->v[i];
		if (p->family != family || p->len > (family == IR_V6 ? 128 : 32))
			return xstrdup("an address of the wrong family or prefix length");
	}
	return NULL;
}

/* An xt_recent list: a dynamic set of this family, with a name the match can hold. */
static char *check_setref(const struct ir_ruleset *rs, const struct ir_setref *ref, uint8_t family)
{
	if (!ref->name)
		return NULL;
	const struct ir_dynset *ds = ir_dynset_find(rs, ref->name);
	if (!ds || ds->family != family)
		return xasprintf("dynamic set '%s' is not a set of this family", ref->name);
	size_t n = strlen(ref->name);
	if (!n || n > IPT_RECENT_NAME_MAX)
		return xasprintf("dynamic set name '%s' does not fit an xt_recent list name", ref->name);
	for (size_t i = 0; i < n; i++) {
		char c = ref->name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return xasprintf("dynamic set name '%s' has a character iptables cannot take",
					 ref->name);
	}
	if (!ds->timeout)
		return xasprintf("dynamic set '%s' has no timeout", ref->name);
	return NULL;
}

static char *check_rule(const struct ir_ruleset *rs, const struct ir_rule *r, uint8_t family)
{
	char *why = NULL;
	struct ipt_view view, *v = &view;
	view_of(r, v);
	const struct ir_ifset *ifs[2] = {&v->iif, &v->oif};
	for (int k = 0; k < 2 && !why; k++)
		for (size_t i = 0; i < ifs[k]->n && !why; i++)
			why = check_ifname(ifs[k]->v[i]);
	if (!why)
		why = check_ports(&v->sport);
	if (!why)
		why = check_ports(&v->dport);
	if (!why)
		why = check_addrs(&v->saddr, family);
	if (!why)
		why = check_addrs(&v->daddr, family);
	if (!why)
		why = check_setref(rs, &v->in_set, family);
	if (!why)
		why = check_setref(rs, &r->add_set, family);
	if (why)
		return why;
	if ((v->in_set.name || r->add_set.name) && r->family != family)
		return xstrdup("a dynamic set in a rule without a family");
	if ((r->action == IR_SET_ADD) != (r->add_set.name != NULL))
		return xstrdup("a dynamic set update without its set");
	/* pinholed's sets are nft sets: the iptables targets compile negotiated channels in
	 * static mode (compile_opts.negotiated_static), so these never reach here. */
	if (r->action == IR_HELPER_COPY || (v->in_set.name && v->in_set.keyed))
		return xstrdup("a pinholed channel (iptables targets keep the static fallback)");
	switch (v->l4proto) {
	case 0: case IR_TCP: case IR_UDP: case IR_ESP:
		break;
	case IR_ICMP:
		if (family != IR_V4)
			return xstrdup("ICMP in an IPv6 rule");
		break;
	case IR_ICMPV6:
		if (family != IR_V6)
			return xstrdup("ICMPv6 in an IPv4 rule");
		break;
	default:
		return xasprintf("protocol %u is not rendered", v->l4proto);
	}
	if ((v->sport.n || v->dport.n || v->same_port) && v->l4proto != IR_TCP && v->l4proto != IR_UDP)
		return xstrdup("ports without TCP or UDP");
	if ((v->tcp_flags_mask || v->tcp_flags_any) && v->l4proto != IR_TCP)
		return xstrdup("TCP flags without TCP");
	if ((v->tcp_flags_cmp & ~v->tcp_flags_mask) || ((v->tcp_flags_mask | v->tcp_flags_any) & ~0x3f))
		return xstrdup("TCP flags outside FIN,SYN,RST,PSH,ACK,URG");
	if (v->icmp_type >= 0 && v->l4proto != IR_ICMP && v->l4proto != IR_ICMPV6)
		return xasprintf("ICMP type %d cannot be matched", v->icmp_type);
	if (v->fragment && (v->sport.n || v->dport.n || v->same_port || v->tcp_flags_mask ||
			    v->tcp_flags_any || v->icmp_type >= 0))
		return xstrdup("a non-first fragment has no transport header to match");
	if (v->ct_helper && !helper_type_known(v->ct_helper))
		return xasprintf("unknown conntrack helper '%s'", v->ct_helper);
	if (v->ct_state & ~(CT_NEW | CT_ESTABLISHED | CT_RELATED | CT_INVALID))
		return xstrdup("unknown conntrack state");
	if (r->hook == IR_PREROUTING && r->action != IR_SET_HELPER)
		return xstrdup("a verdict in prerouting");
	bool nat_hook = r->hook == IR_DSTNAT || r->hook == IR_SRCNAT;
	bool nat_action = r->action == IR_DNAT || r->action == IR_SNAT || r->action == IR_MASQUERADE;
	if (nat_hook != nat_action || (r->action == IR_DNAT) != (r->hook == IR_DSTNAT))
		return xstrdup("an address translation outside its chain");
	if ((r->action == IR_DNAT || r->action == IR_SNAT) &&
	    (r->family != family || r->nat.addr.family != family))
		return xstrdup("an address translation to another family");
	if (r->nat.port && v->l4proto != IR_TCP && v->l4proto != IR_UDP)
		return xstrdup("a port translation without TCP or UDP");
	if (r->hook == IR_SRCNAT && v->iif.n)
		return xstrdup("an input interface in POSTROUTING (iptables cannot match it there)");
	if (r->hook == IR_DSTNAT && v->oif.n)
		return xstrdup("an output interface in PREROUTING (not known before routing)");
	if (v->limit && (!v->limit->rate || !v->limit->burst || v->limit->burst > 10000 ||
			 v->limit->rate > 10000 || v->limit->unit > IR_PER_DAY))
		return xstrdup("a rate limit xt_hashlimit cannot hold");
	if ((r->log || r->action == IR_LOG) && r->logopt.level_set && r->logopt.level > 7)
		return xstrdup("a log level outside 0..7");
	if (r->action == IR_SET_HELPER) {
		if (!r->helper || !helper_type_known(r->helper))
			return xasprintf("unknown conntrack helper '%s'", r->helper ? r->helper : "");
		if (v->l4proto != IR_TCP && v->l4proto != IR_UDP)
			return xstrdup("a conntrack helper needs TCP or UDP");
		if (r->hook == IR_INPUT)
			return xstrdup("a conntrack helper assigned in input");
		if (v->ct_state & ~CT_NEW)
			return xstrdup("a conntrack helper assigned to packets of existing connections");
	}
	return NULL;
}

char *ipt_rule_check(const struct ir_ruleset *rs, const struct ir_rule *r, uint8_t family)
{
	return check_rule(rs, r, family);
}

const struct ir_rule *ipt_check(const struct ir_ruleset *rs, uint8_t family, char **why)
{
	for (size_t i = 0; i < rs->rules.n; i++) {
		const struct ir_rule *r = &rs->rules.v[i];
		if (!in_family(r, family))
			continue;
		char *w = check_rule(rs, r, family);
		if (w) {
			*why = w;
			return r;
		}
	}
	*why = NULL;
	return NULL;
}

/* ---- one rule: a fixed part and the alternatives that multiply it ---- */

/* Printable comment text: the provenance, without quotes or control characters. */
static char *comment_text(const struct ir_rule *r)
{
	char *desc = ir_origin_describe(&r->origin);
	if (strlen(desc) > IPT_COMMENT_MAX)
		desc[IPT_COMMENT_MAX] = '\0';
	util_quote_safe(desc);
	return desc;
}

/* The LOG target takes 29 characters of prefix: "pinhole FILE:LINE " loses the directories
 * first, then the start of the file name, never the line number; what falls through to the
 * default drop logs as "pinhole drop HOOK ". */
static char *log_prefix(const struct ir_rule *r)
{
	char *out;
	if (!r->origin.file) {
		out = xasprintf("pinhole drop %s ", ir_hook_name(r->hook));
	} else {
		char *tail = xasprintf(":%d ", r->origin.line);
		const char *slash = strrchr(r->origin.file, '/');
		const char *name = strlen("pinhole ") + strlen(r->origin.file) + strlen(tail) <= IPT_LOG_PREFIX_MAX
				   ? r->origin.file : slash ? slash + 1 : r->origin.file;
		size_t room = IPT_LOG_PREFIX_MAX - strlen("pinhole ") - strlen(tail);
		size_t bl = strlen(name);
		out = xasprintf("pinhole %s%s", bl > room ? name + (bl - room) : name, tail);
		free(tail);
	}
	util_quote_safe(out);
	return out;
}

static void put_ifname(struct strbuf *sb, const char *opt, const char *name)
{
	size_t n = strlen(name);
	if (n && name[n - 1] == '*')
		sb_printf(sb, " %s %.*s+", opt, (int)(n - 1), name);
	else
		sb_printf(sb, " %s %s", opt, name);
}

/* Always with its length, as iptables-save writes it back. */
static void put_prefix(struct strbuf *sb, const char *opt, const struct ir_prefix *p)
{
	char buf[64];
	ir_prefix_format(p, buf, sizeof(buf));
	sb_printf(sb, "%s%s", opt, buf);
	if (!strchr(buf, '/'))
		sb_printf(sb, "/%u", p->len);
}

static void put_range(struct strbuf *sb, const struct ir_portrange *p)
{
	if (p->lo == p->hi)
		sb_printf(sb, "%u", p->lo);
	else
		sb_printf(sb, "%u:%u", p->lo, p->hi);
}

static void put_flags(struct strbuf *sb, uint8_t flags)
{
	static const struct { uint8_t bit; const char *name; } names[] = {
		{TCPF_FIN, "FIN"}, {TCPF_SYN, "SYN"}, {TCPF_RST, "RST"},
		{TCPF_PSH, "PSH"}, {TCPF_ACK, "ACK"}, {TCPF_URG, "URG"},
	};
	if (!flags) {
		sb_puts(sb, "NONE");
		return;
	}
	bool first = true;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (flags & names[i].bit) {
			sb_printf(sb, "%s%s", first ? "" : ",", names[i].name);
			first = false;
		}
	}
}

/* The transport part of one line: a -m tcp/-m udp match with the single port ranges and the
 * TCP flags (iptables takes each option once per match), then multiport matches for port
 * lists. sport/dport: [from, to) slices of the rule's port sets. */
static void put_l4(struct strbuf *sb, const struct ipt_view *v, const struct ir_portrange *sport,
		   size_t ns, const struct ir_portrange *dport, size_t nd)
{
	const char *pr = v->l4proto == IR_UDP ? "udp" : "tcp";
	bool flags = v->l4proto == IR_TCP && (v->tcp_flags_mask || v->tcp_flags_any);
	if (ns == 1 || nd == 1 || flags) {
		sb_printf(sb, " -m %s", pr);
		if (ns == 1) {
			sb_puts(sb, " --sport ");
			put_range(sb, sport);
		}
		if (nd == 1) {
			sb_puts(sb, " --dport ");
			put_range(sb, dport);
		}
		if (v->tcp_flags_mask) {
			sb_puts(sb, " --tcp-flags ");
			put_flags(sb, v->tcp_flags_mask);
			sb_putc(sb, ' ');
			put_flags(sb, v->tcp_flags_cmp);
		}
		if (v->tcp_flags_any) {
			/* "at least one of these set" is "not all of them clear"; one --tcp-flags
			 * per match, so a second test needs a second match. */
			sb_puts(sb, v->tcp_flags_mask ? " -m tcp ! --tcp-flags " : " ! --tcp-flags ");
			put_flags(sb, v->tcp_flags_any);
			sb_puts(sb, " NONE");
		}
	}
	const struct ir_portrange *lists[2] = {sport, dport};
	const size_t ns_nd[2] = {ns, nd};
	for (int k = 0; k < 2; k++) {
		if (ns_nd[k] < 2)
			continue;
		sb_printf(sb, " -m multiport --%s ", k ? "dports" : "sports");
		for (size_t i = 0; i < ns_nd[k]; i++) {
			if (i)
				sb_putc(sb, ',');
			put_range(sb, &lists[k][i]);
		}
	}
}

/* After the transport part: ICMP type, conntrack state, helper. In the raw table conntrack
 * has not run yet: a state match would see every packet as INVALID there. */
static void put_other_matches(struct strbuf *sb, const struct ipt_view *v, bool raw)
{
	if (v->icmp_type >= 0) {
		if (v->l4proto == IR_ICMPV6)
			sb_printf(sb, " -m icmp6 --icmpv6-type %d", v->icmp_type);
		else
			sb_printf(sb, " -m icmp --icmp-type %d", v->icmp_type);
	}
	if (v->ct_state && !raw) {
		static const char *const names[] = {"NEW", "ESTABLISHED", "RELATED", "INVALID"};
		bool first = true;
		sb_puts(sb, " -m conntrack --ctstate ");
		for (int i = 0; i < 4; i++) {
			if (v->ct_state & (1 << i)) {
				sb_printf(sb, "%s%s", first ? "" : ",", names[i]);
				first = false;
			}
		}
	}
	if (v->ct_helper)
		sb_printf(sb, " -m helper --helper %s", v->ct_helper);
	if (v->ct_dnat)
		sb_puts(sb, " -m conntrack --ctstate DNAT");
}

/* xt_recent, written as *-save prints it back: the peer is in the list (seen within the
 * set's timeout), or the rule records it. --mask is the full address: one peer per entry. */
static void put_recent(struct strbuf *sb, const struct ir_ruleset *rs, const struct ir_setref *ref,
		       bool record, uint8_t family)
{
	if (!ref->name)
		return;
	const char *mask = family == IR_V6 ? "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" : "255.255.255.255";
	if (record)
		sb_printf(sb, " -m recent --set --name %s", ref->name);
	else
		sb_printf(sb, " -m recent --rcheck --seconds %u --name %s",
			  ir_dynset_find(rs, ref->name)->timeout, ref->name);
	sb_printf(sb, " --mask %s --%s", mask, ref->src ? "rsource" : "rdest");
}

/* xt_hashlimit, written as *-save prints it back: the rate in the shortest unit that holds it
 * whole (120/minute is 2/sec), and a per-source table's expiry (a quiet source is forgotten
 * once its budget would have refilled) unless it is the printed unit, which *-save leaves out.
 * One table per IR rule, named by the rule and its budget (a reload with a new budget gets a
 * new table: the kernel keeps an existing table's settings), shared by every line of the
 * rule, so a rule written as several lines still has one budget; `tag` tells a LOG line's
 * table apart. Without --hashlimit-mode every packet shares one bucket; srcip: one per source. */
static void put_limit(struct strbuf *sb, const struct ir_ruleset *rs, const struct ir_rule *r,
		      const struct ir_limit *l, const char *tag)
{
	static const struct { uint8_t unit; const char *name; } units[] = {
		{IR_PER_SECOND, "sec"}, {IR_PER_MINUTE, "min"}, {IR_PER_HOUR, "hour"}, {IR_PER_DAY, "day"},
	};
	uint64_t per = ir_rate_unit_seconds(l->unit);
	size_t u = 0;
	while (u + 1 < sizeof(units) / sizeof(units[0]) &&
	       ((uint64_t)l->rate * ir_rate_unit_seconds(units[u].unit)) % per)
		u++;
	uint64_t count = (uint64_t)l->rate * ir_rate_unit_seconds(units[u].unit) / per;
	static const char unit_ch[] = "smhd";
	sb_printf(sb, " -m hashlimit --hashlimit-upto %llu/%s --hashlimit-burst %u", (unsigned long long)count,
		  units[u].name, l->burst);
	if (l->per_source)
		sb_puts(sb, " --hashlimit-mode srcip");
	sb_printf(sb, " --hashlimit-name ph%zu%s_%u%c%u%s", (size_t)(r - rs->rules.v), tag, l->rate,
		  unit_ch[l->unit], l->burst, l->per_source ? "s" : "");
	/* *-save leaves out an expiry equal to the printed unit (which is also the default) */
	uint64_t expire = (uint64_t)ir_limit_refill_seconds(l) * 1000;
	if (l->per_source && expire != (uint64_t)ir_rate_unit_seconds(units[u].unit) * 1000)
		sb_printf(sb, " --hashlimit-htable-expire %llu", (unsigned long long)expire);
}

/* How a LOG line writes its level, or an NFLOG line its group. */
static void put_log_target(struct strbuf *sb, const struct ir_rule *r, const char *prefix)
{
	if (r->logopt.nflog) {
		sb_printf(sb, " -j NFLOG --nflog-prefix \"%s\"", prefix);
		if (r->logopt.group)
			sb_printf(sb, " --nflog-group %u", r->logopt.group);
		return;
	}
	sb_printf(sb, " -j LOG --log-prefix \"%s\"", prefix);
	if (r->logopt.level_set && r->logopt.level != 4) /* 4 (warn) is LOG's own default */
		sb_printf(sb, " --log-level %u", r->logopt.level);
}

static void put_target(struct strbuf *sb, const struct ir_rule *r,
		       uint8_t family)
{
	switch (r->action) {
	case IR_ACCEPT: sb_puts(sb, r->owned ? " -j RETURN" : " -j ACCEPT"); break; /* RETURN: the owner's rules after the jump decide */
	case IR_DROP: sb_puts(sb, " -j DROP"); break;
	case IR_REJECT:
		if (ir_rule_proto(r) == IR_TCP)
			sb_puts(sb, " -j REJECT --reject-with tcp-reset");
		else
			sb_printf(sb, " -j REJECT --reject-with %s",
				  family == IR_V6 ? "icmp6-port-unreachable" : "icmp-port-unreachable");
		break;
	case IR_SET_HELPER:
		sb_printf(sb, " -j CT --helper %s", r->helper);
		break;
	case IR_LOG: {
		char *p = log_prefix(r);
		put_log_target(sb, r, p);
		free(p);
		break;
	}
	case IR_SET_ADD:
		break; /* no target: the recent match records the peer, and the chain goes on */
	case IR_HELPER_COPY:
		break; /* refused by check_rule */
	case IR_DNAT:
	case IR_SNAT: {
		char a[64];
		ir_prefix_format(&r->nat.addr, a, sizeof(a));
		sb_printf(sb, r->action == IR_DNAT ? " -j DNAT --to-destination " : " -j SNAT --to-source ");
		if (!r->nat.port)
			sb_puts(sb, a);
		else
			sb_printf(sb, family == IR_V6 ? "[%s]:%u" : "%s:%u", a, r->nat.port);
		break;
	}
	case IR_MASQUERADE:
		sb_puts(sb, " -j MASQUERADE");
		break;
	}
}

/* The file is assembled from parts, because every chain must be declared before any rule
 * jumps to it and the fragment gates are only known while rules are written. */
struct emitter {
	const struct ir_ruleset *rs;
	uint8_t family;
	struct strbuf raw;        /* raw table rules (helpers) */
	struct strbuf nat;        /* nat table rules (address translation) */
	struct strbuf filter;     /* filter table rules of pinhole's three chains */
	struct strbuf gate_decls; /* ":PINHOLE-FRAG-N - [0:0]" lines */
	struct strbuf gates;      /* their rules */
	int n_gates;
};

/* One line, preceded by its LOG line when the rule also logs: same matches, same comment.
 * A rate limit goes last, after the comment; the LOG line's limit has a table of its own, so
 * that a packet spends one token of the rule's budget, not two. */
static void put_line(struct emitter *e, struct strbuf *sb, const char *chain, const struct ir_rule *r,
		     const char *matches)
{
	const struct ir_match *lim = ir_match_get(r, IR_M_LIMIT);
	if (r->log && r->action != IR_LOG) {
		char *p = log_prefix(r);
		struct strbuf t = {0};
		if (lim)
			put_limit(&t, e->rs, r, &lim->u.limit, "l");
		put_log_target(&t, r, p);
		sb_printf(sb, "-A %s%s%s\n", chain, matches, t.s);
		sb_free(&t);
		free(p);
	}
	struct strbuf t = {0};
	if (lim)
		put_limit(&t, e->rs, r, &lim->u.limit, "");
	put_target(&t, r, e->family);
	sb_printf(sb, "-A %s%s%s\n", chain, matches, t.s ? t.s : "");
	sb_free(&t);
}

/* ip6tables has no -f, and its frag match can say "first fragment" but not "not the first",
 * so a rule for non-first fragments jumps to a chain of its own that returns first fragments
 * and applies the rule's verdict to the rest. */
static char *frag_gate(struct emitter *e, const struct ir_rule *r, const char *comment)
{
	char *name = xasprintf("PINHOLE-FRAG-%d", ++e->n_gates);
	sb_printf(&e->gate_decls, ":%s - [0:0]\n", name);
	sb_printf(&e->gates, "-A %s -m frag --fragfirst -m comment --comment \"%s\" -j RETURN\n",
		  name, comment);
	struct strbuf m = {0};
	if (ir_rule_proto(r))
		sb_printf(&m, " -p %s", ir_proto_name(ir_rule_proto(r)));
	sb_printf(&m, " -m comment --comment \"%s\"", comment);
	put_line(e, &e->gates, name, r, m.s);
	sb_free(&m);
	return name;
}

/* Splits a port set into slices that each fit one match: a single range goes to -m tcp/udp,
 * lists to multiport (at most 15 slots, a range taking two). Returns the number of slices;
 * slice k is v[start[k] .. start[k+1]). An empty set is one empty slice. */
static size_t slice_ports(const struct ir_portset *p, size_t **start)
{
	size_t n = 0, used = IPT_MULTIPORT_MAX;
	*start = xmalloc((p->n + 2) * sizeof(size_t));
	for (size_t i = 0; i < p->n; i++) {
		size_t slots = p->v[i].lo == p->v[i].hi ? 1 : 2;
		if (used + slots > IPT_MULTIPORT_MAX) {
			(*start)[n++] = i;
			used = 0;
		}
		used += slots;
	}
	if (!n)
		(*start)[n++] = 0;
	(*start)[n] = p->n;
	return n;
}

/* Helpers the kernel has for IPv4 only (nf_conntrack_irc, _pptp, _netbios_ns and _snmp
 * register no IPv6 helper): ip6tables' CT target cannot name them, and nft's inet helper
 * objects apply them to IPv4 only. */
static bool helper_ipv4_only(const char *type)
{
	static const char *const v4only[] = {"irc", "pptp", "netbios-ns", "snmp"};
	for (size_t i = 0; i < sizeof(v4only) / sizeof(v4only[0]); i++)
		if (!strcmp(type, v4only[i]))
			return true;
	return false;
}

static void emit_rule(struct emitter *e, const struct ir_rule *r)
{
	/* Helpers are assigned in the raw table, before conntrack sees the packet: a CT template
	 * only applies to a new connection (so `ct state new` is implied), and the output
	 * interface of forwarded traffic is not known yet, so the helper may watch a few more
	 * connections than the forward rule names; only the filter rules decide what passes. */
	bool raw = r->action == IR_SET_HELPER;
	enum ir_hook hook = raw && r->hook == IR_FORWARD ? IR_PREROUTING : r->hook;
	const char *chain = chain_name(hook);
	bool use_oif = !(raw && hook == IR_PREROUTING);
	bool nat = r->hook == IR_DSTNAT || r->hook == IR_SRCNAT;
	struct strbuf *out = raw ? &e->raw : nat ? &e->nat : &e->filter;
	char *comment = comment_text(r);
	struct ipt_view view, *v = &view;
	view_of(r, v);
	if (raw && e->family == IR_V6 && helper_ipv4_only(r->helper)) {
		/* Nothing to assign: the helper's children never appear on IPv6 (nor with nft). */
		sb_printf(out, "# not on IPv6, the kernel's %s helper is IPv4 only: %s\n",
			  r->helper, comment);
		free(comment);
		return;
	}
	char *gate = v->fragment && e->family == IR_V6 ? frag_gate(e, r, comment) : NULL;

	/* "to=from": iptables cannot compare two header fields, so one line per port. */
	struct ir_portset same = {0};
	if (v->same_port) {
		for (size_t i = 0; i < v->sport.n; i++)
			same.n += (size_t)v->sport.v[i].hi - v->sport.v[i].lo + 1;
		same.v = xmalloc(same.n * sizeof(*same.v));
		size_t k = 0;
		for (size_t i = 0; i < v->sport.n; i++)
			for (unsigned p = v->sport.v[i].lo; p <= v->sport.v[i].hi; p++)
				same.v[k++] = (struct ir_portrange){(uint16_t)p, (uint16_t)p};
	}
	size_t *ss, *ds;
	size_t nss = v->same_port ? same.n : slice_ports(&v->sport, &ss);
	size_t nds = v->same_port ? 1 : slice_ports(&v->dport, &ds);
	if (v->same_port)
		ss = ds = NULL;

	size_t n_iif = v->iif.n ? v->iif.n : 1, n_oif = use_oif && v->oif.n ? v->oif.n : 1;
	size_t n_s = v->saddr.n ? v->saddr.n : 1, n_d = v->daddr.n ? v->daddr.n : 1;
	for (size_t a = 0; a < n_s; a++)
	for (size_t b = 0; b < n_d; b++)
	for (size_t c = 0; c < n_iif; c++)
	for (size_t d = 0; d < n_oif; d++)
	for (size_t i = 0; i < nss; i++)
	for (size_t j = 0; j < nds; j++) {
		struct strbuf m = {0};
		if (v->saddr.n)
			put_prefix(&m, " -s ", &v->saddr.v[a]);
		if (v->daddr.n)
			put_prefix(&m, " -d ", &v->daddr.v[b]);
		if (v->iif.n)
			put_ifname(&m, "-i", v->iif.v[c]);
		if (use_oif && v->oif.n)
			put_ifname(&m, "-o", v->oif.v[d]);
		if (v->l4proto)
			sb_printf(&m, " -p %s", ir_proto_name(v->l4proto));
		if (v->fragment)
			sb_puts(&m, e->family == IR_V6 ? " -m frag" : " -f"); /* any fragment header */
		if (v->dst_local)
			sb_puts(&m, " -m addrtype --dst-type LOCAL");
		if (v->same_port)
			put_l4(&m, v, &same.v[i], 1, &same.v[i], 1);
		else if (v->l4proto == IR_TCP || v->l4proto == IR_UDP)
			put_l4(&m, v, v->sport.v ? v->sport.v + ss[i] : NULL, ss[i + 1] - ss[i],
			       v->dport.v ? v->dport.v + ds[j] : NULL, ds[j + 1] - ds[j]);
		put_other_matches(&m, v, raw);
		put_recent(&m, e->rs, &v->in_set, false, e->family);
		put_recent(&m, e->rs, &r->add_set, true, e->family);
		sb_printf(&m, " -m comment --comment \"%s\"", comment);
		if (gate)
			sb_printf(out, "-A %s%s -j %s\n", chain, m.s, gate);
		else
			put_line(e, out, chain, r, m.s);
		sb_free(&m);
	}
	free(ss);
	free(ds);
	free(same.v);
	free(gate);
	free(comment);
}

char *ipt_rule_text(const struct ir_ruleset *rs, const struct ir_rule *r, uint8_t family)
{
	struct emitter e = {.rs = rs, .family = family};
	emit_rule(&e, r);
	struct strbuf sb = {0};
	sb_puts(&sb, e.raw.s ? e.raw.s : "");
	sb_puts(&sb, e.nat.s ? e.nat.s : "");
	sb_puts(&sb, e.gate_decls.s ? e.gate_decls.s : "");
	sb_puts(&sb, e.filter.s ? e.filter.s : "");
	sb_puts(&sb, e.gates.s ? e.gates.s : "");
	sb_free(&e.raw);
	sb_free(&e.nat);
	sb_free(&e.filter);
	sb_free(&e.gate_decls);
	sb_free(&e.gates);
	return sb_steal(&sb);
}

static bool has_rules_of(const struct ir_ruleset *rs, uint8_t family)
{
	for (size_t i = 0; i < rs->rules.n; i++)
		if (!rs->rules.v[i].origin.builtin && in_family(&rs->rules.v[i], family))
			return true;
	return false;
}

void ipt_family_warnings(const struct ir_ruleset *rs, uint8_t family, const char *policy,
			 struct diags *d)
{
	uint8_t other = family == IR_V6 ? IR_V4 : IR_V6;
	const char *fam = family == IR_V6 ? "IPv6" : "IPv4", *ofam = other == IR_V6 ? "IPv6" : "IPv4";
	const char *tool = family == IR_V6 ? "ip6tables" : "iptables";
	const char *otool = other == IR_V6 ? "ip6tables" : "iptables";
	if (!has_rules_of(rs, family))
		diag_warning_id(d, DIAG_W_FAMILY, NULL, "%s has no %s rules: the %s file holds only the built-in rules "
			     "and drops all other %s traffic", policy, fam, tool, fam);
	if (has_rules_of(rs, other))
		diag_warning_id(d, DIAG_W_FAMILY, NULL, "%s also has %s rules: %s traffic stays unfiltered unless the "
			     "%s file (pinhole compile -t %s) is loaded too", policy, ofam, ofam, otool, otool);
}

/* The jumps from the built-in chains, at the end of each table: deleted and inserted again at
 * the top, so that the one restore of a reload puts them back, committed with the rules. A
 * restore file cannot add a rule only if it is missing, and a -D of a missing rule fails the
 * file: the first load takes the header's second way. */
static void put_jumps(FILE *out, const char *const *chains)
{
	for (; *chains; chains++)
		fprintf(out, "-D %s -j PINHOLE-%s\n-I %s 1 -j PINHOLE-%s\n", *chains, *chains, *chains, *chains);
}

/* One loop of the header's second way: each jump of table `t` made the first rule of its
 * built-in chain, deleted first only where listing the chain shows it lower down. */
static void put_jump_loop(struct strbuf *sb, const char *tool, const char *t, const char *chains)
{
	const char *tt = strcmp(t, "filter") ? (!strcmp(t, "raw") ? " -t raw" : " -t nat") : "";
	sb_printf(sb, "#     for c in %s; do %s -w%s -S $c | sed -n 2p | grep -qxF -- \"-A $c -j PINHOLE-$c\" || {\n"
		      "#       %s -w%s -S $c | grep -qxF -- \"-A $c -j PINHOLE-$c\" && %s -w%s -D $c -j PINHOLE-$c\n"
		      "#       %s -w%s -I $c 1 -j PINHOLE-$c; }; done",
		  chains, tool, tt, tool, tt, tool, tt, tool, tt);
}

static void put_header(const struct ir_ruleset *rs, uint8_t family, const struct render_info *info,
		       bool nat, FILE *out)
{
	const char *tool = family == IR_V6 ? "ip6tables" : "iptables";
	struct strbuf loops = {0};
	put_jump_loop(&loops, tool, "filter", "INPUT FORWARD OUTPUT");
	sb_puts(&loops, " &&\n");
	put_jump_loop(&loops, tool, "raw", "PREROUTING OUTPUT");
	if (nat) {
		sb_puts(&loops, " &&\n");
		put_jump_loop(&loops, tool, "nat", "PREROUTING POSTROUTING");
	}
	fprintf(out, "# Generated by pinhole %s from %s (%s mode, %s rules). Do not edit: change the policy.\n",
		info->version, info->policy, rs->stateless ? "stateless" : "stateful",
		family == IR_V6 ? "IPv6" : "IPv4");
	fprintf(out,
		"# Load as root, with the same %s variant (legacy or nft) as any other rules:\n"
		"#   { %s -V | grep -q legacy && %s-restore -w --noflush FILE 2>/dev/null; } || {\n"
		"#     grep -v '^-[DI] ' FILE | %s-restore -w --noflush &&\n"
		"%s; }\n"
		"# --noflush leaves other software's rules (e.g. Docker's) alone: each :PINHOLE-... line\n"
		"# creates that chain or empties it, and each table is committed at once. The jump to each\n"
		"# of pinhole's chains ends up once, as the first rule of its built-in chain. Legacy: one\n"
		"# restore, the file's -D and -I lines moving the jumps (a missing jump fails its -D, on\n"
		"# the first load: then the second way). nft: the file without those lines (there, a -D\n"
		"# reads every rule: seconds at 50,000), and a jump is moved or added only where listing\n"
		"# its chain (milliseconds) shows it is not first. Address lists are written one rule per\n"
		"# prefix (no ipset). Unloading and ordering with other software: docs/iptables.md.\n",
		tool, tool, tool, tool, loops.s);
	sb_free(&loops);
}

bool ipt_render(const struct ir_ruleset *rs, uint8_t family, const struct render_info *info,
		FILE *out)
{
	char *why = NULL;
	if (ipt_check(rs, family, &why)) {
		free(why);
		return false;
	}
	struct emitter e = {.rs = rs, .family = family};
	static const enum ir_hook order[] = {IR_PREROUTING, IR_INPUT, IR_FORWARD, IR_OUTPUT,
					     IR_DSTNAT, IR_SRCNAT};
	for (size_t h = 0; h < sizeof(order) / sizeof(order[0]); h++) {
		/* raw table: prerouting helpers first, then output ones; filter: in hook order */
		for (size_t i = 0; i < rs->rules.n; i++) {
			const struct ir_rule *r = &rs->rules.v[i];
			bool raw = r->action == IR_SET_HELPER;
			enum ir_hook at = raw && r->hook == IR_FORWARD ? IR_PREROUTING : r->hook;
			if (at == order[h] && in_family(r, family))
				emit_rule(&e, r);
		}
		if (order[h] != IR_PREROUTING && order[h] != IR_DSTNAT && order[h] != IR_SRCNAT)
			sb_printf(&e.filter, "-A %s -m comment --comment \"default policy: drop\" -j DROP\n",
				  chain_name(order[h]));
	}
	static const char *const raw_hooks[] = {"PREROUTING", "OUTPUT", NULL};
	static const char *const nat_hooks[] = {"PREROUTING", "POSTROUTING", NULL};
	static const char *const filter_hooks[] = {"INPUT", "FORWARD", "OUTPUT", NULL};
	put_header(rs, family, info, e.nat.len > 0, out);
	fputs("*raw\n:PINHOLE-PREROUTING - [0:0]\n:PINHOLE-OUTPUT - [0:0]\n", out);
	fputs(e.raw.s ? e.raw.s : "", out);
	put_jumps(out, raw_hooks);
	if (e.nat.len) { /* only a policy that translates touches the nat table */
		fprintf(out, "COMMIT\n*nat\n:PINHOLE-PREROUTING - [0:0]\n:PINHOLE-POSTROUTING - [0:0]\n%s", e.nat.s);
		put_jumps(out, nat_hooks);
	}
	fputs("COMMIT\n*filter\n:PINHOLE-INPUT - [0:0]\n:PINHOLE-FORWARD - [0:0]\n:PINHOLE-OUTPUT - [0:0]\n", out);
	fputs(e.gate_decls.s ? e.gate_decls.s : "", out);
	fputs(e.filter.s ? e.filter.s : "", out);
	fputs(e.gates.s ? e.gates.s : "", out);
	put_jumps(out, filter_hooks);
	fputs("COMMIT\n", out);
	sb_free(&e.raw);
	sb_free(&e.nat);
	sb_free(&e.filter);
	sb_free(&e.gate_decls);
	sb_free(&e.gates);
	return true;
}
