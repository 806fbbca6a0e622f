/*
 * fbs_play: plays an FBS 001.000 file through libvncclient, the way an RFB
 * player would, and writes the final framebuffer as a PNG, so the export
 * tests can compare it with the replay engine's last frame.
 *
 *   fbs_play FILE.fbs OUT.png
 *
 * Checks the file on the way: the signature, every block's length (at most
 * FBS_PLAY_MAX_BLOCK), zero padding to a multiple of 4, and time stamps that
 * never decrease.  The RFB bytes of all blocks are written, in order, into
 * one end of a socketpair whose other end libvncclient reads as its server
 * connection (its own requests are read and thrown away); it decodes until
 * the bytes run out.  Prints "fbs ok blocks=N bytes=N last_ms=N WxH".
 * Exit 0, 1 on a malformed file or a decoding failure, 2 usage error.
 * Test tool only: never installed.
 */
#include <errno.h>
#include <png.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rfb/rfbclient.h>

#define FBS_PLAY_MAX_BLOCK (1u << 20)
#define FBS_PLAY_MAX_BYTES (1u << 30)
#define FBS_PLAY_WAIT_US   500000     /* one wait for the next server message */
#define FBS_PLAY_TIMEOUT_S 60         /* the whole run */

struct feeder {
	int fd;
	const unsigned char *data;
	size_t len;
};

static unsigned char *read_fbs(const char *path, size_t *out_len, unsigned *blocks, uint32_t *last_ms)
{
	FILE *f = fopen(path, "rb");
	unsigned char sig[12], hdr[4], *data = NULL;
	size_t len = 0;

	*blocks = 0;
	*last_ms = 0;
	if (f == NULL || fread(sig, 1, 12, f) != 12 || memcmp(sig, "FBS 001.000\n", 12) != 0) {
		fprintf(stderr, "fbs_play: %s: not an FBS 001.000 file\n", path);
		goto fail;
	}
	while (fread(hdr, 1, 4, f) == 4) {
		uint32_t n = (uint32_t)hdr[0] << 24 | hdr[1] << 16 | hdr[2] << 8 | hdr[3], ms;
		unsigned char pad[3], ts[4];
		size_t padlen = (4 - n % 4) % 4;
		if (n == 0 || n > FBS_PLAY_MAX_BLOCK || len + n > FBS_PLAY_MAX_BYTES) {
			fprintf(stderr, "fbs_play: block %u: bad length %u\n", *blocks, n);
			goto fail;
		}
		unsigned char *grown = realloc(data, len + n);
		if (grown == NULL)
			goto fail;
		data = grown;
		if (fread(data + len, 1, n, f) != n || fread(pad, 1, padlen, f) != padlen ||
		    fread(ts, 1, 4, f) != 4) {
			fprintf(stderr, "fbs_play: block %u: cut short\n", *blocks);
			goto fail;
		}
		for (size_t i = 0; i < padlen; i++)
			if (pad[i] != 0) {
				fprintf(stderr, "fbs_play: block %u: padding is not zero\n", *blocks);
				goto fail;
			}
		ms = (uint32_t)ts[0] << 24 | ts[1] << 16 | ts[2] << 8 | ts[3];
		if (ms < *last_ms) {
			fprintf(stderr, "fbs_play: block %u: time goes back (%u < %u ms)\n", *blocks, ms, *last_ms);
			goto fail;
		}
		*last_ms = ms;
		len += n;
		(*blocks)++;
	}
	if (!feof(f) || *blocks == 0) {
		fprintf(stderr, "fbs_play: %s: trailing bytes or no block\n", path);
		goto fail;
	}
	fclose(f);
	*out_len = len;
	return data;
fail:
	if (f)
		fclose(f);
	free(data);
	return NULL;
}

