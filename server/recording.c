#include "recording.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "errbuf.h"
#include "log.h"
#include "xmalloc.h"

#define MAGIC_LEN     8
#define HDR_FIXED     14 /* magic, u16 version, u32 body length */
#define REC_FIXED1    4  /* u8 type, u16 stream, u8 participant length */
#define REC_FIXED2    13 /* u8 flags, u64 time, u32 payload length */
#define REC_PREFIX_MAX (REC_FIXED1 + RECORDING_MAX_PARTICIPANT + REC_FIXED2)
#define CTL_FIXED     (8 + 8 + RECORDING_HASH_LEN + 2) /* records, bytes, chain, sig length */
#define CTL_MAX       (CTL_FIXED + RECORDING_MAX_SIGNATURE)
#define SIGNED_MAX    (32 + RECORDING_HASH_LEN + 8 + 8 + RECORDING_HASH_LEN)
#define READ_CHUNK    (16 * 1024)
#define FAIL_ENV      "CONCIERGE_RECORDING_FAIL_AFTER_BYTES"

/* Signature contexts, signed with their NUL, so a signature made for one
 * purpose (or by the TLS stack with the same key) means nothing here. */
static const char checkpoint_context[] = "CNCGREC1 checkpoint";
static const char trailer_context[] = "CNCGREC1 trailer";

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (24 - 8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (56 - 8 * i));
}

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static void to_hex(const unsigned char *bytes, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * len] = '\0';
}

static uint64_t clock_us(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) < 0)
		fatal("event=clock_gettime_failed errno=%d", errno);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Identifiers and names: printable ASCII without spaces. */
static int safe_text(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	return 1;
}

static int data_type(int type)
{
	return type >= RECORDING_RFB_SERVER_BYTES && type <= RECORDING_EVENT;
}

static int control_type(int type)
{
	return type == RECORDING_CHECKPOINT || type == RECORDING_TRAILER;
}

const char *recording_type_name(int type)
{
	switch (type) {
	case RECORDING_RFB_SERVER_BYTES: return "rfb";
	case RECORDING_INPUT_KEY: return "key";
	case RECORDING_INPUT_POINTER: return "pointer";
	case RECORDING_INPUT_CUT_TEXT: return "cut_text";
	case RECORDING_SHELL_OUTPUT: return "shell_output";
	case RECORDING_SHELL_INPUT: return "shell_input";
	case RECORDING_SHELL_RESIZE: return "shell_resize";
	case RECORDING_EVENT: return "event";
	case RECORDING_CHECKPOINT: return "checkpoint";
	case RECORDING_TRAILER: return "trailer";
	default: return "unknown";
	}
}

const char *recording_status_name(int status)
{
	switch (status) {
	case RECORDING_INTACT: return "intact";
	case RECORDING_TRUNCATED: return "truncated";
	case RECORDING_TAMPERED: return "tampered";
	default: return "error";
	}
}

void recording_params_default(struct recording_params *params)
{
	memset(params, 0, sizeof *params);
	params->checkpoint_ms = RECORDING_CHECKPOINT_MS;
	params->checkpoint_bytes = RECORDING_CHECKPOINT_BYTES;
	params->fault_write_after_bytes = -1;
	params->fault_fsync_after = -1;
}

/* ---- hashing and signing ---- */

static EVP_MD_CTX *md_new(void)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (md == NULL)
		fatal("event=out_of_memory what=EVP_MD_CTX");
	return md;
}

static void md_begin(EVP_MD_CTX *md, const unsigned char prev[RECORDING_HASH_LEN])
{
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		fatal("event=digest_init_failed");
	if (prev)
		EVP_DigestUpdate(md, prev, RECORDING_HASH_LEN);
}

static void md_end(EVP_MD_CTX *md, unsigned char out[RECORDING_HASH_LEN])
{
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(md, out, &n) != 1 || n != RECORDING_HASH_LEN)
		fatal("event=digest_final_failed");
}

int recording_key_id(EVP_PKEY *key, unsigned char out[RECORDING_HASH_LEN], char *err, size_t errlen)
{
	unsigned char *der = NULL;
	char why[256];
	int len = i2d_PUBKEY(key, &der);

	if (len <= 0) {
		errbuf_set(err, errlen, "cannot encode the relay public key: %s", errbuf_openssl(why, sizeof why));
		return -1;
	}
	if (EVP_Digest(der, (size_t)len, out, NULL, EVP_sha256(), NULL) != 1)
		fatal("event=digest_failed");
	OPENSSL_free(der);
	return 0;
}

/* Ed25519/Ed448 sign the message itself; every other key signs SHA-256. */
static const EVP_MD *sign_digest(EVP_PKEY *key)
{
	int id = EVP_PKEY_get_base_id(key);

	return (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) ? NULL : EVP_sha256();
}

/* The signed message: context (with its NUL) || header hash || u64 records
 * || u64 bytes || chain.  Returns its length. */
static size_t signed_message(unsigned char *msg, int type, const unsigned char header_hash[32],
                             uint64_t records, uint64_t bytes, const unsigned char chain[32])
{
	const char *ctx = type == RECORDING_TRAILER ? trailer_context : checkpoint_context;
	size_t n = strlen(ctx) + 1;

	memcpy(msg, ctx, n);
	memcpy(msg + n, header_hash, RECORDING_HASH_LEN);
	put64(msg + n + 32, records);
	put64(msg + n + 40, bytes);
	memcpy(msg + n + 48, chain, RECORDING_HASH_LEN);
	return n + 48 + RECORDING_HASH_LEN;
}

static int sign_message(EVP_PKEY *key, const unsigned char *msg, size_t len, unsigned char *sig,
                        size_t *siglen, char *err, size_t errlen)
{
	EVP_MD_CTX *md = md_new();
	size_t need = 0;
	char why[256];
	int rc = -1;

	if (EVP_DigestSignInit(md, NULL, sign_digest(key), NULL, key) != 1 ||
	    EVP_DigestSign(md, NULL, &need, msg, len) != 1) {
		errbuf_set(err, errlen, "cannot sign the recording: %s", errbuf_openssl(why, sizeof why));
		goto out;
	}
	if (need > RECORDING_MAX_SIGNATURE) {
		errbuf_set(err, errlen, "cannot sign the recording: signatures of %zu bytes exceed %d", need,
		        RECORDING_MAX_SIGNATURE);
		goto out;
	}
	if (EVP_DigestSign(md, sig, &need, msg, len) != 1) {
		errbuf_set(err, errlen, "cannot sign the recording: %s", errbuf_openssl(why, sizeof why));
		goto out;
	}
	*siglen = need;
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	return rc;
}

static int verify_signature(EVP_PKEY *key, const unsigned char *msg, size_t len,
                            const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *md = md_new();
	int ok = EVP_DigestVerifyInit(md, NULL, sign_digest(key), NULL, key) == 1 &&
	         EVP_DigestVerify(md, sig, siglen, msg, len) == 1;

	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ok;
}

