/* status's report on pinholed: for a policy with helper channels, whether a process holds
 * NFLOG group 7100 in this network namespace (the kernel lists bound groups in
 * /proc/net/netfilter/nfnetlink_log, which follows the namespace the process is in), and the
 * live pinholes: the elements of the helper channels' sets, with the time each has left. */
#include <arpa/inet.h>
#include <libnftnl/set.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"
#include "nft_lower.h"
#include "nft_netlink.h"
#include "scope.h"

long status_nflog_portid(const char *path, unsigned group)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0; /* nfnetlink_log not loaded: no group can be bound */
	unsigned g, portid;
	long found = 0;
	char line[256];
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%u %u", &g, &portid) == 2 && g == group) {
			found = portid;
			break;
		}
	fclose(f);
	return found;
}

/* The process behind a netlink port: the first socket a process opens gets its pid as port. */
static bool is_pinholed(long pid)
{
	char path[64], comm[32] = "";
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	bool yes = fgets(comm, sizeof(comm), f) && !strcmp(comm, "pinholed\n");
	fclose(f);
	return yes;
}

/* "10.9.0.2 . 10.9.0.1 . udp . 20048": the key as nft prints it (each field in 4-byte words);
 * a relayed channel's sender set has no peer: "10.9.0.1 . tcp . 40100, any peer". */
static bool format_key(const uint8_t *k, uint32_t len, uint8_t family, bool peerless, char *buf,
		       size_t cap)
{
	size_t a = family == IR_V6 ? 16 : 4;
	int af = family == IR_V6 ? AF_INET6 : AF_INET;
	if (peerless) {
		if (len != a + 8)
			return false;
		char l[INET6_ADDRSTRLEN];
		inet_ntop(af, k, l, sizeof(l));
		uint16_t port = (uint16_t)(k[a + 4] << 8 | k[a + 5]);
		snprintf(buf, cap, "%s . %s . %u, any peer", l,
			 k[a] == IPPROTO_TCP ? "tcp" : k[a] == IPPROTO_UDP ? "udp" : "?", port);
		return true;
	}
	if (len != 2 * a + 8)
		return false;
	char p[INET6_ADDRSTRLEN], l[INET6_ADDRSTRLEN];
	inet_ntop(af, k, p, sizeof(p));
	inet_ntop(af, k + a, l, sizeof(l));
	uint8_t proto = k[2 * a];
	uint16_t port = (uint16_t)(k[2 * a + 4] << 8 | k[2 * a + 5]);
	const char *pn = proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : NULL;
	if (pn)
		snprintf(buf, cap, "%s . %s . %s . %u", p, l, pn, port);
	else
		snprintf(buf, cap, "%s . %s . %u . %u", p, l, proto, port);
	return true;
}

static const struct nftnl_set *find_set(const struct nl_ruleset *have, const char *name)
{
	for (size_t i = 0; i < have->objs.n; i++)
		if (have->objs.v[i].kind == NL_SET &&
		    !strcmp(nftnl_set_get_str(have->objs.v[i].o, NFTNL_SET_NAME), name))
			return have->objs.v[i].o;
	return NULL;
}

/* Prints the live pinholes of set `ds`; returns how many. */
static size_t print_set(const struct ir_dynset *ds, const struct nftnl_set *s, FILE *out)
{
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create((struct nftnl_set *)s);
	if (!it)
		return 0;
	size_t n = 0;
	char *why = scope_describe(ds);
	for (struct nftnl_set_elem *e = nftnl_set_elems_iter_next(it); e; e = nftnl_set_elems_iter_next(it)) {
		uint32_t len = 0;
		const uint8_t *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
		char key[128];
		if (!k || !format_key(k, len, ds->family, ds->peerless, key, sizeof(key)))
			continue;
		char left[32] = "?";
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION))
			ir_duration_format((uint32_t)((nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION) + 999) / 1000),
					   left, sizeof(left));
		fprintf(out, "  %s %s expires in %s (%s)\n", ds->name, key, left, why);
		n++;
	}
	free(why);
	nftnl_set_elems_iter_destroy(it);
	return n;
}

void status_pinholed_report(const struct ir_ruleset *ir, const struct nl_ruleset *have, FILE *out)
{
	size_t nsets = 0;
	for (size_t i = 0; i < ir->dynsets.n; i++)
		nsets += ir->dynsets.v[i].parser != NULL;
	if (!nsets)
		return; /* no helper channel: pinholed has nothing to do for this policy */
	long portid = status_nflog_portid("/proc/net/netfilter/nfnetlink_log", NFT_PINHOLED_GROUP);
	if (portid > 0)
		fprintf(out, "pinholed: attached to NFLOG group %d (netlink port %ld%s)\n", NFT_PINHOLED_GROUP,
			portid, is_pinholed(portid) ? ", process pinholed" : "");
	else
		fprintf(out, "pinholed: not attached to NFLOG group %d: the helper channels stay closed "
			"(pinholed(8))\n", NFT_PINHOLED_GROUP);
	size_t n = 0;
	char *body = NULL;
	size_t body_len = 0;
	FILE *mem = open_memstream(&body, &body_len); /* the count comes first, then the list */
	for (size_t i = 0; mem && i < ir->dynsets.n; i++) {
		const struct ir_dynset *ds = &ir->dynsets.v[i];
		const struct nftnl_set *s = ds->parser ? find_set(have, ds->name) : NULL;
		if (s)
			n += print_set(ds, s, mem);
	}
	if (mem)
		fclose(mem);
	fprintf(out, "live pinholes: %zu in %zu set%s\n", n, nsets, nsets == 1 ? "" : "s");
	if (body)
		fputs(body, out);
	free(body);
}
