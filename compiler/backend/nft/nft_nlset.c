/* Sets as nft 1.0.6 sends them (dynamic ones empty, with their flags, timeout and size): for interval sets an end element at zero when the first
 * range does not start there, then each range's start and (end + 1) flagged as an interval
 * end, a range reaching the largest key marked "open" instead; anonymous interval sets have
 * overlapping and adjacent ranges merged; userdata records key byte order and, for anonymous
 * sets, the expression the key comes from ("typeof"), which `nft list` uses. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter/nf_tables.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>

#include "nft_nlset.h"

static bool key_inc(uint8_t *k, size_t len) /* false on overflow (k was all ones) */
{
	for (size_t i = len; i-- > 0;)
		if (++k[i] != 0)
			return true;
	return false;
}

static bool key_is_max(const uint8_t *k, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (k[i] != 0xff)
			return false;
	return true;
}

static bool key_is_zero(const uint8_t *k, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (k[i])
			return false;
	return true;
}

static int range_cmp(const void *a, const void *b, void *len)
{
	return memcmp(((const struct krange *)a)->lo, ((const struct krange *)b)->lo, *(size_t *)len);
}

/* Anonymous interval sets: nft merges overlapping and adjacent ranges. */
static void ranges_merge(kranges *v, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < v->n; i++) {
		if (n) {
			struct krange *last = &v->v[n - 1];
			uint8_t next[NL_KEY_MAX];
			memcpy(next, last->hi, len);
			bool ok = key_inc(next, len);
			if (!ok || memcmp(next, v->v[i].lo, len) >= 0) {
				if (memcmp(v->v[i].hi, last->hi, len) > 0)
					memcpy(last->hi, v->v[i].hi, len);
				continue;
			}
		}
		v->v[n++] = v->v[i];
	}
	v->n = n;
}

static void put_typeof(struct nftnl_udata_buf *u, const struct set_spec *s)
{
	struct nftnl_udata *top = nftnl_udata_nest_start(u, NFTNL_UDATA_SET_KEY_TYPEOF);
	nftnl_udata_put_u32(u, NFTNL_UDATA_SET_TYPEOF_EXPR, s->typeof_expr);
	struct nftnl_udata *data = nftnl_udata_nest_start(u, NFTNL_UDATA_SET_TYPEOF_DATA);
	if (s->typeof_expr == EXPR_META) {
		nftnl_udata_put_u32(u, 0, s->tf[0][0]);
	} else if (s->typeof_expr == EXPR_PAYLOAD) {
		nftnl_udata_put_u32(u, 0, s->tf[0][0]);
		nftnl_udata_put_u32(u, 1, s->tf[0][1]);
	} else { /* concatenation of payload fields (of meta keys in a verdict map) */
		for (int i = 0; i < (int)(s->nconcat ? s->nconcat : 2); i++) {
			struct nftnl_udata *sub = nftnl_udata_nest_start(u, (uint8_t)i);
			nftnl_udata_put_u32(u, 0, s->vmap ? EXPR_META : EXPR_PAYLOAD);
			struct nftnl_udata *sd = nftnl_udata_nest_start(u, 1);
			nftnl_udata_put_u32(u, 0, s->tf[i][0]);
			if (!s->vmap)
				nftnl_udata_put_u32(u, 1, s->tf[i][1]);
			nftnl_udata_nest_end(u, sd);
			nftnl_udata_nest_end(u, sub);
		}
	}
	nftnl_udata_nest_end(u, data);
	nftnl_udata_nest_end(u, top);
}

static void set_udata(int *err, struct nftnl_set *s, const struct set_spec *sp)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	if (!u) {
		*err = ENOMEM;
		return;
	}
	nftnl_udata_put_u32(u, NFTNL_UDATA_SET_KEYBYTEORDER, sp->byteorder);
	if (!sp->name) {
		if (sp->interval)
			nftnl_udata_put_u32(u, NFTNL_UDATA_SET_MERGE_ELEMENTS, 1);
		put_typeof(u, sp);
	}
	if (nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(u), nftnl_udata_buf_len(u)) < 0)
		*err = ENOMEM;
	nftnl_udata_buf_free(u);
}

/* An element: its key (and key end, for a range of concatenations), whether it ends an
 * interval, and the userdata nft gives it: the comment, then "open" for a range that runs
 * to the largest key (it has no end element). */