EVP_PKEY *recording_load_key(const char *path, char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	BIO *bio = BIO_new_file(path, "rb");

	if (bio == NULL) {
		errbuf_set(err, errlen, "cannot open %s: %s", path, strerror(errno));
		ERR_clear_error();
		return NULL;
	}
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (key == NULL && BIO_reset(bio) >= 0)
		key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	if (key == NULL && BIO_reset(bio) >= 0 && (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
		key = X509_get_pubkey(cert);
	X509_free(cert);
	BIO_free(bio);
	ERR_clear_error();
	if (key == NULL)
		errbuf_set(err, errlen, "%s holds no PEM private key, public key or certificate", path);
	return key;
}

/* ---- record encoding (shared by writer and reader) ---- */

/* Writes a record's bytes before its payload; returns their length. */
static size_t record_prefix(unsigned char *buf, int type, uint16_t stream, const char *participant,
                            size_t plen, uint8_t flags, uint64_t time_us, uint32_t len)
{
	buf[0] = (unsigned char)type;
	put16(buf + 1, stream);
	buf[3] = (unsigned char)plen;
	if (plen)
		memcpy(buf + REC_FIXED1, participant, plen);
	buf[REC_FIXED1 + plen] = flags;
	put64(buf + REC_FIXED1 + plen + 1, time_us);
	put32(buf + REC_FIXED1 + plen + 9, len);
	return REC_FIXED1 + plen + REC_FIXED2;
}

/* Control payload: u64 records | u64 bytes | chain | u16 sig length | sig. */
struct control {
	uint64_t records, bytes;
	unsigned char chain[RECORDING_HASH_LEN];
	const unsigned char *sig;
	size_t siglen;
};

static int control_decode(const unsigned char *p, size_t len, struct control *c)
{
	if (len < CTL_FIXED)
		return -1;
	c->records = get64(p);
	c->bytes = get64(p + 8);
	memcpy(c->chain, p + 16, RECORDING_HASH_LEN);
	c->siglen = get16(p + 48);
	c->sig = p + CTL_FIXED;
	if (c->siglen == 0 || c->siglen > RECORDING_MAX_SIGNATURE || len != CTL_FIXED + c->siglen)
		return -1;
	return 0;
}

/* ---- writer ---- */

struct recording_writer {
	int fd;
	char *path;
	EVP_PKEY *key;
	EVP_MD_CTX *md;
	struct recording_params params;
	struct recording_header header;
	unsigned char header_hash[RECORDING_HASH_LEN];
	unsigned char chain[RECORDING_HASH_LEN]; /* chain after the last record */
	uint64_t records, data_records, bytes;
	uint64_t bytes_since_checkpoint, records_since_checkpoint, last_checkpoint_us;
	uint64_t written;                        /* every byte that reached write(2) */
	int64_t fsyncs;
	unsigned char signature[RECORDING_MAX_SIGNATURE]; /* of the last checkpoint/trailer */
	size_t siglen;
	int failed;                              /* refuses appends */
	int io_failed;                           /* file state unknown: no trailer */
	char failure[256];
};

uint64_t recording_writer_now_us(const struct recording_writer *w)
{
	uint64_t now = clock_us(CLOCK_MONOTONIC);

	return now > w->header.start_mono_us ? now - w->header.start_mono_us : 0;
}

uint64_t recording_writer_records(const struct recording_writer *w)
{
	return w->records;
}

uint64_t recording_writer_bytes(const struct recording_writer *w)
{
	return w->bytes;
}

/* Marks the writer failed; `io` when the file may hold a partial record. */
static int fail(struct recording_writer *w, int io, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int fail(struct recording_writer *w, int io, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->failure, sizeof w->failure, fmt, ap);
	va_end(ap);
	w->failed = 1;
	w->io_failed |= io;
	errbuf_set(err, errlen, "%s", w->failure);
	log_error("event=recording_failed path=%s offset=%" PRIu64 " why=\"%s\"", w->path, w->bytes,
	          w->failure);
	return -1;
}

/* writev(2) all of iov[0..n) (modified), honouring the fault budget: one
 * system call per record in the common case.  -1 with errno. */
static int write_vector(struct recording_writer *w, struct iovec *iov, int n)
{
	size_t len = 0, allowed, keep;
	int64_t budget = w->params.fault_write_after_bytes;
	int first = 0, end = 0;

	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	allowed = len;
	if (budget >= 0) {
		uint64_t left = (uint64_t)budget > w->written ? (uint64_t)budget - w->written : 0;
		if (left < allowed)
			allowed = (size_t)left;
	}
	for (keep = allowed; end < n && keep > 0; end++) { /* cut the vector at `allowed` */
		if (iov[end].iov_len > keep)
			iov[end].iov_len = keep;
		keep -= iov[end].iov_len;
	}
	while (allowed > 0) {
		ssize_t got = writev(w->fd, iov + first, end - first);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		allowed -= (size_t)got;
		len -= (size_t)got;
		w->written += (uint64_t)got;
		while (got > 0 || (first < end && iov[first].iov_len == 0)) { /* skip what went out */
			size_t take = (size_t)got < iov[first].iov_len ? (size_t)got : iov[first].iov_len;
			iov[first].iov_base = (char *)iov[first].iov_base + take;
			iov[first].iov_len -= take;
			got -= (ssize_t)take;
			if (iov[first].iov_len == 0)
				first++;
		}
	}
	if (len > 0) {
		errno = ENOSPC; /* injected: the disk is "full" */
		return -1;
	}
	return 0;
}

static int write_all(struct recording_writer *w, const void *buf, size_t len)
{
	struct iovec one = { (void *)buf, len };

	return write_vector(w, &one, 1);
}

static int sync_fd(struct recording_writer *w, int fd)
{
	if (w->params.fault_fsync_after >= 0 && w->fsyncs >= w->params.fault_fsync_after) {
		errno = EIO;
		return -1;
	}
	w->fsyncs++;
	return fsync(fd);
}

/* Appends one record (any type) and advances the chain. */
static int write_record(struct recording_writer *w, int type, uint16_t stream, const char *participant,
                        size_t plen, uint8_t flags, uint64_t time_us, const void *payload, size_t len,
                        char *err, size_t errlen)
{
	unsigned char prefix[REC_PREFIX_MAX], chain[RECORDING_HASH_LEN];
	size_t n = record_prefix(prefix, type, stream, participant, plen, flags, time_us, (uint32_t)len);
	uint64_t total = n + len + RECORDING_HASH_LEN;
	struct iovec parts[] = { { prefix, n }, { (void *)payload, len }, { chain, sizeof chain } };

	md_begin(w->md, w->chain);
	EVP_DigestUpdate(w->md, prefix, n);
	if (len)
		EVP_DigestUpdate(w->md, payload, len);
	md_end(w->md, chain);
	if (write_vector(w, parts, 3) < 0)
		return fail(w, 1, err, errlen, "cannot write recording %s: %s", w->path, strerror(errno));
	memcpy(w->chain, chain, sizeof chain);
	w->records++;
	w->bytes += total;
	w->bytes_since_checkpoint += total;
	return 0;
}

/* A checkpoint (or with RECORDING_TRAILER the trailer), then fsync; with
 * `may_defer` the fsync may go to recording_params.defer_sync. */
static int write_control(struct recording_writer *w, int type, int may_defer, char *err, size_t errlen)
{
	unsigned char msg[SIGNED_MAX], payload[CTL_MAX];
	size_t msglen, siglen = 0;
	char why[256];

	msglen = signed_message(msg, type, w->header_hash, w->records, w->bytes, w->chain);
	if (sign_message(w->key, msg, msglen, payload + CTL_FIXED, &siglen, why, sizeof why) < 0)
		return fail(w, 1, err, errlen, "%s", why);
	put64(payload, w->records);
	put64(payload + 8, w->bytes);
	memcpy(payload + 16, w->chain, RECORDING_HASH_LEN);
	put16(payload + 48, (uint16_t)siglen);
	if (write_record(w, type, 0, NULL, 0, 0, recording_writer_now_us(w), payload, CTL_FIXED + siglen,
	                 err, errlen) < 0)
		return -1;
	if (!(may_defer && w->params.defer_sync && w->params.defer_sync(w->params.defer_sync_ctx, w->fd) == 0) &&
	    sync_fd(w, w->fd) < 0)
		return fail(w, 1, err, errlen, "cannot sync recording %s: %s", w->path, strerror(errno));
	memcpy(w->signature, payload + CTL_FIXED, siglen);
	w->siglen = siglen;
	w->bytes_since_checkpoint = 0;
	w->records_since_checkpoint = 0;
	w->last_checkpoint_us = recording_writer_now_us(w);
	return 0;
}

static size_t header_encode(const struct recording_header *h, unsigned char *buf)
{
	size_t n = HDR_FIXED, tlen = strlen(h->ticket), slen = strlen(h->session);

	memcpy(buf, RECORDING_MAGIC, MAGIC_LEN);
	put16(buf + 8, RECORDING_VERSION);
	put16(buf + n, (uint16_t)tlen);
	memcpy(buf + n + 2, h->ticket, tlen);
	n += 2 + tlen;
	put16(buf + n, (uint16_t)slen);
	memcpy(buf + n + 2, h->session, slen);
	n += 2 + slen;
	put16(buf + n, RECORDING_HASH_LEN);
	memcpy(buf + n + 2, h->key_id, RECORDING_HASH_LEN);
	n += 2 + RECORDING_HASH_LEN;
	put16(buf + n, 8);
	put64(buf + n + 2, h->start_utc_us);
	n += 10;
	put16(buf + n, 8);
	put64(buf + n + 2, h->start_mono_us);
	n += 10;
	put32(buf + 10, (uint32_t)(n - HDR_FIXED));
	return n;
}

/* Opens (creating as needed, 0700) each directory of `rel` below `dirfd`
 * and returns an fd of the last one, with the file name in *name.  The
 * caller's dirfd is consumed.  -1 with `err`. */
static int open_parent(int dirfd, char *rel, const char **name, char *err, size_t errlen)
{
	char *p = rel, *slash;

	while ((slash = strchr(p, '/')) != NULL) {
		int next;
		*slash = '\0';
		if (*p == '\0' || strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
			errbuf_set(err, errlen, "recording path component \"%s\" is not allowed", p);
			goto fail;
		}
		if (mkdirat(dirfd, p, 0700) == 0) {
			if (fsync(dirfd) < 0) {
				errbuf_set(err, errlen, "cannot sync the directory above %s: %s", p, strerror(errno));
				goto fail;
			}
		} else if (errno != EEXIST) {
			errbuf_set(err, errlen, "cannot create recording directory %s: %s", p, strerror(errno));
			goto fail;
		}
		next = openat(dirfd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			errbuf_set(err, errlen, "cannot open recording directory %s: %s", p, strerror(errno));
			goto fail;
		}
		close(dirfd);
		dirfd = next;
		p = slash + 1;
	}
	if (*p == '\0' || strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
		errbuf_set(err, errlen, "recording path has no file name");
		goto fail;
	}
	*name = p;
	return dirfd;
fail:
	close(dirfd);
	return -1;
}

/* Creates the file; returns its fd, the fd of its directory in *dirfd_out
 * and its name there in *name_out (the caller frees it). */
static int create_file(const char *path, const char *root, int *dirfd_out, char **name_out,
                       char *err, size_t errlen)
{
	char *rel = NULL, *rootcopy = NULL;
	const char *name = NULL;
	int dirfd = -1, fd = -1;

	if (root != NULL) {
		size_t rlen;
		rootcopy = xstrdup(root);
		rlen = strlen(rootcopy);
		while (rlen > 1 && rootcopy[rlen - 1] == '/')
			rootcopy[--rlen] = '\0';
		if (strncmp(path, rootcopy, rlen) != 0 || (path[rlen] != '/' && strcmp(rootcopy, "/") != 0)) {
			errbuf_set(err, errlen, "recording path %s is not below %s", path, rootcopy);
			goto out;
		}
		rel = xstrdup(path + rlen + (path[rlen] == '/'));
		dirfd = open(rootcopy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0) {
			errbuf_set(err, errlen, "cannot open the recordings directory %s: %s", rootcopy,
			        strerror(errno));
			goto out;
		}
	} else {
		const char *slash = strrchr(path, '/');
		char *dir = slash ? xasprintf("%.*s", (int)(slash - path), path) : xstrdup(".");
		if (*dir == '\0') {
			free(dir);
			dir = xstrdup("/");
		}
		rel = xstrdup(slash ? slash + 1 : path);
		dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0)
			errbuf_set(err, errlen, "cannot open directory %s: %s", dir, strerror(errno));
		free(dir);
		if (dirfd < 0)
			goto out;
	}
	dirfd = open_parent(dirfd, rel, &name, err, errlen);
	if (dirfd < 0)
		goto out;
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		errbuf_set(err, errlen, "cannot create recording %s: %s", path, strerror(errno));
		goto out;
	}
	if (fchmod(fd, 0600) < 0) {
		errbuf_set(err, errlen, "cannot set the mode of recording %s: %s", path, strerror(errno));
		unlinkat(dirfd, name, 0);
		close(fd);
		fd = -1;
		goto out;
	}
out:
	if (fd < 0 && dirfd >= 0) {
		close(dirfd);
		dirfd = -1;
	}
	*dirfd_out = dirfd;
	*name_out = fd >= 0 ? xstrdup(name) : NULL;
	free(rel);
	free(rootcopy);
	return fd;
}

