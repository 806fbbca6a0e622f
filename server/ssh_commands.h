/*
 * Commands staff run over SSH (`ssh -p PORT USER@HOST COMMAND`):
 *   session new --ticket ID [--json]   open a session, print its one-time code
 *   sessions [--json]                  live sessions with ticket, state, host, participants
 *   session end SESSION                end one (SESSION = id or ticket id)
 *   whoami                             user and role
 *   help                               this list (also a login without command)
 *
 * The command line is split on white space (no shell).  Output goes to the
 * two streams given; the return value is the exit status to send (0 ok,
 * 1 refused or failed, 2 usage).  `core` may be NULL (tests): then a live
 * session's connections are not cut by `session end`, only its record.
 */
#ifndef CONCIERGE_SSH_COMMANDS_H
#define CONCIERGE_SSH_COMMANDS_H

#include <stdio.h>

#include "config.h"
#include "relay_core.h"
#include "store.h"

int ssh_command_run(struct store *store, const struct concierge_config *cfg, struct relay_core *core,
                    const char *user, const char *role, const char *command_line, FILE *out,
                    FILE *err);

#endif
