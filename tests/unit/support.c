/* Fixture helpers shared by the unit tests: see support.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "support.h"

int support_tempdir(char *dir, size_t len, const char *tag)
{
	int n;

	if (len == 0)
		return -1;
	n = snprintf(dir, len, "/tmp/%s.XXXXXX", tag);
	if (n < 0 || (size_t)n >= len || mkdtemp(dir) == NULL) {
		dir[0] = '\0';
		return -1;
	}
	return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int support_remove_tree(const char *dir)
{
	if (dir[0] == '\0')
		return 0;
	if (strncmp(dir, "/tmp/", 5) != 0 || dir[5] == '\0' || strstr(dir, "..") != NULL) {
		fprintf(stderr, "support_remove_tree: refusing '%s' (not below /tmp/)\n", dir);
		return -1;
	}
	return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int support_fresh_store(const char *dir, char *db_path, size_t len, struct store **out)
{
	char err[1024];
	int n = snprintf(db_path, len, "%s/%s", dir, SUPPORT_DB_NAME);

	*out = NULL;
	if (n < 0 || (size_t)n >= len) {
		fprintf(stderr, "support_fresh_store: path %s/%s too long\n", dir, SUPPORT_DB_NAME);
		return -1;
	}
	if (store_open(db_path, STORE_OPEN_CREATE, out, err, sizeof err) != 0) {
		fprintf(stderr, "store_open: %s\n", err);
		*out = NULL;
		return -1;
	}
	return 0;
}

int support_store_dir_open(char *dir, size_t dirlen, const char *tag, char *db_path, size_t dblen,
                           struct store **out)
{
	*out = NULL;
	if (support_tempdir(dir, dirlen, tag) != 0)
		return -1;
	if (support_fresh_store(dir, db_path, dblen, out) != 0) {
		support_remove_tree(dir);
		dir[0] = '\0';
		return -1;
	}
	return 0;
}

int support_store_dir_close(struct store *store, const char *dir)
{
	store_close(store);
	return support_remove_tree(dir);
}

void support_path(char *out, size_t len, const char *dir, const char *name)
{
	int n = snprintf(out, len, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= len)
		fail_msg("path %s/%s longer than %zu bytes", dir, name, len - 1);
}

void support_write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX];
	FILE *fp;

	support_path(path, sizeof path, dir, name);
	unlink(path);
	fp = fopen(path, "wb");
	if (fp == NULL)
		fail_msg("cannot create %s", path);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

char *support_read_file(const char *dir, const char *name, size_t *len)
{
	char path[PATH_MAX];
	size_t cap = 4096, n = 0, got;
	char *buf;
	FILE *fp;

	support_path(path, sizeof path, dir, name);
	fp = fopen(path, "rb");
	if (fp == NULL)
		return NULL;
	buf = malloc(cap);
	assert_non_null(buf);
	do {
		if (cap - n < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		got = fread(buf + n, 1, cap - n - 1, fp);
		n += got;
	} while (got > 0);
	if (ferror(fp))
		fail_msg("error reading %s", path);
	fclose(fp);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

long long support_count_rows(struct store *store, const char *table)
{
	sqlite3_stmt *stmt = NULL;
	char sql[160];
	long long n;
	int w = snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);

	assert_true(w > 0 && (size_t)w < sizeof sql);
	assert_int_equal(sqlite3_prepare_v2(store_db(store), sql, -1, &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	n = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return n;
}

void put(struct bytes *b, const void *src, size_t n)
{
	if (n == 0)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 64;

		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (b->p == NULL)
			fail_msg("out of memory");
		b->cap = cap;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

void put_u8(struct bytes *b, unsigned v)
{
	uint8_t c = (uint8_t)v;

	put(b, &c, 1);
}

void put_u16(struct bytes *b, unsigned v)
{
	put_u8(b, (v >> 8) & 0xff);
	put_u8(b, v & 0xff);
}

void put_u32(struct bytes *b, uint32_t v)
{
	put_u16(b, v >> 16);
	put_u16(b, v & 0xffff);
}

void bytes_free(struct bytes *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

void put_rfb_handshake(struct bytes *b, unsigned w, unsigned h, const char *name)
{
	static const uint8_t pf[16] = { 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0 };

	put(b, "RFB 003.008\n", 12);
	put_u8(b, 2); /* two security types: VNC auth, None */
	put_u8(b, 2);
	put_u8(b, 1);
	put_u32(b, 0); /* SecurityResult OK */
	put_u16(b, w);
	put_u16(b, h);
	put(b, pf, sizeof pf);
	put_u32(b, (uint32_t)strlen(name));
	put(b, name, strlen(name));
}

void put_rfb_update(struct bytes *b, unsigned nrects)
{
	put_u8(b, 0);
	put_u8(b, 0);
	put_u16(b, nrects);
}

void put_rfb_rect(struct bytes *b, unsigned x, unsigned y, unsigned w, unsigned h, int32_t enc)
{
	put_u16(b, x);
	put_u16(b, y);
	put_u16(b, w);
	put_u16(b, h);
	put_u32(b, (uint32_t)enc);
}
