#include "replay_keyframes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/sha.h>
#include <zlib.h>

#include "atomic_file.h"
#include "errbuf.h"
#include "replay_proto.h"
#include "xmalloc.h"

/* magic 8 | version 2 | reserved 2 | interval 4 | header hash 32 | records 8 |
 * bytes 8 | chain 32 | count 4 */
#define FILE_HEADER 100
/* time 8 | stream 2 | reserved 2 | leg 4 | next_unit 8 | record index 8 |
 * record offset 8 | width 4 | height 4 | zlib state 1 | reserved 3 |
 * window len 4 | fb len 4 */
#define ENTRY_HEADER 60
#define KEYFRAME_ZLIB_LEVEL 1 /* speed over size: building is the slow part */

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

void replay_keyframes_free(struct replay_keyframes *kf)
{
	free(kf->kf);
	free(kf->owned);
	memset(kf, 0, sizeof *kf);
}

int replay_keyframes_parse(const uint8_t *data, size_t len, struct replay_keyframes *kf,
                           char *err, size_t errlen)
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	size_t off, body;
	uint64_t count;

	kf->kf = NULL;
	kf->count = 0;
	if (len < FILE_HEADER + SHA256_DIGEST_LENGTH) {
		errbuf_set(err, errlen, "corrupt: %zu bytes is too short", len);
		return -1;
	}
	body = len - SHA256_DIGEST_LENGTH;
	SHA256(data, body, digest);
	if (memcmp(digest, data + body, sizeof digest) != 0) {
		errbuf_set(err, errlen, "corrupt: its SHA-256 does not match");
		return -1;
	}
	if (memcmp(data, REPLAY_KEYFRAMES_MAGIC, 8) != 0 || get_be(data + 8, 2) != REPLAY_KEYFRAMES_VERSION ||
	    get_be(data + 10, 2) != 0) {
		errbuf_set(err, errlen, "not a keyframes file of version %d", REPLAY_KEYFRAMES_VERSION);
		return -1;
	}
	kf->id.interval_ms = (uint32_t)get_be(data + 12, 4);
	memcpy(kf->id.header_hash, data + 16, RECORDING_HASH_LEN);
	kf->id.records = get_be(data + 48, 8);
	kf->id.bytes = get_be(data + 56, 8);
	memcpy(kf->id.chain, data + 64, RECORDING_HASH_LEN);
	count = get_be(data + 96, 4);
	if (count > REPLAY_MAX_KEYFRAMES || count > (body - FILE_HEADER) / ENTRY_HEADER) {
		errbuf_set(err, errlen, "corrupt: %llu keyframes claimed", (unsigned long long)count);
		return -1;
	}
	kf->kf = count ? xcalloc((size_t)count, sizeof *kf->kf) : NULL;
	off = FILE_HEADER;
	for (size_t i = 0; i < count; i++) {
		struct replay_keyframe *k = &kf->kf[i];
		const uint8_t *p = data + off;
		uint64_t need;

		if (body - off < ENTRY_HEADER)
			goto short_file;
		k->time_us = get_be(p, 8);
		k->stream = (uint16_t)get_be(p + 8, 2);
		k->leg = (uint32_t)get_be(p + 12, 4);
		k->next_unit = get_be(p + 16, 8);
		k->record_index = get_be(p + 24, 8);
		k->record_offset = get_be(p + 32, 8);
		k->width = (uint32_t)get_be(p + 40, 4);
		k->height = (uint32_t)get_be(p + 44, 4);
		k->zlib_state = p[48];
		k->window_len = (uint32_t)get_be(p + 52, 4);
		k->fb_len = (uint32_t)get_be(p + 56, 4);
		if (get_be(p + 10, 2) != 0 || p[49] || p[50] || p[51] || k->zlib_state > 1 ||
		    k->window_len > REPLAY_ZLIB_WINDOW || (k->zlib_state == 0 && k->window_len != 0) ||
		    k->width < 1 || k->height < 1 || k->width > RFB_FRAMER_MAX_DIM ||
		    k->height > RFB_FRAMER_MAX_DIM || (uint64_t)k->width * k->height > REPLAY_MAX_PIXELS ||
		    k->fb_len < 1 || k->fb_len > REPLAY_MAX_KEYFRAME_FB || k->next_unit < 1) {
			errbuf_set(err, errlen, "corrupt: keyframe %zu has impossible values", i);
			goto fail;
		}
		if (i > 0 && (k->leg < kf->kf[i - 1].leg ||
		              (k->leg == kf->kf[i - 1].leg && k->next_unit <= kf->kf[i - 1].next_unit))) {
			errbuf_set(err, errlen, "corrupt: keyframe %zu out of order", i);
			goto fail;
		}
		need = (uint64_t)ENTRY_HEADER + k->window_len + k->fb_len;
		if (need > body - off)
			goto short_file;
		k->window = p + ENTRY_HEADER;
		k->fb = k->window + k->window_len;
		off += (size_t)need;
	}
	if (off != body) {
		errbuf_set(err, errlen, "corrupt: %zu bytes after the last keyframe", body - off);
		goto fail;
	}
	kf->count = (size_t)count;
	return 0;
