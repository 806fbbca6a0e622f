/*
 * libFuzzer target for the SSH command-line splitter and the `shell`
 * request parser (server/ssh_command_line.c); the line is what a staff
 * member's SSH client sends with an exec request.  The first byte picks
 * the separator set (the runner's " \t\r\n" or the shell's " \t") and the
 * word limit; the rest, cut at its first NUL, is the line.
 * Invariants: TOO_LONG exactly when the line exceeds SSH_COMMAND_MAX;
 * otherwise the words are the line's maximal separator-free runs, in
 * order, non-empty, NUL-terminated inside out->copy, argv[argc] NULL, and
 * TOO_MANY exactly when there are more than the limit (argc then 0).  A
 * parsed shell request has a session reference of 1..TICKET_ID_MAX bytes
 * without separators.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ssh_command_line.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Words of `line` counted independently: starts of separator-free runs. */
static int count_words(const char *line, const char *separators)
{
	int n = 0;

	for (size_t i = 0; line[i]; i++)
		if (strchr(separators, line[i]) == NULL && (i == 0 || strchr(separators, line[i - 1]) != NULL))
			n++;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const separator_sets[] = { " \t\r\n", " \t" };
	struct ssh_command_words w;
	char *line, ref[TICKET_ID_MAX + 1];
	const char *seps, *p;
	int max_words, words, view_only = -1;
	enum ssh_split_result rc;

	if (size < 1)
		return 0;
	seps = separator_sets[data[0] & 1];
	max_words = 1 + (data[0] >> 1) % SSH_COMMAND_MAX_ARGS;
	line = malloc(size);
	memcpy(line, data + 1, size - 1);
	line[size - 1] = '\0';

	rc = ssh_command_split(line, seps, max_words, &w);
	words = count_words(line, seps);
	if (strlen(line) > SSH_COMMAND_MAX) {
		if (rc != SSH_SPLIT_TOO_LONG || w.argc != 0)
			abort();
	} else if (words > max_words) {
		if (rc != SSH_SPLIT_TOO_MANY || w.argc != 0 || w.argv[0] != NULL)
			abort();
	} else {
		if (rc != SSH_SPLIT_OK || w.argc != words || w.argv[w.argc] != NULL)
			abort();
		p = line;
		for (int i = 0; i < w.argc; i++) {
			size_t len = strlen(w.argv[i]);
			p += strspn(p, seps);
			if (len == 0 || w.argv[i] < w.copy || w.argv[i] + len >= w.copy + sizeof w.copy ||
			    strncmp(p, w.argv[i], len) != 0 || (p[len] != '\0' && strchr(seps, p[len]) == NULL))
				abort();
			p += len;
		}
	}

	if (ssh_shell_request_parse(line, ref, &view_only) == 0) {
		size_t len = strlen(ref);
		if (len == 0 || len > TICKET_ID_MAX || strpbrk(ref, " \t") != NULL ||
		    (view_only != 0 && view_only != 1) || strncmp(line + strspn(line, " \t"), "shell", 5) != 0 ||
		    strstr(line, ref) == NULL || (view_only && strstr(line, "--view-only") == NULL))
			abort();
	}
	free(line);
	return 0;
}
