#include "json_out.h"

void json_put_escaped_byte(FILE *out, unsigned char c)
{
	switch (c) {
	case '"': fputs("\\\"", out); break;
	case '\\': fputs("\\\\", out); break;
	case '\n': fputs("\\n", out); break;
	case '\r': fputs("\\r", out); break;
	case '\t': fputs("\\t", out); break;
	case '\b': fputs("\\b", out); break;
	case '\f': fputs("\\f", out); break;
	default:
		if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
}

void json_string(FILE *out, const char *s)
{
	if (s == NULL) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		json_put_escaped_byte(out, *p);
	fputc('"', out);
}

void json_field_string(FILE *out, int first, const char *key, const char *value)
{
	if (!first)
		fputc(',', out);
	json_string(out, key);
	fputc(':', out);
	json_string(out, value);
}
