#include "ssh_command_line.h"

#include <stdio.h>
#include <string.h>

enum ssh_split_result ssh_command_split(const char *line, const char *separators, int max_words,
                                        struct ssh_command_words *out)
{
	char *save = NULL;

	out->argc = 0;
	out->argv[0] = NULL;
	if (strlen(line) > SSH_COMMAND_MAX)
		return SSH_SPLIT_TOO_LONG;
	snprintf(out->copy, sizeof out->copy, "%s", line);
	for (char *tok = strtok_r(out->copy, separators, &save); tok; tok = strtok_r(NULL, separators, &save)) {
		if (out->argc == max_words) {
			out->argc = 0;
			out->argv[0] = NULL;
			return SSH_SPLIT_TOO_MANY;
		}
		out->argv[out->argc++] = tok;
	}
	out->argv[out->argc] = NULL;
	return SSH_SPLIT_OK;
}

int ssh_shell_request_parse(const char *line, char session_ref[TICKET_ID_MAX + 1], int *view_only)
{
	struct ssh_command_words w;

	/* Only spaces and tabs separate here, as they always have for shell. */
	if (ssh_command_split(line, " \t", 3, &w) != SSH_SPLIT_OK || w.argc < 2 ||
	    strcmp(w.argv[0], "shell") != 0 || strlen(w.argv[1]) > TICKET_ID_MAX)
		return -1;
	if (w.argc == 3 && strcmp(w.argv[2], "--view-only") != 0)
		return -1;
	*view_only = w.argc == 3;
	snprintf(session_ref, TICKET_ID_MAX + 1, "%s", w.argv[1]);
	return 0;
}
