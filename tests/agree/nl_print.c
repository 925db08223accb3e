/* nl_print: the objects `pinhole apply` would send for a policy, printed the way
 * `nft --debug=netlink -c -f` prints what it sends for the nft text of the same policy.
 *
 *   nl_print [-L DIR]... --stateful|--stateless POLICY
 *
 * The policy goes through the same pipeline as `pinhole apply`: compile_policy(), then
 * nl_from_ir(). Each object is printed with libnftnl's own printers (NFTNL_OUTPUT_DEFAULT),
 * which is what nft 1.0.6's netlink_dump_chain/_obj/_set/_rule call, followed by a newline as
 * nft does. tests/agree/run.sh compares this output with nft's, record by record.
 *
 * What is adjusted, and why each adjustment hides no difference in what the kernel gets:
 *
 *  - Order: nft creates a table block's contents as chains, objects, sets, rules; pinhole's
 *    batch creates objects and named sets before the chains. Both are one transaction, the
 *    rules come last in both, and every anonymous set still directly precedes its rule, so
 *    the table that results is the same. Objects are printed here in nft's order; the order
 *    within each kind (chains, objects, named sets, rules) is kept as nl_from_ir made it.
 *  - Chains and ct helper objects: nft 1.0.6 prints the libnftnl object before it adds the
 *    table name, the object's name and the chain policy (it puts those in the message as
 *    raw attributes afterwards), so its dump says "(null)" for them and no policy. The same
 *    attributes are left out of the printed chain here, and the object's two names replaced
 *    by "(null)" in its printed line; they are not lost: each is printed
 *    afterwards as a "# chain NAME policy VERDICT" or "# object NAME" line, which run.sh
 *    compares with the chain and ct helper declarations in the nft text. nft does not dump
 *    the table at all; its family, name and flags become a "# table" line the same way.
 *  - Set elements: nft sends a set's declaration and its elements in two messages and dumps
 *    them as two records, the second a set object holding only its table, name and elements
 *    (so its flags print as 0). pinhole adds the elements to the set object itself. The set
 *    is printed here as the same two records: the declaration without elements, then a set
 *    with only the table and name, and the element list exactly as libnftnl printed it.
 *  - Anonymous set names and ids: both sides name an anonymous set "__set%d" (the kernel
 *    picks the number) and libnftnl prints neither set ids nor a lookup's set id, so nothing
 *    needs rewriting. Rule handles and positions are not set on new objects on either side.
 */
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "compile.h"
#include "nft_netlink.h"

static void usage(void)
{
	fprintf(stderr, "usage: nl_print [-L DIR]... --stateful|--stateless POLICY\n");
	exit(2);
}

/* A copy of the chain without its table, name and policy, printed: nft's record. (Not
 * nftnl_chain_unset: libnftnl 1.2.4 frees the name but still prints the pointer.) */
static int print_chain(const struct nftnl_chain *c)
{
	struct nftnl_chain *copy = nftnl_chain_alloc();
	if (!copy)
		return -1;
	for (uint16_t attr = 0; attr <= NFTNL_CHAIN_MAX; attr++) {
		if (attr == NFTNL_CHAIN_TABLE || attr == NFTNL_CHAIN_NAME || attr == NFTNL_CHAIN_POLICY ||
		    !nftnl_chain_is_set(c, attr))
			continue;
		uint32_t len = 0;
		const void *data = nftnl_chain_get_data(c, attr, &len);
		if (nftnl_chain_set_data(copy, attr, data, len) < 0) {
			nftnl_chain_free(copy);
			return -1;
		}
	}
	nftnl_chain_fprintf(stdout, copy, NFTNL_OUTPUT_DEFAULT, 0);
	printf("\n");
	nftnl_chain_free(copy);
	return 0;
}

/* libnftnl 1.2.4 exports no nftnl_obj_unset: print the object and put nft's "(null)" in
 * place of the table and object names that open libnftnl's line ("table T name N use ..."). */
static int print_obj(struct nftnl_obj *o)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	if (!m)
		return -1;
	nftnl_obj_fprintf(m, o, NFTNL_OUTPUT_DEFAULT, 0);
	if (fclose(m) != 0) {
		free(text);
		return -1;
	}
	const char *table = nftnl_obj_get_str(o, NFTNL_OBJ_TABLE);
	const char *name = nftnl_obj_get_str(o, NFTNL_OBJ_NAME);
	char *prefix = NULL;
	if (asprintf(&prefix, "table %s name %s use ", table, name) < 0) {
		free(text);
		return -1;
	}
	size_t n = strlen(prefix);
	if (!strncmp(text, prefix, n))
		printf("table (null) name (null) use %s\n", text + n);
	else
		printf("%s\n", text); /* not libnftnl 1.2.4's layout: shows up in the diff */
	free(prefix);
	free(text);
	return 0;
}