static void writer_free(struct recording_writer *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	EVP_PKEY_free(w->key);
	EVP_MD_CTX_free(w->md);
	free(w->path);
	free(w);
}

struct recording_writer *recording_writer_open(const char *path, const char *ticket,
                                               const char *session, EVP_PKEY *signing_key,
                                               const struct recording_params *params,
                                               char *err, size_t errlen)
{
	struct recording_writer *w;
	unsigned char hdr[RECORDING_MAX_HEADER];
	size_t tlen = ticket ? strnlen(ticket, TICKET_ID_MAX + 1) : 0;
	size_t slen = session ? strnlen(session, RECORDING_MAX_SESSION_ID + 1) : 0;
	const char *env;
	char *name = NULL;
	int dirfd = -1;
	size_t n;

	if (path == NULL || signing_key == NULL || tlen == 0 || tlen > TICKET_ID_MAX ||
	    !safe_text((const unsigned char *)ticket, tlen) || slen == 0 ||
	    slen > RECORDING_MAX_SESSION_ID || !safe_text((const unsigned char *)session, slen)) {
		errbuf_set(err, errlen, "recording needs a path, a key, a ticket id (1-%d) and a session id "
		        "(1-%d printable characters)", TICKET_ID_MAX, RECORDING_MAX_SESSION_ID);
		return NULL;
	}
	if (EVP_PKEY_get_size(signing_key) > RECORDING_MAX_SIGNATURE) {
		errbuf_set(err, errlen, "the relay key's signatures exceed %d bytes", RECORDING_MAX_SIGNATURE);
		return NULL;
	}
	w = xcalloc(1, sizeof *w);
	w->fd = -1;
	w->path = xstrdup(path);
	w->md = md_new();
	if (params)
		w->params = *params;
	else
		recording_params_default(&w->params);
	env = getenv(FAIL_ENV);
	if (w->params.fault_write_after_bytes < 0 && env != NULL && *env != '\0') {
		char *end;
		long long v;
		errno = 0;
		v = strtoll(env, &end, 10);
		if (errno == 0 && *end == '\0' && v >= 0)
			w->params.fault_write_after_bytes = v;
	}
	if (recording_key_id(signing_key, w->header.key_id, err, errlen) < 0)
		goto fail;
	if (EVP_PKEY_up_ref(signing_key) != 1)
		fatal("event=evp_pkey_up_ref_failed");
	w->key = signing_key;
	w->header.version = RECORDING_VERSION;
	memcpy(w->header.ticket, ticket, tlen);
	memcpy(w->header.session, session, slen);
	w->header.start_utc_us = clock_us(CLOCK_REALTIME);
	w->header.start_mono_us = clock_us(CLOCK_MONOTONIC);

	w->fd = create_file(path, w->params.root, &dirfd, &name, err, errlen);
	if (w->fd < 0)
		goto fail;
	n = header_encode(&w->header, hdr);
	if (EVP_Digest(hdr, n, w->header_hash, NULL, EVP_sha256(), NULL) != 1)
		fatal("event=digest_failed");
	memcpy(w->chain, w->header_hash, sizeof w->chain);
	if (write_all(w, hdr, n) < 0) {
		errbuf_set(err, errlen, "cannot write recording %s: %s", path, strerror(errno));
		goto fail_unlink;
	}
	w->bytes = n;
	/* Checkpoint 0 signs the header at once, then the file's directory
	 * entry is made durable. */
	if (write_control(w, RECORDING_CHECKPOINT, 0, err, errlen) < 0)
		goto fail_unlink;
	if (sync_fd(w, dirfd) < 0) {
		errbuf_set(err, errlen, "cannot sync the directory of recording %s: %s", path, strerror(errno));
		goto fail_unlink;
	}
	close(dirfd);
	free(name);
	log_info("event=recording_open path=%s ticket=%s session=%s", path, ticket, session);
	return w;
fail_unlink:
	unlinkat(dirfd, name, 0); /* a recording that never started leaves nothing behind */
fail:
	if (dirfd >= 0)
		close(dirfd);
	free(name);
	writer_free(w);
	return NULL;
}

