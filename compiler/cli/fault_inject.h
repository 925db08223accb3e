/* Test-only fault injection for `apply`, compiled only into build/pinhole-faults (the kernel
 * tests' binary, built with -DPINHOLE_FAULT_INJECTION); the shipping build/pinhole gets the
 * empty inline and carries no trace of it. */
#ifndef PINHOLE_FAULT_INJECT_H
#define PINHOLE_FAULT_INJECT_H

#include "nft_netlink.h"

#ifdef PINHOLE_FAULT_INJECTION
/* PINHOLE_TEST_REJECT_LINE=N makes the first rule of policy line N jump to a chain that does
 * not exist, which the kernel refuses in the middle of the batch. */
void fault_inject(struct nl_ruleset *rs);
#else
static inline void fault_inject(struct nl_ruleset *rs)
{
	(void)rs;
}
#endif

#endif
