#include "wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int plain_value_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == ':' || c == '@' || c == '+' || c == '/' || c == '-';
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes [s, s+len) into out (capacity WIRE_MAX_VALUE + 1). */
static int decode_value(const char *s, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (o >= WIRE_MAX_VALUE)
			return -1;
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= len)
				return -1;
			hi = hex_value((unsigned char)s[i + 1]);
			lo = hex_value((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1; /* %00 would truncate the C string */
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (plain_value_char(c)) {
			out[o++] = (char)c;
		} else {
			return -1;
		}
	}
	out[o] = '\0';
	return 0;
}

int wire_parse(const char *line, size_t len, struct wire_msg *msg)
{
	size_t pos = 0, start;

	memset(msg, 0, sizeof *msg);
	if (len > WIRE_MAX_LINE)
		return -1;
	start = pos;
	while (pos < len && line[pos] != ' ') {
		if (line[pos] < 'A' || line[pos] > 'Z')
			return -1;
		pos++;
	}
	if (pos == start || pos - start > WIRE_MAX_VERB)
		return -1;
	memcpy(msg->verb, line + start, pos - start);
	while (pos < len) {
		struct wire_field *f;
		size_t key_start, value_start;

		if (line[pos] != ' ')
			return -1;
		pos++;
		if (msg->nfields == WIRE_MAX_FIELDS)
			return -1;
		f = &msg->fields[msg->nfields];
		key_start = pos;
		while (pos < len && line[pos] != '=') {
			if (!((line[pos] >= 'a' && line[pos] <= 'z') || line[pos] == '_'))
				return -1;
			pos++;
		}
		if (pos == len || pos == key_start || pos - key_start > WIRE_MAX_KEY)
			return -1;
		memcpy(f->key, line + key_start, pos - key_start);
		if (wire_get(msg, f->key) != NULL)
			return -1; /* a repeated key is ambiguous */
		value_start = ++pos;
		while (pos < len && line[pos] != ' ')
			pos++;
		if (decode_value(line + value_start, pos - value_start, f->value) < 0)
			return -1;
		msg->nfields++;
	}
	return 0;
}

const char *wire_get(const struct wire_msg *msg, const char *key)
{
	for (int i = 0; i < msg->nfields; i++)
		if (strcmp(msg->fields[i].key, key) == 0)
			return msg->fields[i].value;
	return NULL;
}

static int append(char *buf, size_t buflen, size_t *pos, const char *s, size_t n)
{
	if (*pos + n >= buflen)
		return -1;
	memcpy(buf + *pos, s, n);
	*pos += n;
	return 0;
}

int wire_vformat(char *buf, size_t buflen, const char *verb, va_list ap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t pos = 0;
	const char *key;

	if (append(buf, buflen, &pos, verb, strlen(verb)) < 0)
		return -1;
	while ((key = va_arg(ap, const char *)) != NULL) {
		const unsigned char *v = va_arg(ap, const unsigned char *);
		if (append(buf, buflen, &pos, " ", 1) < 0 || append(buf, buflen, &pos, key, strlen(key)) < 0 ||
		    append(buf, buflen, &pos, "=", 1) < 0)
			return -1;
		for (; *v; v++) {
			char enc[3] = { '%', hex[*v >> 4], hex[*v & 15] };
			if (plain_value_char(*v) ? append(buf, buflen, &pos, (const char *)v, 1) < 0
			                         : append(buf, buflen, &pos, enc, 3) < 0)
				return -1;
		}
	}
	if (pos > WIRE_MAX_LINE || append(buf, buflen, &pos, "\n", 1) < 0)
		return -1;
	buf[pos] = '\0';
	return (int)pos;
}

int wire_format(char *buf, size_t buflen, const char *verb, ...)
{
	va_list ap;
	int rc;

	va_start(ap, verb);
	rc = wire_vformat(buf, buflen, verb, ap);
	va_end(ap);
	return rc;
}