static int refuse_if_failed(struct recording_writer *w, char *err, size_t errlen)
{
	if (!w->failed)
		return 0;
	errbuf_set(err, errlen, "recording %s failed earlier (%s): nothing more can be recorded", w->path,
	        w->failure);
	return -1;
}

static int checkpoint_due(const struct recording_writer *w)
{
	uint64_t interval = (uint64_t)w->params.checkpoint_ms * 1000u;

	return w->bytes_since_checkpoint >= w->params.checkpoint_bytes ||
	       recording_writer_now_us(w) - w->last_checkpoint_us >= interval;
}

int recording_writer_append(struct recording_writer *w, enum recording_type type, uint16_t stream,
                            const char *participant, uint8_t flags, uint64_t time_us,
                            const void *payload, size_t len, char *err, size_t errlen)
{
	size_t plen = participant ? strnlen(participant, RECORDING_MAX_PARTICIPANT + 1) : 0;

	if (refuse_if_failed(w, err, errlen) < 0)
		return -1;
	if (!data_type((int)type))
		return fail(w, 0, err, errlen, "recording: record type %d is not a data type", (int)type);
	if (flags & ~RECORDING_FLAGS_KNOWN)
		return fail(w, 0, err, errlen, "recording: unknown record flags 0x%02x", flags);
	if (plen > RECORDING_MAX_PARTICIPANT || !safe_text((const unsigned char *)participant, plen))
		return fail(w, 0, err, errlen, "recording: participant name is not 1-%d printable characters",
		            RECORDING_MAX_PARTICIPANT);
	if (len > RECORDING_MAX_RECORD || (len > 0 && payload == NULL))
		return fail(w, 0, err, errlen, "recording: payload of %zu bytes (max %d)", len,
		            RECORDING_MAX_RECORD);
	if (write_record(w, (int)type, stream, participant, plen, flags, time_us, payload, len, err,
	                 errlen) < 0)
		return -1;
	w->data_records++;
	w->records_since_checkpoint++;
	if (checkpoint_due(w))
		return write_control(w, RECORDING_CHECKPOINT, 1, err, errlen);
	return 0;
}

int recording_writer_checkpoint(struct recording_writer *w, char *err, size_t errlen)
{
	if (refuse_if_failed(w, err, errlen) < 0)
		return -1;
	return write_control(w, RECORDING_CHECKPOINT, 1, err, errlen);
}

int recording_writer_tick(struct recording_writer *w, char *err, size_t errlen)
{
	if (refuse_if_failed(w, err, errlen) < 0)
		return -1;
	if (w->records_since_checkpoint > 0 && checkpoint_due(w))
		return write_control(w, RECORDING_CHECKPOINT, 1, err, errlen);
	return 0;
}

