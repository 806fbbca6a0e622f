#include "session_code.h"

#include <stddef.h>

int session_code_normalise(const char *code, char digits[SESSION_CODE_DIGITS + 1])
{
	size_t n = 0;

	for (const char *p = code; *p; p++) {
		if (*p == '-' || *p == ' ')
			continue;
		if (*p < '0' || *p > '9' || n == SESSION_CODE_DIGITS)
			return 0;
		digits[n++] = *p;
	}
	digits[n] = '\0';
	return n == SESSION_CODE_DIGITS;
}
