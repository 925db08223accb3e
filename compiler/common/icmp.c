/* ICMP type names shared by both families, and the kernel's conntrack helper types. */
#include <string.h>

#include "icmp.h"
#include "ir.h"

static const struct {
	const char *name;
	int v4, v6;
} icmp_types[] = {
	{"echo-reply", 0, 129},
	{"destination-unreachable", 3, 1},
	{"echo-request", 8, 128},
	{"time-exceeded", 11, 3},
	{"parameter-problem", 12, 4},
	{"packet-too-big", -1, 2},
	{"nd-router-solicit", -1, 133},
	{"nd-router-advert", -1, 134},
	{"nd-neighbor-solicit", -1, 135},
	{"nd-neighbor-advert", -1, 136},
};

int icmp_type_lookup(const char *name, uint8_t family)
{
	for (size_t i = 0; i < sizeof(icmp_types) / sizeof(icmp_types[0]); i++)
		if (strcmp(icmp_types[i].name, name) == 0)
			return family == IR_V6 ? icmp_types[i].v6 : icmp_types[i].v4;
	return -1;
}

bool icmp_type_name_known(const char *name)
{
	for (size_t i = 0; i < sizeof(icmp_types) / sizeof(icmp_types[0]); i++)
		if (strcmp(icmp_types[i].name, name) == 0)
			return true;
	return false;
}

const char *icmp_type_name(int type, uint8_t family)
{
	for (size_t i = 0; i < sizeof(icmp_types) / sizeof(icmp_types[0]); i++)
		if ((family == IR_V6 ? icmp_types[i].v6 : icmp_types[i].v4) == type)
			return icmp_types[i].name;
	return NULL;
}

/* In-kernel helper names (KERNEL-NOTES: Linux 6.x); there is no rtsp, mms or msn helper. */
static const char *const helper_types[] = {
	"ftp", "irc", "sip", "tftp", "Q.931", "RAS", "pptp", "netbios-ns", "snmp", "amanda", "sane",
};

bool helper_type_known(const char *type)
{
	for (size_t i = 0; i < sizeof(helper_types) / sizeof(helper_types[0]); i++)
		if (strcmp(helper_types[i], type) == 0)
			return true;
	return false;
}

bool helper_expects_at_sender_only(const char *type)
{
	return strcmp(type, "netbios-ns") == 0 || strcmp(type, "snmp") == 0;
}

bool pinholed_parser_relays(const char *name)
{
	return name && (!strcmp(name, "irc") || !strcmp(name, "msn"));
}

bool pinholed_parser_known(const char *name)
{
	static const char *const names[] = {"rpc", "irc", "msn", "rtsp"};
	for (size_t i = 0; name && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}
