/* A small strict XML reader for the subset firewalld's service files use: an optional XML
 * declaration (UTF-8), comments, elements with quoted attributes, text with the five named
 * entities, character references and CDATA. A DTD, processing instructions or anything else
 * outside that subset is an error at its place, as is input deeper or larger than the bounds
 * below (firewalld's services are two levels and a few dozen elements). */
#ifndef PINHOLE_IMPORT_XML_H
#define PINHOLE_IMPORT_XML_H

#include "diag.h"
#include "util.h"

#define XML_MAX_DEPTH 8
#define XML_MAX_ELEMENTS 4096
#define XML_MAX_ATTRS 16

struct xml_attr {
	char *name, *value;
	struct loc loc;  /* the name */
	struct loc vloc; /* the value, inside its quotes (on its first line) */
};

struct xml_node {
	char *name;
	struct loc loc; /* the name after '<' */
	VEC(struct xml_attr) attrs;
	VEC(struct xml_node *) kids;
	struct strbuf text;   /* character data, entities replaced */
	struct loc text_loc;  /* the first non-blank character of it */
	bool has_text;        /* any character data other than white space */
};

/* The document's root element, or NULL after an error in `d`. */
struct xml_node *xml_parse(const struct source *src, struct diags *d);
void xml_free(struct xml_node *n);
const struct xml_attr *xml_attr(const struct xml_node *n, const char *name);

#endif
