/* nfnetlink_log and ctnetlink messages, parsed with libmnl's attribute walker; every attribute
 * is validated for its length before it is read. */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/in.h>
#include <string.h>

#include "pd_nl.h"

static int put_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);
	if (type >= 0 && type <= 32)
		tb[type] = a;
	return MNL_CB_OK;
}

int pd_nflog_parse(const struct nlmsghdr *nlh, struct pd_nflog *out)
{
	memset(out, 0, sizeof(*out));
	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_ULOG ||
	    NFNL_MSG_TYPE(nlh->nlmsg_type) != NFULNL_MSG_PACKET ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct nfgenmsg)))
		return -1;
	const struct nlattr *tb[33] = {0};
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), put_attr, tb) < 0)
		return -1;
	if (!tb[NFULA_PAYLOAD] || !tb[NFULA_PREFIX])
		return -1;
	size_t plen = mnl_attr_get_payload_len(tb[NFULA_PREFIX]);
	const char *p = mnl_attr_get_payload(tb[NFULA_PREFIX]);
	size_t n = strnlen(p, plen);
	if (n >= sizeof(out->prefix))
		return -1;
	memcpy(out->prefix, p, n);
	out->payload = mnl_attr_get_payload(tb[NFULA_PAYLOAD]);
	out->len = mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]);
	return 0;
}

static int tuple_ip(const struct nlattr *nest, struct pd_ct_tuple *t)
{
	const struct nlattr *tb[33] = {0};
	if (mnl_attr_parse_nested(nest, put_attr, tb) < 0)
		return -1;
	if (tb[CTA_IP_V4_SRC] && tb[CTA_IP_V4_DST] && mnl_attr_get_payload_len(tb[CTA_IP_V4_SRC]) == 4 &&
	    mnl_attr_get_payload_len(tb[CTA_IP_V4_DST]) == 4) {
		t->family = AF_INET;
		memcpy(t->src, mnl_attr_get_payload(tb[CTA_IP_V4_SRC]), 4);
		memcpy(t->dst, mnl_attr_get_payload(tb[CTA_IP_V4_DST]), 4);
		return 0;
	}
	if (tb[CTA_IP_V6_SRC] && tb[CTA_IP_V6_DST] && mnl_attr_get_payload_len(tb[CTA_IP_V6_SRC]) == 16 &&
	    mnl_attr_get_payload_len(tb[CTA_IP_V6_DST]) == 16) {
		t->family = AF_INET6;
		memcpy(t->src, mnl_attr_get_payload(tb[CTA_IP_V6_SRC]), 16);
		memcpy(t->dst, mnl_attr_get_payload(tb[CTA_IP_V6_DST]), 16);
		return 0;
	}
	return -1;
}

static int tuple_proto(const struct nlattr *nest, struct pd_ct_tuple *t)
{
	const struct nlattr *tb[33] = {0};
	if (mnl_attr_parse_nested(nest, put_attr, tb) < 0 || !tb[CTA_PROTO_NUM] ||
	    mnl_attr_validate(tb[CTA_PROTO_NUM], MNL_TYPE_U8) < 0)
		return -1;
	t->l4proto = mnl_attr_get_u8(tb[CTA_PROTO_NUM]);
	if (tb[CTA_PROTO_SRC_PORT] && tb[CTA_PROTO_DST_PORT] &&
	    mnl_attr_validate(tb[CTA_PROTO_SRC_PORT], MNL_TYPE_U16) == 0 &&
	    mnl_attr_validate(tb[CTA_PROTO_DST_PORT], MNL_TYPE_U16) == 0) {
		t->sport = ntohs(mnl_attr_get_u16(tb[CTA_PROTO_SRC_PORT]));
		t->dport = ntohs(mnl_attr_get_u16(tb[CTA_PROTO_DST_PORT]));
	}
	return 0;
}

int pd_ct_parse(const struct nlmsghdr *nlh, struct pd_ct_tuple *out)
{
	memset(out, 0, sizeof(*out));
	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_CTNETLINK ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct nfgenmsg)))
		return -1;
	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != IPCTNL_MSG_CT_DELETE)
		return 1;
	const struct nlattr *tb[33] = {0}, *tt[33] = {0};
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), put_attr, tb) < 0 || !tb[CTA_TUPLE_ORIG] ||
	    mnl_attr_parse_nested(tb[CTA_TUPLE_ORIG], put_attr, tt) < 0 || !tt[CTA_TUPLE_IP] ||
	    !tt[CTA_TUPLE_PROTO])
		return -1;
	if (tuple_ip(tt[CTA_TUPLE_IP], out) < 0 || tuple_proto(tt[CTA_TUPLE_PROTO], out) < 0)
		return -1;
	return 0;
}

static struct nlmsghdr *cfg_hdr(void *buf, uint16_t group, uint32_t seq, uint8_t family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(group);
	return nlh;
}

size_t pd_nflog_bind_msgs(void *buf, size_t cap, uint16_t group, uint32_t seq)
{
	/* bind, then copy mode and queue threshold: three messages in a row */
	if (cap < 3 * MNL_NLMSG_HDRLEN + 256)
		return 0;
	uint8_t *p = buf;
	struct nlmsghdr *nlh = cfg_hdr(p, group, seq, AF_UNSPEC);
	struct nfulnl_msg_config_cmd cmd = {.command = NFULNL_CFG_CMD_BIND};
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	size_t off = nlh->nlmsg_len;
	nlh = cfg_hdr(p + off, group, seq + 1, AF_UNSPEC);
	struct nfulnl_msg_config_mode mode = {.copy_range = htonl(0xffff), .copy_mode = NFULNL_COPY_PACKET};
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
	off += nlh->nlmsg_len;
	return off;
}

static void copy_str(char *dst, size_t cap, const struct nlattr *a)
{
	if (!a)
		return;
	size_t n = strnlen(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a));
	if (n < cap) {
		memcpy(dst, mnl_attr_get_payload(a), n);
		dst[n] = 0;
	}
}

int pd_nft_event_parse(const struct nlmsghdr *nlh, struct pd_nft_event *out)
{
	memset(out, 0, sizeof(*out));
	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
	    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct nfgenmsg)))
		return -1;
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	out->family = g->nfgen_family;
	int type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	if (type == NFT_MSG_NEWGEN) {
		out->type = PD_EV_NEWGEN;
		return 0;
	}
	if (type != NFT_MSG_DELTABLE && type != NFT_MSG_NEWSET && type != NFT_MSG_DELSET)
		return 0;
	const struct nlattr *tb[33] = {0};
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), put_attr, tb) < 0)
		return -1;
	if (type == NFT_MSG_DELTABLE) {
		out->type = PD_EV_DELTABLE;
		copy_str(out->table, sizeof(out->table), tb[NFTA_TABLE_NAME]);
	} else {
		out->type = type == NFT_MSG_NEWSET ? PD_EV_NEWSET : PD_EV_DELSET;
		copy_str(out->table, sizeof(out->table), tb[NFTA_SET_TABLE]);
		copy_str(out->set, sizeof(out->set), tb[NFTA_SET_NAME]);
	}
	return 0;
}
