#include "fbs.h"

static int put_u32be(FILE *out, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
	                       (unsigned char)(v >> 8), (unsigned char)v };

	return fwrite(b, 1, sizeof b, out) == sizeof b ? 0 : -1;
}

int fbs_write_header(FILE *out)
{
	return fwrite(FBS_SIGNATURE, 1, FBS_SIGNATURE_LEN, out) == FBS_SIGNATURE_LEN ? 0 : -1;
}

int fbs_write_block(FILE *out, uint32_t time_ms, const void *data, size_t len)
{
	static const unsigned char zeros[3];
	size_t pad = (4 - len % 4) % 4;

	if (len == 0)
		return 0;
	if (len > FBS_MAX_BLOCK)
		return -1;
	if (put_u32be(out, (uint32_t)len) < 0 || fwrite(data, 1, len, out) != len ||
	    fwrite(zeros, 1, pad, out) != pad || put_u32be(out, time_ms) < 0)
		return -1;
	return ferror(out) ? -1 : 0;
}