static void add_elem(int *err, struct nftnl_set *s, const uint8_t *key, const uint8_t *key_end,
		     uint32_t len, bool end, bool open, const char *comment, const char *jump)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	if (!e) {
		*err = ENOMEM;
		return;
	}
	if (nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, len) < 0)
		*err = ENOMEM;
	if (key_end && nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, key_end, len) < 0)
		*err = ENOMEM;
	if (end)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
	if (jump) {
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, (uint32_t)NFT_JUMP);
		if (nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, jump) < 0)
			*err = ENOMEM;
	}
	if (open || comment) {
		struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
		if (u) {
			if (comment)
				nftnl_udata_put_strz(u, NFTNL_UDATA_SET_ELEM_COMMENT, comment);
			if (open)
				nftnl_udata_put_u32(u, NFTNL_UDATA_SET_ELEM_FLAGS, NFTNL_SET_ELEM_F_INTERVAL_OPEN);
			if (nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA, nftnl_udata_buf_data(u),
					       nftnl_udata_buf_len(u)) < 0)
				*err = ENOMEM;
			nftnl_udata_buf_free(u);
		} else {
			*err = ENOMEM;
		}
	}
	nftnl_set_elem_add(s, e);
}

/* Elements as nft sends them: for interval sets an end element at zero when the first range
 * does not start there, then each range's start and (range end + 1) flagged as an end; a range
 * up to the largest key is "open" (no end element). Returns the set's declared size. */
static uint32_t add_elems(int *err, struct nftnl_set *s, kranges *v, const struct set_spec *sp)
{
	uint32_t len = sp->key_len, n = 0;
	if (!sp->interval) {
		for (size_t i = 0; i < v->n; i++, n++)
			add_elem(err, s, v->v[i].lo, NULL, len, false, false, v->v[i].comment, v->v[i].jump);
		return n;
	}
	if (sp->nconcat) { /* ranges of concatenations: each element a key and a key end */
		for (size_t i = 0; i < v->n; i++, n++)
			add_elem(err, s, v->v[i].lo, v->v[i].hi, len, false, false, v->v[i].comment, NULL);
		return n;
	}
	size_t klen = len;
	qsort_r(v->v, v->n, sizeof(*v->v), range_cmp, &klen);
	if (!sp->name)
		ranges_merge(v, len);
	if (v->n && !key_is_zero(v->v[0].lo, len)) {
		static const uint8_t zero[NL_KEY_MAX];
		add_elem(err, s, zero, NULL, len, true, false, NULL, NULL);
		n++;
	}
	for (size_t i = 0; i < v->n; i++) {
		bool open = key_is_max(v->v[i].hi, len);
		add_elem(err, s, v->v[i].lo, NULL, len, false, open, v->v[i].comment, NULL);
		n += 2; /* nft counts the end of an open range too */
		if (!open) {
			uint8_t end[NL_KEY_MAX];
			memcpy(end, v->v[i].hi, len);
			key_inc(end, len);
			add_elem(err, s, end, NULL, len, true, false, NULL, NULL);
		}
	}
	return n;
}

struct nftnl_set *nl_set_new(uint32_t family, const char *table, uint32_t id, const struct set_spec *sp,
			     kranges *elems)
{
	struct nftnl_set *s = nftnl_set_alloc();
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	int e = 0, *err = &e;
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, family);
	if (nftnl_set_set_str(s, NFTNL_SET_TABLE, table) < 0 ||
	    nftnl_set_set_str(s, NFTNL_SET_NAME, sp->name ? sp->name : sp->vmap ? "__map%d" : "__set%d") < 0)
		*err = ENOMEM;
	uint32_t flags = sp->name ? 0 : NFT_SET_ANONYMOUS | NFT_SET_CONSTANT;
	if (sp->vmap)
		flags |= NFT_SET_MAP;
	if (sp->interval)
		flags |= NFT_SET_INTERVAL;
	if (sp->interval && sp->nconcat)
		flags |= NFT_SET_CONCAT;
	if (sp->dynamic)
		flags |= NFT_SET_TIMEOUT | NFT_SET_EVAL;
	if (sp->keyed)
		flags |= NFT_SET_TIMEOUT;
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	if (sp->dynamic || sp->keyed) {
		nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, sp->timeout);
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, sp->size);
	}
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, sp->key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, sp->key_len);
	if (sp->vmap) {
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 0);
	}
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	if (sp->interval && sp->nconcat) { /* the kernel's range-of-concatenations sets want
					     * the fields' lengths (zero-terminated list) */
		uint8_t lens[NL_CONCAT_MAX + 1] = {0};
		memcpy(lens, sp->field_len, sp->nconcat);
		if (nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, lens, sp->nconcat) < 0)
			*err = ENOMEM;
	}
	uint32_t size = add_elems(err, s, elems, sp);
	if (!sp->name)
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, size);
	set_udata(err, s, sp);
	if (e) {
		nftnl_set_free(s);
		errno = e;
		return NULL;
	}
	return s;
}
