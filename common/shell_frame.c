#include "shell_frame.h"

#include <string.h>

long shell_frame_next(const uint8_t *data, size_t len, struct shell_frame *frame)
{
	size_t plen;

	if (len < SHELL_FRAME_HEADER)
		return 0;
	if (data[0] < SHELL_DATA || data[0] > SHELL_NOTICE || data[1] != 0)
		return -1;
	plen = (size_t)data[2] << 8 | data[3];
	if (plen > SHELL_FRAME_MAX || ((data[0] == SHELL_RESIZE || data[0] == SHELL_EXIT) && plen != 4))
		return -1;
	if (len - SHELL_FRAME_HEADER < plen)
		return 0;
	frame->type = (enum shell_frame_type)data[0];
	frame->payload = data + SHELL_FRAME_HEADER;
	frame->len = plen;
	return (long)(SHELL_FRAME_HEADER + plen);
}

size_t shell_frame_write(uint8_t *out, enum shell_frame_type type, const void *payload, size_t len)
{
	out[0] = (uint8_t)type;
	out[1] = 0;
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	if (len)
		memcpy(out + SHELL_FRAME_HEADER, payload, len);
	return SHELL_FRAME_HEADER + len;
}

size_t shell_frame_resize(uint8_t out[SHELL_FRAME_HEADER + 4], unsigned cols, unsigned rows)
{
	uint8_t p[4] = { (uint8_t)(cols >> 8), (uint8_t)cols, (uint8_t)(rows >> 8), (uint8_t)rows };

	return shell_frame_write(out, SHELL_RESIZE, p, sizeof p);
}

size_t shell_frame_exit(uint8_t out[SHELL_FRAME_HEADER + 4], int status)
{
	uint32_t u = (uint32_t)status;
	uint8_t p[4] = { (uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8), (uint8_t)u };

	return shell_frame_write(out, SHELL_EXIT, p, sizeof p);
}

int shell_frame_get_resize(const struct shell_frame *f, unsigned *cols, unsigned *rows)
{
	if (f->type != SHELL_RESIZE || f->len != 4)
		return -1;
	*cols = (unsigned)f->payload[0] << 8 | f->payload[1];
	*rows = (unsigned)f->payload[2] << 8 | f->payload[3];
	return 0;
}

int shell_frame_get_exit(const struct shell_frame *f, int *status)
{
	if (f->type != SHELL_EXIT || f->len != 4)
		return -1;
	*status = (int)((uint32_t)f->payload[0] << 24 | (uint32_t)f->payload[1] << 16 |
	                (uint32_t)f->payload[2] << 8 | f->payload[3]);
	return 0;
}
