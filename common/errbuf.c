#include "errbuf.h"

#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>

void errbuf_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *errbuf_openssl(char *buf, size_t buflen)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		snprintf(buf, buflen, "unknown OpenSSL error");
	else
		ERR_error_string_n(e, buf, buflen);
	ERR_clear_error();
	return buf;
}