short_file:
	errbuf_set(err, errlen, "corrupt: keyframes run past the end of the file");
fail:
	free(kf->kf);
	kf->kf = NULL;
	return -1;
}

int replay_keyframes_load(const char *path, struct replay_keyframes *kf, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd;

	memset(kf, 0, sizeof *kf);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		errbuf_set(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
	    (uint64_t)st.st_size > REPLAY_MAX_KEYFRAMES_FILE || (uint64_t)st.st_size > SIZE_MAX) {
		errbuf_set(err, errlen, "not a regular file of at most %llu bytes",
		           (unsigned long long)REPLAY_MAX_KEYFRAMES_FILE);
		close(fd);
		return -1;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		errbuf_set(err, errlen, "cannot read %s", path);
		free(buf);
		return -1;
	}
	if (replay_keyframes_parse(buf, got, kf, err, errlen) < 0) {
		free(buf);
		return -1;
	}
	kf->owned = buf;
	kf->owned_len = got;
	return 1;
}

int replay_keyframes_store(const char *path, const struct replay_keyframes *kf, char *err, size_t errlen)
{
	if (unlink(path) < 0 && errno != ENOENT) {
		errbuf_set(err, errlen, "cannot replace %s: %s", path, strerror(errno));
		return -1;
	}
	if (atomic_file_create(path, kf->owned, kf->owned_len, 0600) < 0) {
		errbuf_set(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void reserve(struct replay_keyframes *kf, size_t more)
{
	if (kf->owned_len + more <= kf->cap)
		return;
	while (kf->owned_len + more > kf->cap)
		kf->cap = kf->cap ? 2 * kf->cap : 1 << 20;
	kf->owned = xreallocarray(kf->owned, kf->cap, 1);
}

void replay_keyframes_begin(struct replay_keyframes *kf, const struct replay_keyframes_id *id)
{
	uint8_t *p;

	memset(kf, 0, sizeof *kf);
	kf->id = *id;
	reserve(kf, FILE_HEADER);
	p = kf->owned;
	memset(p, 0, FILE_HEADER);
	memcpy(p, REPLAY_KEYFRAMES_MAGIC, 8);
	put_be(p + 8, REPLAY_KEYFRAMES_VERSION, 2);
	put_be(p + 12, id->interval_ms, 4);
	memcpy(p + 16, id->header_hash, RECORDING_HASH_LEN);
	put_be(p + 48, id->records, 8);
	put_be(p + 56, id->bytes, 8);
	memcpy(p + 64, id->chain, RECORDING_HASH_LEN);
	kf->owned_len = FILE_HEADER;
}

int replay_keyframes_add(struct replay_keyframes *kf, const struct replay_keyframe *meta,
                         const uint32_t *pixels, const uint8_t *window, char *err, size_t errlen)
{
	size_t npix = (size_t)meta->width * meta->height;
	uint32_t *filtered;
	uLongf zlen;
	uint8_t *p;

	if (kf->building_count >= REPLAY_MAX_KEYFRAMES) {
		errbuf_set(err, errlen, "more than %u keyframes", REPLAY_MAX_KEYFRAMES);
		return -1;
	}
	filtered = xcalloc(npix, 4);
	memcpy(filtered, pixels, npix * 4);
	replay_proto_filter_fb(filtered, meta->width, meta->height);
	zlen = compressBound((uLong)(npix * 4));
	reserve(kf, ENTRY_HEADER + meta->window_len + (size_t)zlen);
	p = kf->owned + kf->owned_len;
	if (compress2(p + ENTRY_HEADER + meta->window_len, &zlen, (const Bytef *)filtered,
	              (uLong)(npix * 4), KEYFRAME_ZLIB_LEVEL) != Z_OK || zlen > REPLAY_MAX_KEYFRAME_FB) {
		free(filtered);
		errbuf_set(err, errlen, "cannot compress a keyframe");
		return -1;
	}
	free(filtered);
	memset(p, 0, ENTRY_HEADER);
	put_be(p, meta->time_us, 8);
	put_be(p + 8, meta->stream, 2);
	put_be(p + 12, meta->leg, 4);
	put_be(p + 16, meta->next_unit, 8);
	put_be(p + 24, meta->record_index, 8);
	put_be(p + 32, meta->record_offset, 8);
	put_be(p + 40, meta->width, 4);
	put_be(p + 44, meta->height, 4);
	p[48] = meta->zlib_state;
	put_be(p + 52, meta->window_len, 4);
	put_be(p + 56, zlen, 4);
	if (meta->window_len)
		memcpy(p + ENTRY_HEADER, window, meta->window_len);
	kf->owned_len += ENTRY_HEADER + meta->window_len + (size_t)zlen;
	kf->building_count++;
	return 0;
}

int replay_keyframes_finish(struct replay_keyframes *kf, char *err, size_t errlen)
{
	reserve(kf, SHA256_DIGEST_LENGTH);
	put_be(kf->owned + 96, kf->building_count, 4);
	SHA256(kf->owned, kf->owned_len, kf->owned + kf->owned_len);
	kf->owned_len += SHA256_DIGEST_LENGTH;
	return replay_keyframes_parse(kf->owned, kf->owned_len, kf, err, errlen);
}
