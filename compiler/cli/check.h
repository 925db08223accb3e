/* pinhole check's findings: the diagnostics of each policy after -W options, inline
 * suppressions and the baseline, each with a stable ID and fingerprint, and their printers
 * (text, JSON, SARIF 2.1.0, GitHub annotations). docs/check.md describes all of it. */
#ifndef PINHOLE_CHECK_H
#define PINHOLE_CHECK_H

#include "cli.h"

/* The JSON output's version: bumped when a field changes meaning or goes away (new fields
 * may appear without a bump). docs/check-v1.schema.json describes version 1. */
#define CHECK_JSON_VERSION 1

typedef VEC(const char *) check_dirs;

enum check_format { CHECK_TEXT, CHECK_JSON, CHECK_SARIF, CHECK_GITHUB };

/* What -W, -Wno-, -Werror= say about each ID. */
enum check_wstate { W_DEFAULT, W_ON, W_OFF, W_ERROR };

struct check_opts {
	enum check_format format;
	bool fail_on_warning;                 /* --fail-on=warning (the default) */
	enum check_wstate w[DIAG_ID_COUNT];
	bool werror_all;                      /* -Werror */
	VEC(char *) baseline;                 /* fingerprints of --baseline FILE */
	bool have_baseline;
	VEC(struct ir_prefix) mgmt;           /* --mgmt: networks that must reach ssh (PH115) */
	const char *target;                   /* -t: nft (NULL), iptables or ip6tables (PH118) */
};

/* One reported diagnostic and the notes that explain it. */
struct finding {
	const struct diag *d;
	enum severity sev;        /* after -Werror */
	const struct diag *notes; /* d->notes.. the notes right after it in its queue */
	size_t nnotes;
	char fingerprint[32];     /* "16 hex digits:occurrence" */
	const char *suppressed;   /* the reason of the '# pinhole: ignore' that hides it, or NULL */
	bool baselined;
};

/* One policy checked: its compilation and findings. */
struct check_policy {
	const char *file;
	bool ok;                  /* compiled (no errors before -Werror) */
	struct compilation c;
	VEC(struct finding) findings;
	VEC(char *) reasons;      /* owns the suppression reasons */
	int status;               /* 0, 1 or 2 (EXIT_*) */
};

/* Runs the suppressions and -W options over a compiled policy: fills p->findings. Adds
 * bad-suppression and unused-suppression warnings to p->c.diags first. */
void check_findings(struct check_policy *p, const struct check_opts *o);
/* Reads the fingerprints of a JSON or SARIF file written by `pinhole check`; false (with
 * *why) when it cannot be read or is no such file. */
bool check_read_baseline(const char *path, struct check_opts *o, char **why);
void check_policy_free(struct check_policy *p);

void check_print_text(const struct check_policy *v, size_t n, bool errors_only, FILE *out);
void check_print_github(const struct check_policy *v, size_t n, FILE *out);
void check_print_json(const struct check_policy *v, size_t n, int status, FILE *out);
void check_print_sarif(const struct check_policy *v, size_t n, int status, FILE *out);

#endif
