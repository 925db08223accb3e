/* Named network namespaces, as `ip netns` keeps them. */
#ifndef PINHOLE_NETNS_H
#define PINHOLE_NETNS_H

#define NETNS_RUN_DIR "/var/run/netns"

/* Moves this process into network namespace NAME. Returns 0, or -1 with errno (ENOENT: no
 * such namespace; EINVAL: not a plain name; EPERM: needs CAP_SYS_ADMIN). */
int netns_enter(const char *name);

#endif
