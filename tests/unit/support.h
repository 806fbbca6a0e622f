/*
 * Fixture helpers shared by the cmocka unit tests (tests/unit/test_*.c).
 *
 * Contract:
 *  - support_tempdir, support_remove_tree, support_fresh_store and
 *    support_store_dir_open/_close report failure by return value (0 ok,
 *    -1 failed) and never fail the running test, so cmocka setup and
 *    teardown functions may use them.  The caller owns what they create:
 *    the directory (support_remove_tree) and the store (store_close), or
 *    both at once (support_store_dir_close).
 *  - support_path, support_write_file, support_read_file and
 *    support_count_rows are for test bodies: anything unexpected fails the
 *    running test through cmocka, so they return only on success (apart
 *    from support_read_file's documented NULL).
 *  - Paths are built as DIR/NAME and must fit in the caller's buffer.
 */
#ifndef CONCIERGE_TESTS_SUPPORT_H
#define CONCIERGE_TESTS_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* File name of the database support_fresh_store creates inside its dir. */
#define SUPPORT_DB_NAME "concierge.db"

/* Creates a new private (0700) directory /tmp/TAG.XXXXXX with mkdtemp and
 * writes its path to dir[len].  Returns 0, or -1 with dir set to "" when the
 * path does not fit or mkdtemp fails (errno from mkdtemp). */
int support_tempdir(char *dir, size_t len, const char *tag);

/* Removes dir and everything below it, depth first, without following
 * symbolic links.  Only paths below /tmp/ are touched: anything else is
 * refused with -1.  dir "" (what a failed support_tempdir leaves) is a
 * no-op returning 0.  Returns 0, or -1 when something could not be
 * removed (the walk stops there). */
int support_remove_tree(const char *dir);

/* Writes DIR/SUPPORT_DB_NAME to db_path[len] and opens it with
 * STORE_OPEN_CREATE.  Returns 0 with *out set to the new store (the caller
 * store_close()s it), or -1 with *out NULL and the reason on stderr.  The
 * directory is left as it is either way. */
int support_fresh_store(const char *dir, char *db_path, size_t len, struct store **out);

/* The two above together, the fixture of tests that need a database:
 * a new /tmp/TAG.XXXXXX holding a fresh DIR/SUPPORT_DB_NAME.  Returns 0,
 * or -1 with nothing left behind (dir "", *out NULL). */
int support_store_dir_open(char *dir, size_t dirlen, const char *tag, char *db_path, size_t dblen,
                           struct store **out);

/* Undoes support_store_dir_open (or a test's own tempdir and store):
 * store_close(store) (NULL is fine), then support_remove_tree(dir), whose
 * result it returns. */
int support_store_dir_close(struct store *store, const char *dir);

/* Writes DIR/NAME to out[len]; fails the test when it does not fit. */
void support_path(char *out, size_t len, const char *dir, const char *name);

/* Replaces DIR/NAME (an existing file is unlinked first, so the new one
 * gets a fresh mode) with the len bytes at data. */
void support_write_file(const char *dir, const char *name, const void *data, size_t len);

/* The whole of DIR/NAME in a new NUL-terminated buffer the caller free()s,
 * its size (without the NUL) in *len when len is not NULL.  NULL when the
 * file cannot be opened; a read error fails the test. */
char *support_read_file(const char *dir, const char *name, size_t *len);

/* SELECT count(*) FROM table, on the store's connection. */
long long support_count_rows(struct store *store, const char *table);

/* Growable byte strings for building protocol streams in tests (fails the
 * test on allocation failure).  Start zeroed; bytes_free resets to empty.
 * Multi-byte values are written big-endian (network order). */
struct bytes {
	uint8_t *p;
	size_t len, cap;
};

void put(struct bytes *b, const void *src, size_t n);
void put_u8(struct bytes *b, unsigned v);
void put_u16(struct bytes *b, unsigned v);
void put_u32(struct bytes *b, uint32_t v);
void bytes_free(struct bytes *b);

/* RFB 3.8 server->client builders: the handshake up to ServerInit (security
 * types VNC auth and None, SecurityResult OK, the recorder's pixel format),
 * a FramebufferUpdate header, and a rectangle header. */
void put_rfb_handshake(struct bytes *b, unsigned w, unsigned h, const char *name);
void put_rfb_update(struct bytes *b, unsigned nrects);
void put_rfb_rect(struct bytes *b, unsigned x, unsigned y, unsigned w, unsigned h, int32_t enc);

#endif