/* Writes the RFB bytes and drains the client's requests until it closes. */
static void *feed(void *arg)
{
	struct feeder *fd = arg;
	unsigned char sink[4096];
	size_t off = 0;

	for (;;) {
		struct pollfd p = { .fd = fd->fd, .events = POLLIN | (off < fd->len ? POLLOUT : 0) };
		if (poll(&p, 1, 1000) < 0 && errno != EINTR)
			break;
		if (p.revents & POLLIN) {
			ssize_t n = read(fd->fd, sink, sizeof sink);
			if (n <= 0)
				break;
		}
		if ((p.revents & POLLOUT) && off < fd->len) {
			ssize_t n = write(fd->fd, fd->data + off, fd->len - off > 65536 ? 65536 : fd->len - off);
			if (n < 0 && errno != EINTR && errno != EAGAIN)
				break;
			if (n > 0)
				off += (size_t)n;
			if (off == fd->len)
				shutdown(fd->fd, SHUT_WR);
		}
		if (p.revents & (POLLERR | POLLHUP) && !(p.revents & POLLIN))
			break;
	}
	return NULL;
}

static int write_png(const char *path, rfbClient *client)
{
	size_t n = (size_t)client->width * client->height;
	const uint32_t *fb = (const uint32_t *)client->frameBuffer;
	unsigned char *rgb = malloc(n * 3);
	png_image img;
	int ok;

	if (rgb == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		rgb[3 * i] = (unsigned char)(fb[i] >> 16);
		rgb[3 * i + 1] = (unsigned char)(fb[i] >> 8);
		rgb[3 * i + 2] = (unsigned char)fb[i];
	}
	memset(&img, 0, sizeof img);
	img.version = PNG_IMAGE_VERSION;
	img.width = (png_uint_32)client->width;
	img.height = (png_uint_32)client->height;
	img.format = PNG_FORMAT_RGB;
	ok = png_image_write_to_file(&img, path, 0, rgb, 0, NULL);
	free(rgb);
	return ok ? 0 : -1;
}

static void quiet(const char *fmt, ...)
{
	(void)fmt;
}

int main(int argc, char **argv)
{
	struct feeder feeder;
	pthread_t thread;
	unsigned blocks;
	uint32_t last_ms;
	rfbClient *client;
	int sv[2], rc = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: fbs_play FILE.fbs OUT.png\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	alarm(FBS_PLAY_TIMEOUT_S);
	feeder.data = read_fbs(argv[1], &feeder.len, &blocks, &last_ms);
	if (feeder.data == NULL)
		return 1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("fbs_play: socketpair");
		return 1;
	}
	feeder.fd = sv[1];
	pthread_create(&thread, NULL, feed, &feeder);
	rfbClientLog = quiet;
	client = rfbGetClient(8, 3, 4);
	/* The recorder leg's fixed format: 0x00RRGGBB little-endian. */
	client->format.redShift = 16;
	client->format.greenShift = 8;
	client->format.blueShift = 0;
	client->canHandleNewFBSize = TRUE;
	client->listenSpecified = TRUE; /* "already connected": use client->sock */
	client->sock = sv[0];
	if (!rfbInitClient(client, NULL, NULL)) {
		fprintf(stderr, "fbs_play: libvncclient refused the handshake\n");
		shutdown(sv[1], SHUT_RDWR);
		pthread_join(thread, NULL);
		return 1;
	}
	/* Decode until the bytes run out (EOF ends HandleRFBServerMessage). */
	for (;;) {
		int ready = WaitForMessage(client, FBS_PLAY_WAIT_US);
		if (ready < 0 || (ready > 0 && !HandleRFBServerMessage(client)))
			break;
		/* ready == 0: the feeder is still writing; the alarm bounds the run. */
	}
	if (write_png(argv[2], client) == 0) {
		printf("fbs ok blocks=%u bytes=%zu last_ms=%u %dx%d\n", blocks, feeder.len, last_ms, client->width,
		       client->height);
		rc = 0;
	} else {
		fprintf(stderr, "fbs_play: cannot write %s\n", argv[2]);
	}
	free(client->frameBuffer); /* libvncclient leaves its framebuffer to the application */
	client->frameBuffer = NULL;
	free(client->rcSource);    /* nor does it free the last cursor shape */
	free(client->rcMask);
	client->rcSource = client->rcMask = NULL;
	rfbClientCleanup(client); /* closes sv[0]: the feeder sees EOF */
	pthread_join(thread, NULL);
	close(sv[1]);
	free((void *)feeder.data);
	return rc;
}
