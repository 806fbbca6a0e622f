/*
 * Minimal JSON output for the CLI's --json modes: callers print structure
 * with fprintf and values through these, so escaping lives in one place.
 */
#ifndef CONCIERGE_JSON_OUT_H
#define CONCIERGE_JSON_OUT_H

#include <stdio.h>

/* Writes one byte of a JSON string body: '"', '\\' and control characters
 * (and DEL) escaped, anything else as it is (the caller vouches for UTF-8). */
void json_put_escaped_byte(FILE *out, unsigned char c);
/* Writes `s` as a JSON string literal, or null when `s` is NULL. */
void json_string(FILE *out, const char *s);
/* Writes `"key":` then the string value, preceded by a comma unless `first`. */
void json_field_string(FILE *out, int first, const char *key, const char *value);

#endif
