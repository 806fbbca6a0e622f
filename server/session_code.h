/*
 * The text form of a session code as an end user types it (peer-supplied:
 * it arrives in the agent's `HELLO code=`).
 *
 * session_code_normalise keeps the digits of `code` (a NUL-terminated
 * string of any length), skipping dashes and spaces, and writes them
 * NUL-terminated into `digits`.  Returns 1 when exactly SESSION_CODE_DIGITS
 * digits remain and nothing else was there; 0 otherwise (any other
 * character, or too few or too many digits), with `digits` then holding
 * an unspecified prefix.  Pure: no allocation, no I/O, reads `code` only
 * up to the first character that decides the refusal.
 */
#ifndef CONCIERGE_SESSION_CODE_H
#define CONCIERGE_SESSION_CODE_H

#include "concierge_limits.h"

int session_code_normalise(const char *code, char digits[SESSION_CODE_DIGITS + 1]);

#endif
