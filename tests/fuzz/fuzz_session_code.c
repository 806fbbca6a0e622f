/*
 * libFuzzer target for the session-code normaliser the relay applies to an
 * agent's `HELLO code=` (server/session_code.c).  The input is the code
 * text (cut at its first NUL, as wire values are C strings).
 * Invariants, checked against a direct reading of the contract: accepted
 * exactly when the text is digits, dashes and spaces with exactly
 * SESSION_CODE_DIGITS digits; then `digits` is those digits in order,
 * NUL-terminated, and normalising the canonical "123-456-789" form of
 * them gives the same digits.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session_code.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *code = malloc(size + 1), expected[SESSION_CODE_DIGITS + 1];
	char digits[SESSION_CODE_DIGITS + 1], again[SESSION_CODE_DIGITS + 1], shown[SESSION_CODE_DIGITS + 3];
	size_t len, n = 0;
	int well_formed, accepted;

	memcpy(code, data, size);
	code[size] = '\0';
	len = strlen(code);
	/* The contract stated another way: only these characters, and exactly
	 * SESSION_CODE_DIGITS of them digits. */
	for (size_t i = 0; i < len; i++)
		if (code[i] >= '0' && code[i] <= '9' && n < SESSION_CODE_DIGITS)
			expected[n++] = code[i];
		else if (code[i] >= '0' && code[i] <= '9')
			n = SESSION_CODE_DIGITS + 1;
	well_formed = strspn(code, "0123456789- ") == len && n == SESSION_CODE_DIGITS;
	expected[n < SESSION_CODE_DIGITS ? n : SESSION_CODE_DIGITS] = '\0';

	accepted = session_code_normalise(code, digits);
	if (accepted != well_formed)
		abort();
	if (accepted) {
		if (strcmp(digits, expected) != 0)
			abort();
		snprintf(shown, sizeof shown, "%.3s-%.3s-%.3s", digits, digits + 3, digits + 6);
		if (session_code_normalise(shown, again) != 1 || strcmp(again, digits) != 0)
			abort();
	}
	free(code);
	return 0;
}
