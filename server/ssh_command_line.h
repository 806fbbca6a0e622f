/*
 * Splitting the command line a staff member's SSH client sends with an
 * exec request (peer-supplied, at most SSH_COMMAND_MAX bytes), shared by
 * the command runner (ssh_commands.c) and the shell request (ssh_front.c).
 * No quoting, no shell: words are runs of bytes not in `separators`.
 *
 * ssh_command_split copies `line` (NUL-terminated) into out->copy and
 * points out->argv[0..argc-1] at its words, argv[argc] = NULL.  Returns
 * SSH_SPLIT_OK, SSH_SPLIT_TOO_LONG when strlen(line) > SSH_COMMAND_MAX,
 * or SSH_SPLIT_TOO_MANY when there are more than `max_words` words
 * (1 <= max_words <= SSH_COMMAND_MAX_ARGS); on failure argc is 0.
 * The words live as long as `out`; nothing is allocated.
 *
 * ssh_shell_request_parse reads `shell SESSION [--view-only]` (split on
 * spaces and tabs): 0 with the session reference (at most TICKET_ID_MAX
 * bytes) copied into `session_ref` and *view_only set, or -1 when the line
 * is not exactly that (the caller prints the usage).
 */
#ifndef CONCIERGE_SSH_COMMAND_LINE_H
#define CONCIERGE_SSH_COMMAND_LINE_H

#include "concierge_limits.h"

enum ssh_split_result { SSH_SPLIT_OK = 0, SSH_SPLIT_TOO_LONG = -1, SSH_SPLIT_TOO_MANY = -2 };

struct ssh_command_words {
	char copy[SSH_COMMAND_MAX + 1];
	char *argv[SSH_COMMAND_MAX_ARGS + 1];
	int argc;
};

enum ssh_split_result ssh_command_split(const char *line, const char *separators, int max_words,
                                        struct ssh_command_words *out);

int ssh_shell_request_parse(const char *line, char session_ref[TICKET_ID_MAX + 1], int *view_only);

#endif