/* The declaration, then (when there are elements) the element record nft would print. */
static int print_set(const struct nftnl_set *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	if (!m)
		return -1;
	nftnl_set_fprintf(m, s, NFTNL_OUTPUT_DEFAULT, 0);
	if (fclose(m) != 0) {
		free(text);
		return -1;
	}
	/* libnftnl writes the declaration, and only when the set has elements a newline and
	 * the elements, each preceded by a tab. */
	char *elems = strchr(text, '\n');
	if (elems)
		*elems++ = '\0';
	printf("%s\n", text);
	if (elems) {
		struct nftnl_set *only = nftnl_set_alloc();
		if (!only) {
			free(text);
			return -1;
		}
		nftnl_set_set_str(only, NFTNL_SET_TABLE, nftnl_set_get_str(s, NFTNL_SET_TABLE));
		nftnl_set_set_str(only, NFTNL_SET_NAME, nftnl_set_get_str(s, NFTNL_SET_NAME));
		nftnl_set_fprintf(stdout, only, NFTNL_OUTPUT_DEFAULT, 0);
		printf("\n%s\n", elems);
		nftnl_set_free(only);
	}
	free(text);
	return 0;
}

static bool anonymous(const struct nftnl_set *s)
{
	return nftnl_set_is_set(s, NFTNL_SET_FLAGS) &&
	       (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS);
}

static int print_ruleset(struct nl_ruleset *nl)
{
	VEC(char *) trailer = {0};
	int rc = 0;
	/* nft 1.0.6 does not dump the table at all: its family, name and flags go to the trailer. */
	for (size_t i = 0; i < nl->objs.n && rc == 0; i++) {
		if (nl->objs.v[i].kind != NL_TABLE)
			continue;
		struct nftnl_table *t = nl->objs.v[i].o;
		uint32_t family = nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY);
		char *line = NULL;
		if (asprintf(&line, "# table %s %s flags %u", family == NFPROTO_INET ? "inet" : "(not inet)",
			     nftnl_table_get_str(t, NFTNL_TABLE_NAME), nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS)) < 0)
			rc = -1;
		else
			VEC_PUSH(trailer, line);
	}
	for (size_t i = 0; i < nl->objs.n && rc == 0; i++) {
		if (nl->objs.v[i].kind != NL_CHAIN)
			continue;
		struct nftnl_chain *c = nl->objs.v[i].o;
		char *line = NULL;
		uint32_t policy = nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY);
		if (asprintf(&line, "# chain %s policy %s", nftnl_chain_get_str(c, NFTNL_CHAIN_NAME),
			     !nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY) ? "none"
			     : policy == NF_ACCEPT ? "accept"
			     : policy == NF_DROP ? "drop" : "other") < 0) {
			rc = -1;
			break;
		}
		VEC_PUSH(trailer, line);
		if (print_chain(c) < 0) {
			rc = -1;
			break;
		}
	}
	for (size_t i = 0; i < nl->objs.n && rc == 0; i++) {
		if (nl->objs.v[i].kind != NL_OBJ)
			continue;
		struct nftnl_obj *o = nl->objs.v[i].o;
		char *line = NULL;
		if (asprintf(&line, "# object %s", nftnl_obj_get_str(o, NFTNL_OBJ_NAME)) < 0) {
			rc = -1;
			break;
		}
		VEC_PUSH(trailer, line);
		if (print_obj(o) < 0) {
			rc = -1;
			break;
		}
	}
	for (size_t i = 0; i < nl->objs.n && rc == 0; i++)
		if (nl->objs.v[i].kind == NL_SET && !anonymous(nl->objs.v[i].o))
			rc = print_set(nl->objs.v[i].o);
	for (size_t i = 0; i < nl->objs.n && rc == 0; i++) {
		if (nl->objs.v[i].kind == NL_SET && anonymous(nl->objs.v[i].o)) {
			rc = print_set(nl->objs.v[i].o);
		} else if (nl->objs.v[i].kind == NL_RULE) {
			nftnl_rule_fprintf(stdout, nl->objs.v[i].o, NFTNL_OUTPUT_DEFAULT, 0);
			printf("\n");
		}
	}
	for (size_t i = 0; i < trailer.n; i++) {
		if (rc == 0)
			printf("%s\n", trailer.v[i]);
		free(trailer.v[i]);
	}
	VEC_FREE(trailer);
	return rc;
}

int main(int argc, char **argv)
{
	VEC(const char *) libdirs = {0};
	struct compile_opts o = {.mode = MODE_AS_POLICY};
	const char *policy = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-L") && i + 1 < argc)
			VEC_PUSH(libdirs, argv[++i]);
		else if (!strcmp(argv[i], "--stateful"))
			o.mode = MODE_STATEFUL;
		else if (!strcmp(argv[i], "--stateless"))
			o.mode = MODE_STATELESS;
		else if (argv[i][0] != '-' && !policy)
			policy = argv[i];
		else
			usage();
	}
	if (!policy)
		usage();
	o.libdirs = libdirs.v;
	o.nlibdirs = libdirs.n;

	struct compilation c;
	int rc = 0;
	if (!compile_policy(policy, &o, &c)) {
		diag_print(&c.diags, stderr);
		fprintf(stderr, "nl_print: %s does not compile\n", policy);
		rc = 2;
	} else {
		struct nl_ruleset nl;
		if (nl_from_ir(&c.ir, &nl) < 0) {
			fprintf(stderr, "nl_print: nl_from_ir: %s%s%s\n", strerror(errno),
				nl.why[0] ? ": " : "", nl.why);
			rc = 3;
		} else {
			if (print_ruleset(&nl) < 0 || fflush(stdout) != 0) {
				fprintf(stderr, "nl_print: cannot print: %s\n", strerror(errno));
				rc = 3;
			}
			nl_ruleset_free(&nl);
		}
	}
	compilation_free(&c);
	VEC_FREE(libdirs);
	return rc;
}