int recording_writer_close(struct recording_writer *w, struct recording_summary *summary,
                           char *err, size_t errlen)
{
	int rc = -1;

	if (summary)
		memset(summary, 0, sizeof *summary);
	if (w == NULL)
		return 0;
	if (w->io_failed) {
		errbuf_set(err, errlen, "recording %s failed earlier (%s): left without a trailer", w->path,
		        w->failure);
		goto out;
	}
	if (summary) {
		summary->records = w->records;
		summary->data_records = w->data_records;
		to_hex(w->header_hash, RECORDING_HASH_LEN, summary->header_hash);
		to_hex(w->chain, RECORDING_HASH_LEN, summary->final_chain);
	}
	if (write_control(w, RECORDING_TRAILER, 0, err, errlen) < 0)
		goto out;
	if (summary) {
		to_hex(w->signature, w->siglen, summary->signature);
		summary->bytes = w->bytes;
	}
	if (close(w->fd) < 0) {
		w->fd = -1;
		errbuf_set(err, errlen, "cannot close recording %s: %s", w->path, strerror(errno));
		goto out;
	}
	w->fd = -1;
	log_info("event=recording_closed path=%s records=%" PRIu64 " bytes=%" PRIu64, w->path,
	         w->records, w->bytes);
	rc = 0;
out:
	writer_free(w);
	return rc;
}

/* ---- reading ---- */

/* The bytes of a recording: a file (pread) or memory.  `size` is fixed
 * when the source is opened. */
struct source {
	int fd;
	const unsigned char *mem;
	uint64_t size;
};

