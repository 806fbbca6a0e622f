/*
 * The SSH front door staff use with stock OpenSSH: public-key login against
 * the user database, commands (ssh_commands.h) on session channels, and
 * `ssh -L PORT:SESSION:5900|5901` forwards that become participant join
 * requests to the relay core.
 *
 * Threads: one accept thread, and one thread per SSH connection (libssh's
 * model), each with its own database connection.  A forward's bytes travel
 * through a socketpair whose other end the core owns, so no libssh object
 * is ever touched by the core's thread.
 *
 * Ownership: ssh_front_start borrows cfg and core (they must outlive it)
 * and returns a handle for ssh_front_stop, which stops accepting, tells
 * every connection "relay shutting down", and waits (bounded) for the
 * threads.  Returns NULL with `err` when the port cannot be bound or the
 * host key cannot be loaded.
 */
#ifndef CONCIERGE_SSH_FRONT_H
#define CONCIERGE_SSH_FRONT_H

#include <stddef.h>

#include "config.h"
#include "relay_core.h"

struct ssh_front;

struct ssh_front *ssh_front_start(const struct concierge_config *cfg, struct relay_core *core,
                                  char *err, size_t errlen);
void ssh_front_stop(struct ssh_front *front);

#endif