static int source_open(struct source *s, const char *path, char *err, size_t errlen)
{
	struct stat st;

	s->mem = NULL;
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0) {
		errbuf_set(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(s->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		errbuf_set(err, errlen, "%s is not a regular file", path);
		close(s->fd);
		s->fd = -1;
		return -1;
	}
	s->size = (uint64_t)st.st_size;
	return 0;
}

/* Reads len bytes at off; the caller checked that they lie inside size. */
static int source_read(const struct source *s, uint64_t off, void *buf, size_t len, char *err,
                       size_t errlen)
{
	unsigned char *p = buf;

	if (len == 0)
		return 0;
	if (s->mem) {
		memcpy(buf, s->mem + off, len);
		return 0;
	}
	while (len > 0) {
		ssize_t n = pread(s->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			errbuf_set(err, errlen, "cannot read the recording at offset %" PRIu64 ": %s", off,
			        n < 0 ? strerror(errno) : "the file shrank while it was read");
			return -1;
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

enum parse { P_OK, P_END, P_INCOMPLETE, P_MALFORMED, P_IO };

/* Parses the header: P_OK (h, *len, hash filled), P_INCOMPLETE,
 * P_MALFORMED (why) or P_IO (err). */
static int parse_header(const struct source *s, struct recording_header *h, uint64_t *len,
                        unsigned char hash[RECORDING_HASH_LEN], char *why, size_t whylen,
                        char *err, size_t errlen)
{
	unsigned char buf[RECORDING_MAX_HEADER];
	size_t have = s->size < HDR_FIXED ? (size_t)s->size : HDR_FIXED, body, n, flen;
	const size_t limits[5] = { TICKET_ID_MAX, RECORDING_MAX_SESSION_ID, RECORDING_HASH_LEN, 8, 8 };

	memset(h, 0, sizeof *h);
	if (source_read(s, 0, buf, have, err, errlen) < 0)
		return P_IO;
	if (memcmp(buf, RECORDING_MAGIC, have < MAGIC_LEN ? have : MAGIC_LEN) != 0) {
		errbuf_set(why, whylen, "not a Concierge recording (bad magic)");
		return P_MALFORMED;
	}
	if (have < HDR_FIXED) {
		errbuf_set(why, whylen, "the file ends inside the header");
		return P_INCOMPLETE;
	}
	h->version = get16(buf + 8);
	if (h->version != RECORDING_VERSION) {
		errbuf_set(why, whylen, "unsupported format version %u", h->version);
		return P_MALFORMED;
	}
	body = get32(buf + 10);
	if (body > RECORDING_MAX_HEADER - HDR_FIXED) {
		errbuf_set(why, whylen, "header of %zu bytes exceeds %d", body, RECORDING_MAX_HEADER);
		return P_MALFORMED;
	}
	if (s->size - HDR_FIXED < body) {
		errbuf_set(why, whylen, "the file ends inside the header");
		return P_INCOMPLETE;
	}
	if (source_read(s, HDR_FIXED, buf + HDR_FIXED, body, err, errlen) < 0)
		return P_IO;
	n = HDR_FIXED;
	for (int i = 0; i < 5; i++) {
		const unsigned char *f;
		if (HDR_FIXED + body - n < 2)
			goto bad;
		flen = get16(buf + n);
		f = buf + n + 2;
		n += 2;
		if (flen > HDR_FIXED + body - n || flen > limits[i])
			goto bad;
		switch (i) {
		case 0:
		case 1:
			if (flen == 0 || !safe_text(f, flen))
				goto bad;
			memcpy(i == 0 ? h->ticket : h->session, f, flen);
			break;
		case 2:
			if (flen != RECORDING_HASH_LEN)
				goto bad;
			memcpy(h->key_id, f, RECORDING_HASH_LEN);
			break;
		default:
			if (flen != 8)
				goto bad;
			if (i == 3)
				h->start_utc_us = get64(f);
			else
				h->start_mono_us = get64(f);
		}
		n += flen;
	}
	if (n != HDR_FIXED + body)
		goto bad;
	*len = n;
	if (EVP_Digest(buf, n, hash, NULL, EVP_sha256(), NULL) != 1)
		fatal("event=digest_failed");
	return P_OK;
bad:
	errbuf_set(why, whylen, "malformed header fields");
	return P_MALFORMED;
}

/* One parsed record. */
struct rec {
	int type;
	uint16_t stream;
	uint8_t flags;
	uint64_t time_us;
	uint32_t len;
	char participant[RECORDING_MAX_PARTICIPANT + 1];
	uint64_t offset, end;
	unsigned char stored[RECORDING_HASH_LEN];   /* the chain value in the file */
	unsigned char computed[RECORDING_HASH_LEN]; /* SHA-256(previous chain || record) */
	unsigned char control[CTL_MAX];             /* checkpoint/trailer payload */
};

/* Growable payload buffer; never larger than RECORDING_MAX_RECORD. */
struct payload_buf {
	unsigned char *data;
	size_t cap;
};

/*
 * Parses the record at `off` and hashes it onto `prev`.  Everything the
 * file claims is checked against the limits and the bytes present before
 * it is read.  The payload of a data record goes to `pb` when it is not
 * NULL (else it is only hashed); a control payload goes to r->control.
 * Returns P_OK, P_END (no bytes left), P_INCOMPLETE (the file ends inside
 * the record), P_MALFORMED (why) or P_IO (err).
 */
static int parse_record(const struct source *s, uint64_t off, const unsigned char *prev,
                        EVP_MD_CTX *md, struct payload_buf *pb, struct rec *r, char *why,
                        size_t whylen, char *err, size_t errlen)
{
	unsigned char prefix[REC_PREFIX_MAX], chunk[READ_CHUNK];
	uint64_t left = s->size - off, pos;
	size_t plen, fixed;
	uint32_t max;

	r->offset = off;
	if (left == 0)
		return P_END;
	if (left < REC_FIXED1) {
		errbuf_set(why, whylen, "the file ends inside a record");
		return P_INCOMPLETE;
	}
	if (source_read(s, off, prefix, REC_FIXED1, err, errlen) < 0)
		return P_IO;
	r->type = prefix[0];
	r->stream = get16(prefix + 1);
	plen = prefix[3];
	if (!data_type(r->type) && !control_type(r->type)) {
		errbuf_set(why, whylen, "unknown record type 0x%02x", (unsigned)r->type);
		return P_MALFORMED;
	}
	if (plen > RECORDING_MAX_PARTICIPANT) {
		errbuf_set(why, whylen, "participant name of %zu bytes exceeds %d", plen,
		        RECORDING_MAX_PARTICIPANT);
		return P_MALFORMED;
	}
	fixed = REC_FIXED1 + plen + REC_FIXED2;
	if (left < fixed) {
		errbuf_set(why, whylen, "the file ends inside a record");
		return P_INCOMPLETE;
	}
	if (source_read(s, off + REC_FIXED1, prefix + REC_FIXED1, plen + REC_FIXED2, err, errlen) < 0)
		return P_IO;
	if (!safe_text(prefix + REC_FIXED1, plen)) {
		errbuf_set(why, whylen, "participant name with unprintable characters");
		return P_MALFORMED;
	}
	memcpy(r->participant, prefix + REC_FIXED1, plen);
	r->participant[plen] = '\0';
	r->flags = prefix[REC_FIXED1 + plen];
	r->time_us = get64(prefix + REC_FIXED1 + plen + 1);
	r->len = get32(prefix + REC_FIXED1 + plen + 9);
	if (r->flags & ~RECORDING_FLAGS_KNOWN) {
		errbuf_set(why, whylen, "unknown record flags 0x%02x", r->flags);
		return P_MALFORMED;
	}
	max = control_type(r->type) ? CTL_MAX : RECORDING_MAX_RECORD;
	if (r->len > max) {
		errbuf_set(why, whylen, "%s record of %" PRIu32 " bytes exceeds %" PRIu32,
		        recording_type_name(r->type), r->len, max);
		return P_MALFORMED;
	}
	if (control_type(r->type) && (r->stream != 0 || plen != 0 || r->flags != 0)) {
		errbuf_set(why, whylen, "%s record with a stream, participant or flags",
		        recording_type_name(r->type));
		return P_MALFORMED;
	}
	if (left - fixed < (uint64_t)r->len + RECORDING_HASH_LEN) {
		errbuf_set(why, whylen, "the file ends inside a %s record", recording_type_name(r->type));
		return P_INCOMPLETE;
	}
	md_begin(md, prev);
	EVP_DigestUpdate(md, prefix, fixed);
	pos = off + fixed;
	if (control_type(r->type) || pb != NULL) {
		unsigned char *dst = r->control;
		if (!control_type(r->type)) {
			if (pb->cap < r->len) {
				free(pb->data);
				pb->data = xmalloc(r->len); /* <= RECORDING_MAX_RECORD and present in the file */
				pb->cap = r->len;
			}
			dst = pb->data;
		}
		if (r->len && source_read(s, pos, dst, r->len, err, errlen) < 0)
			return P_IO;
		EVP_DigestUpdate(md, dst, r->len);
	} else {
		for (uint32_t done = 0; done < r->len;) {
			size_t n = r->len - done < sizeof chunk ? r->len - done : sizeof chunk;
			if (source_read(s, pos + done, chunk, n, err, errlen) < 0)
				return P_IO;
			EVP_DigestUpdate(md, chunk, n);
			done += (uint32_t)n;
		}
	}
	pos += r->len;
	if (source_read(s, pos, r->stored, RECORDING_HASH_LEN, err, errlen) < 0)
		return P_IO;
	md_end(md, r->computed);
	r->end = pos + RECORDING_HASH_LEN;
	return P_OK;
}

/* Checks a checkpoint or trailer at record `index` against the running
 * state; 0 good, -1 with why. */
static int check_control(const struct rec *r, uint64_t index, const unsigned char *chain,
                         const unsigned char *header_hash, EVP_PKEY *key, const unsigned char *key_id,
                         const unsigned char *header_key_id, char *why, size_t whylen)
{
	const char *name = recording_type_name(r->type);
	unsigned char msg[SIGNED_MAX];
	struct control c;
	size_t msglen;

	if (control_decode(r->control, r->len, &c) < 0) {
		errbuf_set(why, whylen, "malformed %s payload", name);
		return -1;
	}
	if (c.records != index || c.bytes != r->offset) {
		errbuf_set(why, whylen, "%s claims %" PRIu64 " records and %" PRIu64 " bytes before it, "
		        "found %" PRIu64 " and %" PRIu64 ": records were removed or inserted",
		        name, c.records, c.bytes, index, r->offset);
		return -1;
	}
	if (CRYPTO_memcmp(c.chain, chain, RECORDING_HASH_LEN) != 0) {
		errbuf_set(why, whylen, "%s chain value does not match the records before it", name);
		return -1;
	}
	if (key == NULL)
		return 0;
	msglen = signed_message(msg, r->type, header_hash, c.records, c.bytes, c.chain);
	if (!verify_signature(key, msg, msglen, c.sig, c.siglen)) {
		if (memcmp(key_id, header_key_id, RECORDING_HASH_LEN) != 0)
			errbuf_set(why, whylen, "bad signature on the %s: the recording names another relay "
			        "key than the one given", name);
		else
			errbuf_set(why, whylen, "bad signature on the %s", name);
		return -1;
	}
	return 0;
}

/* 1 when every byte from `off` to the end is zero: blocks a crash left
 * allocated but never written, not tampering.  -1 on a read error. */
static int zero_from(const struct source *s, uint64_t off, char *err, size_t errlen)
{
	unsigned char chunk[READ_CHUNK];

	while (off < s->size) {
		size_t n = s->size - off < sizeof chunk ? (size_t)(s->size - off) : sizeof chunk;
		if (source_read(s, off, chunk, n, err, errlen) < 0)
			return -1;
		for (size_t i = 0; i < n; i++)
			if (chunk[i])
				return 0;
		off += n;
	}
	return 1;
}

/* Offset where the run of zero bytes that ends the file starts (the size
 * when the last byte is not zero); -1 on a read error. */
static int64_t trailing_zeros(const struct source *s, char *err, size_t errlen)
{
	unsigned char chunk[READ_CHUNK];
	uint64_t end = s->size;

	while (end > 0) {
		size_t n = end < sizeof chunk ? (size_t)end : sizeof chunk;
		if (source_read(s, end - n, chunk, n, err, errlen) < 0)
			return -1;
		for (size_t i = n; i > 0; i--)
			if (chunk[i - 1])
				return (int64_t)(end - n + i);
		end -= n;
	}
	return 0;
}

/* 1 when the file ends with what looks like a trailer (type, stream,
 * participant and flags of one, a signature length that puts it exactly at
 * the end, and a byte count naming its own offset), whatever its length
 * field says: the writer closed this file.  -1 on a read error. */
static int ends_with_trailer(const struct source *s, char *err, size_t errlen)
{
	unsigned char b[REC_FIXED1 + REC_FIXED2 + CTL_FIXED];

	for (size_t siglen = 1; siglen <= RECORDING_MAX_SIGNATURE; siglen++) {
		uint64_t need = sizeof b + siglen + RECORDING_HASH_LEN, off;
		if (s->size < need)
			break;
		off = s->size - need;
		if (source_read(s, off, b, sizeof b, err, errlen) < 0)
			return -1;
		if (b[0] == RECORDING_TRAILER && get16(b + 1) == 0 && b[3] == 0 && b[4] == 0 &&
		    get16(b + REC_FIXED1 + REC_FIXED2 + 48) == siglen &&
		    get64(b + REC_FIXED1 + REC_FIXED2 + 8) == off)
			return 1;
	}
	return 0;
}

static void note_problem(struct recording_verify_result *res, uint64_t index, uint64_t off,
                         const char *why)
{
	res->first_bad_record = (int64_t)index;
	res->first_bad_offset = off;
	snprintf(res->why, sizeof res->why, "record %" PRIu64 " at offset %" PRIu64 ": %s", index, off,
	         why);
}

/*
 * Walks the file to the first problem.  A crash leaves a prefix of what was
 * written, perhaps followed by zero bytes (blocks allocated, never
 * written), so:
 *  - the file ending inside a record, or after a record, without a trailer
 *    is TRUNCATED (the tail after the last valid checkpoint is reported),
 *    unless the file nonetheless ends with a trailer (a length was altered);
 *  - complete bytes that are wrong (malformed, chain or checkpoint mismatch,
 *    bad signature, data after the trailer) are TAMPERED, unless the file
 *    ends with at least ZERO_TAIL_MIN zero bytes that start inside the bad
 *    record (a writer never ends a file with them: the last 32 bytes are
 *    always a hash).
 * Either way everything up to the last valid checkpoint is verified.
 */
#define ZERO_TAIL_MIN RECORDING_HASH_LEN
static int verify_source(const struct source *s, EVP_PKEY *key, struct recording_verify_result *res,
                         char *err, size_t errlen)
{
	unsigned char header_hash[RECORDING_HASH_LEN], chain[RECORDING_HASH_LEN];
	unsigned char verified_chain[RECORDING_HASH_LEN], key_id[RECORDING_HASH_LEN] = { 0 };
	char why[256] = "";
	EVP_MD_CTX *md = NULL;
	struct rec *r = NULL;
	uint64_t off, index = 0, hlen = 0, bad_end = 0;
	int64_t zeros;
	int rc = -1, p, problem = 0, trailer = 0, t;

	memset(res, 0, sizeof *res);
	res->file_bytes = s->size;
	res->first_bad_record = -1;
	res->signatures_checked = key != NULL;
	if (key && recording_key_id(key, key_id, err, errlen) < 0)
		return -1;
	p = parse_header(s, &res->header, &hlen, header_hash, why, sizeof why, err, errlen);
	if (p == P_IO)
		return -1;
	if (p == P_INCOMPLETE) {
		res->tail_bytes = s->size;
		snprintf(res->why, sizeof res->why, "%s", why);
		return RECORDING_TRUNCATED;
	}
	if (p == P_MALFORMED) {
		t = zero_from(s, 0, err, errlen);
		if (t < 0)
			return -1;
		if (t) { /* an empty or zero-filled file: the header never reached the disk */
			res->tail_bytes = s->size;
			snprintf(res->why, sizeof res->why, "the file holds only zero bytes");
			return RECORDING_TRUNCATED;
		}
		snprintf(res->why, sizeof res->why, "header: %s", why);
		return RECORDING_TAMPERED;
	}
	res->header_ok = 1;
	to_hex(header_hash, RECORDING_HASH_LEN, res->header_hash);
	memcpy(chain, header_hash, sizeof chain);
	memset(verified_chain, 0, sizeof verified_chain);
	md = md_new();
	r = xmalloc(sizeof *r);
	off = hlen;

	for (;; off = r->end, index++) {
		p = parse_record(s, off, chain, md, NULL, r, why, sizeof why, err, errlen);
		if (p == P_IO)
			goto out;
		if (p == P_END)
			break;
		if (p == P_INCOMPLETE || p == P_MALFORMED) {
			problem = p == P_MALFORMED ? 2 : 1;
			bad_end = off + REC_PREFIX_MAX; /* malformed fields lie in the record's first bytes */
			note_problem(res, index, off, why);
			break;
		}
		res->records++;
		if (CRYPTO_memcmp(r->computed, r->stored, RECORDING_HASH_LEN) != 0) {
			errbuf_set(why, sizeof why, "chain mismatch: this %s record was altered, or records "
			        "before it were removed, duplicated or reordered", recording_type_name(r->type));
		} else if (control_type(r->type) &&
		           check_control(r, index, chain, header_hash, key, key_id, res->header.key_id, why,
		                         sizeof why) < 0) {
			/* why is set */
		} else if (r->type == RECORDING_TRAILER && r->end != s->size) {
			errbuf_set(why, sizeof why, "%" PRIu64 " bytes follow the trailer", s->size - r->end);
		} else {
			why[0] = '\0';
		}
		if (why[0] != '\0') {
			problem = 2;
			bad_end = r->end;
			note_problem(res, index, off, why);
			break;
		}
		if (control_type(r->type)) {
			res->checkpoints += r->type == RECORDING_CHECKPOINT;
			res->records_verified = index + 1;
			res->bytes_verified = r->end;
			res->tail_records = 0;
			memcpy(verified_chain, chain, RECORDING_HASH_LEN);
			trailer = r->type == RECORDING_TRAILER;
			if (trailer) { /* check_control decoded it already: it parses */
				struct control c;
				control_decode(r->control, r->len, &c);
				to_hex(c.sig, c.siglen, res->signature);
			}
		} else {
			res->data_records++;
			res->tail_records++;
		}
		memcpy(chain, r->computed, sizeof chain);
	}

	t = 0;
	if (problem == 2) {
		zeros = trailing_zeros(s, err, errlen);
		if (zeros < 0)
			goto out;
		if (s->size - (uint64_t)zeros < ZERO_TAIL_MIN || (uint64_t)zeros >= bad_end) {
			rc = RECORDING_TAMPERED;
			goto out;
		}
	}
	if (problem == 1 && (t = ends_with_trailer(s, err, errlen)) == 1) {
		size_t n = strlen(res->why);
		snprintf(res->why + n, sizeof res->why - n, ", yet the file ends with a trailer: a length "
		         "was altered");
		rc = RECORDING_TAMPERED;
		goto out;
	}
	if (t < 0)
		goto out;
	if (trailer && !problem) {
		rc = RECORDING_INTACT;
		res->tail_records = 0;
	} else {
		/* What follows the last valid checkpoint cannot be verified. */
		rc = RECORDING_TRUNCATED;
		res->tail_bytes = s->size - res->bytes_verified;
		if (res->bytes_verified == 0)
			res->tail_bytes = s->size;
		if (problem == 2) {
			size_t n = strlen(res->why);
			snprintf(res->why + n, sizeof res->why - n, " (the file ends with zero bytes)");
		} else if (problem == 1) {
			/* res->why says where the file stops */
		} else if (index == 0) {
			snprintf(res->why, sizeof res->why, "the file ends after the header");
		} else {
			snprintf(res->why, sizeof res->why, "the file ends after record %" PRIu64
			         " without a trailer", index - 1);
		}
		res->first_bad_record = -1;
		res->first_bad_offset = 0;
	}
	if (res->bytes_verified)
		to_hex(verified_chain, RECORDING_HASH_LEN, res->chain);
out:
	free(r);
	EVP_MD_CTX_free(md);
	return rc;
}

int recording_verify(const char *path, EVP_PKEY *key, struct recording_verify_result *res,
                     char *err, size_t errlen)
{
	struct source s;
	int rc;

	memset(res, 0, sizeof *res);
	if (source_open(&s, path, err, errlen) < 0)
		return -1;
	rc = verify_source(&s, key, res, err, errlen);
	close(s.fd);
	return rc;
}

int recording_verify_mem(const void *data, size_t len, EVP_PKEY *key,
                         struct recording_verify_result *res, char *err, size_t errlen)
{
	struct source s = { .fd = -1, .mem = data, .size = len };

	return verify_source(&s, key, res, err, errlen);
}

/* ---- iterator ---- */

struct recording_reader {
	struct source src;
	struct recording_header header;
	unsigned char header_hash[RECORDING_HASH_LEN];
	unsigned char chain[RECORDING_HASH_LEN];
	uint64_t off, index;
	EVP_MD_CTX *md;
	struct payload_buf pb;
	struct rec rec;
	int done;     /* 1 end, -1 error */
	int complete;
	char error[384];
};

static int reader_start(struct recording_reader *r, char *err, size_t errlen)
{
	char why[256];
	int p = parse_header(&r->src, &r->header, &r->off, r->header_hash, why, sizeof why, err, errlen);

	if (p == P_IO)
		return -1;
	if (p != P_OK) {
		errbuf_set(err, errlen, "recording header: %s", why);
		return -1;
	}
	memcpy(r->chain, r->header_hash, sizeof r->chain);
	r->md = md_new();
	return 0;
}

int recording_reader_open(const char *path, struct recording_reader **out, char *err, size_t errlen)
{
	struct recording_reader *r = xcalloc(1, sizeof *r);

	*out = NULL;
	if (source_open(&r->src, path, err, errlen) < 0) {
		free(r);
		return -1;
	}
	if (reader_start(r, err, errlen) < 0) {
		recording_reader_close(r);
		return -1;
	}
	*out = r;
	return 0;
}

int recording_reader_open_mem(const void *data, size_t len, struct recording_reader **out,
                              char *err, size_t errlen)
{
	struct recording_reader *r = xcalloc(1, sizeof *r);

	*out = NULL;
	r->src = (struct source){ .fd = -1, .mem = data, .size = len };
	if (reader_start(r, err, errlen) < 0) {
		recording_reader_close(r);
		return -1;
	}
	*out = r;
	return 0;
}

const struct recording_header *recording_reader_header(const struct recording_reader *r)
{
	return &r->header;
}

int recording_reader_complete(const struct recording_reader *r)
{
	return r->complete;
}

static int reader_fail(struct recording_reader *r, char *err, size_t errlen, const char *why)
{
	snprintf(r->error, sizeof r->error, "record %" PRIu64 " at offset %" PRIu64 ": %s", r->index,
	         r->off, why);
	r->done = -1;
	errbuf_set(err, errlen, "%s", r->error);
	return -1;
}

int recording_reader_next(struct recording_reader *r, struct recording_record *rec,
                          char *err, size_t errlen)
{
	char why[256];
	int p;

	memset(rec, 0, sizeof *rec);
	for (;;) {
		if (r->done < 0) {
			errbuf_set(err, errlen, "%s", r->error);
			return -1;
		}
		if (r->done > 0)
			return 0;
		p = parse_record(&r->src, r->off, r->chain, r->md, &r->pb, &r->rec, why, sizeof why, err,
		                 errlen);
		if (p == P_IO) {
			snprintf(r->error, sizeof r->error, "%s", err ? err : "read error");
			r->done = -1;
			return -1;
		}
		if (p == P_END || p == P_INCOMPLETE) {
			r->done = 1; /* the file stops: a crash tail */
			return 0;
		}
		if (p == P_MALFORMED)
			return reader_fail(r, err, errlen, why);
		if (CRYPTO_memcmp(r->rec.computed, r->rec.stored, RECORDING_HASH_LEN) != 0)
			return reader_fail(r, err, errlen, "chain mismatch");
		if (control_type(r->rec.type)) {
			if (check_control(&r->rec, r->index, r->chain, r->header_hash, NULL, NULL, NULL, why,
			                  sizeof why) < 0)
				return reader_fail(r, err, errlen, why);
			if (r->rec.type == RECORDING_TRAILER) {
				if (r->rec.end != r->src.size)
					return reader_fail(r, err, errlen, "bytes follow the trailer");
				r->complete = 1;
				r->done = 1;
				return 0;
			}
			memcpy(r->chain, r->rec.computed, sizeof r->chain);
			r->off = r->rec.end;
			r->index++;
			continue;
		}
		*rec = (struct recording_record){
			.index = r->index, .offset = r->off, .type = (enum recording_type)r->rec.type,
			.stream = r->rec.stream, .flags = r->rec.flags, .time_us = r->rec.time_us,
			.participant = r->rec.participant, .payload = r->rec.len ? r->pb.data : NULL,
			.len = r->rec.len,
		};
		memcpy(r->chain, r->rec.computed, sizeof r->chain);
		r->off = r->rec.end;
		r->index++;
		return 1;
	}
}

void recording_reader_close(struct recording_reader *r)
{
	if (r == NULL)
		return;
	if (r->src.fd >= 0 && r->src.mem == NULL)
		close(r->src.fd);
	EVP_MD_CTX_free(r->md);
	free(r->pb.data);
	free(r);
}
