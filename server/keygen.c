#include "keygen.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "errbuf.h"
#include "atomic_file.h"
#include "log.h"
#include "xmalloc.h"

#define KEYGEN_SKEW_S        300   /* notBefore this far in the past (clock skew) */
#define KEYGEN_CA_DAYS       3652  /* 10 years, leap days included */
#define KEYGEN_RELAY_DAYS    825   /* what browsers and Apple platforms still accept */
#define KEYGEN_CN_MAX        64    /* ub-common-name (RFC 5280) */
#define KEYGEN_LABEL_MAX     63    /* one DNS label */

enum keygen_slot {
	SLOT_CA_KEY, SLOT_CA_CERT, SLOT_RELAY_KEY, SLOT_RELAY_CERT, SLOT_SSH_KEY, SLOT_SSH_PUB,
	SLOT_COUNT
};

static const struct {
	const char *name;
	const char *what;
	mode_t mode;
} slots[SLOT_COUNT] = {
	[SLOT_CA_KEY]     = { "ca.key", "relay CA private key", 0600 },
	[SLOT_CA_CERT]    = { "ca.pem", "relay CA certificate", 0644 },
	[SLOT_RELAY_KEY]  = { "relay.key", "relay TLS private key", 0600 },
	[SLOT_RELAY_CERT] = { "relay.pem", "relay TLS certificate", 0644 },
	[SLOT_SSH_KEY]    = { "ssh_host_ed25519_key", "SSH host private key", 0600 },
	[SLOT_SSH_PUB]    = { "ssh_host_ed25519_key.pub", "SSH host public key", 0644 },
};

_Static_assert(SLOT_COUNT == KEYGEN_MAX_FILES, "one keygen_file per slot");

struct keygen_state {
	const char *hostname;
	char path[SLOT_COUNT][CFG_MAX_PATH];
	char fingerprint[SLOT_COUNT][128];
	int exists[SLOT_COUNT];
	int created[SLOT_COUNT];
	EVP_PKEY *ca_key;
	X509 *ca_cert;
	EVP_PKEY *relay_key;
	X509 *relay_cert;
	ssh_key ssh;
};

/* Fills `addr` (4 or 16 bytes) when `host` is an IPv4 or IPv6 literal; returns its length or 0. */
static int ip_literal(const char *host, unsigned char addr[16])
{
	if (inet_pton(AF_INET, host, addr) == 1)
		return 4;
	if (inet_pton(AF_INET6, host, addr) == 1)
		return 16;
	return 0;
}

static int valid_hostname(const char *host)
{
	unsigned char addr[16];
	size_t len = strlen(host), label = 0;

	if (len == 0 || len > CFG_MAX_HOSTNAME)
		return 0;
	if (ip_literal(host, addr) > 0)
		return 1;
	for (const char *p = host; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '.') {
			if (label == 0)
				return 0; /* leading dot or empty label */
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-')
			return 0;
		if (c == '-' && label == 0)
			return 0;
		if (++label > KEYGEN_LABEL_MAX)
			return 0;
	}
	return label > 0; /* no trailing dot */
}

/* Fails a PEM read instead of letting OpenSSL prompt on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* The libssh counterpart of no_passphrase(). */
static int ssh_no_passphrase(const char *prompt, char *buf, size_t len, int echo, int verify,
                             void *userdata)
{
	(void)prompt;
	(void)buf;
	(void)len;
	(void)echo;
	(void)verify;
	(void)userdata;
	return -1;
}

/* Sets exists[slot]; anything but a regular file (or a symlink to one) is an error. */
static int probe(struct keygen_state *st, enum keygen_slot slot, char *err, size_t errlen)
{
	const char *path = st->path[slot];
	struct stat sb;

	if (lstat(path, &sb) < 0) {
		if (errno == ENOENT) {
			st->exists[slot] = 0;
			return 0;
		}
		errbuf_set(err, errlen, "cannot access %s: %s", path, strerror(errno));
		return -1;
	}
	if (stat(path, &sb) < 0) {
		errbuf_set(err, errlen, "cannot access %s: %s (a dangling symlink? remove it and run concierge init again)",
		        path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		errbuf_set(err, errlen, "%s is not a regular file: move it aside and run concierge init again", path);
		return -1;
	}
	if (slots[slot].mode == 0600 && (sb.st_mode & 077) != 0)
		log_warn("path=%s mode=%03o private key readable by group or others: run chmod 600 on it",
		         path, (unsigned)(sb.st_mode & 0777));
	st->exists[slot] = 1;
	return 0;
}

static int load_cert(const char *path, X509 **out, char *err, size_t errlen)
{
	char why[256];
	BIO *bio = BIO_new_file(path, "rb");

	*out = NULL;
	if (bio != NULL)
		*out = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (*out == NULL) {
		errbuf_set(err, errlen, "%s is not a readable PEM certificate (%s): move it aside and run concierge init again",
		        path, errbuf_openssl(why, sizeof why));
		return -1;
	}
	return 0;
}

static int load_key(const char *path, EVP_PKEY **out, char *err, size_t errlen)
{
	char why[256];
	BIO *bio = BIO_new_file(path, "rb");

	*out = NULL;
	if (bio != NULL)
		*out = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (*out == NULL) {
		errbuf_set(err, errlen, "%s is not a readable unencrypted PEM private key (%s): move it aside and run concierge init again",
		        path, errbuf_openssl(why, sizeof why));
		return -1;
	}
	return 0;
}

static int cert_fingerprint(const X509 *cert, char *out, size_t outlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t pos;

	if (X509_digest(cert, EVP_sha256(), md, &mdlen) != 1)
		return -1;
	pos = (size_t)snprintf(out, outlen, "SHA256:");
	for (unsigned int i = 0; i < mdlen && pos + 2 < outlen; i++)
		pos += (size_t)snprintf(out + pos, outlen - pos, "%02x", md[i]);
	return 0;
}

static int ssh_fingerprint(const ssh_key key, char *out, size_t outlen)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp = NULL;
	int rc = -1;

	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) < 0)
		goto out;
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	if (fp == NULL)
		goto out;
	snprintf(out, outlen, "%s", fp);
	rc = 0;
out:
	if (fp != NULL)
		ssh_string_free_char(fp);
	if (hash != NULL)
		ssh_clean_pubkey_hash(&hash);
	return rc;
}

/* Ed25519/Ed448 sign without a separate digest; everything else with SHA-256. */
static const EVP_MD *sign_digest(const EVP_PKEY *key)
{
	if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448"))
		return NULL;
	return EVP_sha256();
}

static int cert_expired(const X509 *cert)
{
	return X509_cmp_current_time(X509_get0_notAfter(cert)) < 0;
}

/* Loads and cross-checks whatever exists; creates nothing. */
static int check_existing(struct keygen_state *st, char *err, size_t errlen)
{
	const char *ca_key = st->path[SLOT_CA_KEY], *ca_pem = st->path[SLOT_CA_CERT];
	const char *relay_key = st->path[SLOT_RELAY_KEY], *relay_pem = st->path[SLOT_RELAY_CERT];
	const char *ssh_priv = st->path[SLOT_SSH_KEY], *ssh_pub = st->path[SLOT_SSH_PUB];
	ssh_key pub = NULL;
	int rc = -1;

	/* Half-present pairs first: never overwrite, never guess. */
	if (st->exists[SLOT_CA_KEY] != st->exists[SLOT_CA_CERT]) {
		errbuf_set(err, errlen, "%s exists but %s does not: restore the missing file, or move %s aside "
		        "(and relay.key and relay.pem with it) and run concierge init again",
		        st->exists[SLOT_CA_KEY] ? ca_key : ca_pem, st->exists[SLOT_CA_KEY] ? ca_pem : ca_key,
		        st->exists[SLOT_CA_KEY] ? ca_key : ca_pem);
		goto out;
	}
	if (st->exists[SLOT_RELAY_KEY] != st->exists[SLOT_RELAY_CERT]) {
		errbuf_set(err, errlen, "%s exists but %s does not: restore the missing file, or move %s aside "
		        "and run concierge init again",
		        st->exists[SLOT_RELAY_KEY] ? relay_key : relay_pem,
		        st->exists[SLOT_RELAY_KEY] ? relay_pem : relay_key,
		        st->exists[SLOT_RELAY_KEY] ? relay_key : relay_pem);
		goto out;
	}
	if (st->exists[SLOT_RELAY_CERT] && !st->exists[SLOT_CA_CERT]) {
		errbuf_set(err, errlen, "%s exists but its CA (%s, %s) does not: restore the CA, or move relay.key "
		        "and relay.pem aside and run concierge init again", relay_pem, ca_key, ca_pem);
		goto out;
	}
	if (st->exists[SLOT_SSH_PUB] && !st->exists[SLOT_SSH_KEY]) {
		errbuf_set(err, errlen, "%s exists but %s does not: restore the private key, or move %s aside "
		        "and run concierge init again", ssh_pub, ssh_priv, ssh_pub);
		goto out;
	}

	if (st->exists[SLOT_CA_CERT]) {
		if (load_cert(ca_pem, &st->ca_cert, err, errlen) < 0 ||
		    load_key(ca_key, &st->ca_key, err, errlen) < 0)
			goto out;
		if (X509_check_private_key(st->ca_cert, st->ca_key) != 1) {
			ERR_clear_error();
			errbuf_set(err, errlen, "%s does not match %s: restore the matching pair, or move ca.key, ca.pem, "
			        "relay.key and relay.pem aside and run concierge init again", ca_key, ca_pem);
			goto out;
		}
		if (X509_check_ca(st->ca_cert) == 0) {
			errbuf_set(err, errlen, "%s is not a CA certificate: move ca.key, ca.pem, relay.key and "
			        "relay.pem aside and run concierge init again", ca_pem);
			goto out;
		}
		if (cert_fingerprint(st->ca_cert, st->fingerprint[SLOT_CA_CERT],
		                     sizeof st->fingerprint[SLOT_CA_CERT]) < 0) {
			errbuf_set(err, errlen, "cannot compute the fingerprint of %s", ca_pem);
			goto out;
		}
		if (cert_expired(st->ca_cert))
			log_warn("path=%s the CA certificate has expired: move ca.* and relay.* aside and run concierge init again",
			         ca_pem);
	}

	if (st->exists[SLOT_RELAY_CERT]) {
		if (load_cert(relay_pem, &st->relay_cert, err, errlen) < 0 ||
		    load_key(relay_key, &st->relay_key, err, errlen) < 0)
			goto out;
		if (X509_check_private_key(st->relay_cert, st->relay_key) != 1) {
			ERR_clear_error();
			errbuf_set(err, errlen, "%s does not match %s: move relay.key and relay.pem aside and run "
			        "concierge init again", relay_key, relay_pem);
			goto out;
		}
		if (X509_verify(st->relay_cert, X509_get0_pubkey(st->ca_cert)) != 1) {
			ERR_clear_error();
			errbuf_set(err, errlen, "%s was not signed by %s: move relay.key and relay.pem aside and run "
			        "concierge init again", relay_pem, ca_pem);
			goto out;
		}
		if (cert_fingerprint(st->relay_cert, st->fingerprint[SLOT_RELAY_CERT],
		                     sizeof st->fingerprint[SLOT_RELAY_CERT]) < 0) {
			errbuf_set(err, errlen, "cannot compute the fingerprint of %s", relay_pem);
			goto out;
		}
		if (cert_expired(st->relay_cert))
			log_warn("path=%s the relay certificate has expired: move relay.key and relay.pem aside and run concierge init again",
			         relay_pem);
	}

	if (st->exists[SLOT_SSH_KEY]) {
		if (ssh_pki_import_privkey_file(ssh_priv, NULL, ssh_no_passphrase, NULL, &st->ssh) != SSH_OK ||
		    !ssh_key_is_private(st->ssh)) {
			errbuf_set(err, errlen, "%s is not a readable unencrypted OpenSSH private key: move it (and its .pub) "
			        "aside and run concierge init again", ssh_priv);
			goto out;
		}
		if (ssh_key_type(st->ssh) != SSH_KEYTYPE_ED25519) {
			errbuf_set(err, errlen, "%s is not an Ed25519 key: move it (and its .pub) aside and run concierge "
			        "init again", ssh_priv);
			goto out;
		}
		if (ssh_fingerprint(st->ssh, st->fingerprint[SLOT_SSH_PUB],
		                    sizeof st->fingerprint[SLOT_SSH_PUB]) < 0) {
			errbuf_set(err, errlen, "cannot compute the fingerprint of %s", ssh_priv);
			goto out;
		}
	}
	if (st->exists[SLOT_SSH_PUB]) {
		if (ssh_pki_import_pubkey_file(ssh_pub, &pub) != SSH_OK) {
			errbuf_set(err, errlen, "%s is not a readable OpenSSH public key: move it aside and run concierge "
			        "init again (it is re-created from %s)", ssh_pub, ssh_priv);
			goto out;
		}
		if (ssh_key_cmp(pub, st->ssh, SSH_KEY_CMP_PUBLIC) != 0) {
			errbuf_set(err, errlen, "%s does not match %s: move %s aside and run concierge init again "
			        "(it is re-created from the private key)", ssh_pub, ssh_priv, ssh_pub);
			goto out;
		}
	}
	rc = 0;
out:
	ssh_key_free(pub);
	return rc;
}

static int write_file(const char *path, const void *data, size_t len, mode_t mode, char *err,
                      size_t errlen)
{
	if (atomic_file_create(path, data, len, mode) < 0) {
		errbuf_set(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	log_debug("path=%s mode=%03o created", path, (unsigned)mode);
	return 0;
}

/* PKCS#8 PEM, unencrypted, mode 0600.  The buffer lives on the secure heap
 * (cleared when it grows and when freed) and is cleansed here as well. */
static int write_private_key(const char *path, EVP_PKEY *key, char *err, size_t errlen)
{
	char why[256];
	BIO *bio = BIO_new(BIO_s_secmem());
	char *data = NULL;
	long len;
	int rc = -1;

	if (bio == NULL || PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1) {
		errbuf_set(err, errlen, "cannot encode the key for %s (%s)", path, errbuf_openssl(why, sizeof why));
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	if (len <= 0 || data == NULL) {
		errbuf_set(err, errlen, "cannot encode the key for %s", path);
		goto out;
	}
	rc = write_file(path, data, (size_t)len, 0600, err, errlen);
	OPENSSL_cleanse(data, (size_t)len);
out:
	BIO_free(bio);
	return rc;
}

static int write_cert(const char *path, X509 *cert, char *err, size_t errlen)
{
	char why[256];
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len;
	int rc = -1;

	if (bio == NULL || PEM_write_bio_X509(bio, cert) != 1) {
		errbuf_set(err, errlen, "cannot encode the certificate for %s (%s)", path,
		        errbuf_openssl(why, sizeof why));
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	if (len <= 0 || data == NULL) {
		errbuf_set(err, errlen, "cannot encode the certificate for %s", path);
		goto out;
	}
	rc = write_file(path, data, (size_t)len, 0644, err, errlen);
out:
	BIO_free(bio);
	return rc;
}

/* Writes a key then its certificate; removes the key again when the certificate
 * cannot be written, so a failure never leaves a half pair of our own making. */
static int write_pair(struct keygen_state *st, enum keygen_slot key_slot, EVP_PKEY *key,
                      enum keygen_slot cert_slot, X509 *cert, char *err, size_t errlen)
{
	if (cert_fingerprint(cert, st->fingerprint[cert_slot], sizeof st->fingerprint[cert_slot]) < 0) {
		errbuf_set(err, errlen, "cannot compute the fingerprint of %s", st->path[cert_slot]);
		return -1;
	}
	if (write_private_key(st->path[key_slot], key, err, errlen) < 0)
		return -1;
	if (write_cert(st->path[cert_slot], cert, err, errlen) < 0) {
		unlink(st->path[key_slot]);
		return -1;
	}
	st->created[key_slot] = 1;
	st->created[cert_slot] = 1;
	return 0;
}

static int add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	int ok;

	if (ext == NULL)
		return -1;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

static int push_name(GENERAL_NAMES *names, int type, const char *value)
{
	GENERAL_NAME *gen = a2i_GENERAL_NAME(NULL, NULL, NULL, type, value, 0);

	if (gen == NULL)
		return -1;
	if (sk_GENERAL_NAME_push(names, gen) <= 0) {
		GENERAL_NAME_free(gen);
		return -1;
	}
	return 0;
}

/* DNS:<hostname> (IP: for an address literal), DNS:localhost, IP:127.0.0.1, without duplicates. */
static int add_subject_alt_names(X509 *cert, const char *hostname)
{
	static const unsigned char loopback[4] = { 127, 0, 0, 1 };
	unsigned char addr[16];
	int addrlen = ip_literal(hostname, addr);
	GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
	int rc = -1;

	if (names == NULL)
		goto out;
	if (push_name(names, addrlen > 0 ? GEN_IPADD : GEN_DNS, hostname) < 0)
		goto out;
	if ((addrlen > 0 || strcasecmp(hostname, "localhost") != 0) &&
	    push_name(names, GEN_DNS, "localhost") < 0)
		goto out;
	if (!(addrlen == 4 && memcmp(addr, loopback, 4) == 0) &&
	    push_name(names, GEN_IPADD, "127.0.0.1") < 0)
		goto out;
	if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, X509V3_ADD_APPEND) != 1)
		goto out;
	rc = 0;
out:
	GENERAL_NAMES_free(names);
	return rc;
}

/* A v3 certificate for `key` with a random positive 128-bit serial, subject CN=`cn`,
 * valid from KEYGEN_SKEW_S ago for exactly `days` days.  Issuer and extensions are
 * the caller's. */
static X509 *new_cert(EVP_PKEY *key, const char *cn, long days)
{
	X509 *cert = X509_new();
	BIGNUM *serial = BN_new();
	X509_NAME *name;

	if (cert == NULL || serial == NULL)
		goto fail;
	do {
		if (BN_rand(serial, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1)
			goto fail;
	} while (BN_is_zero(serial));
	if (X509_set_version(cert, X509_VERSION_3) != 1 ||
	    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert)) == NULL ||
	    X509_gmtime_adj(X509_getm_notBefore(cert), -KEYGEN_SKEW_S) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(cert), (int)days, -KEYGEN_SKEW_S, NULL) == NULL ||
	    X509_set_pubkey(cert, key) != 1)
		goto fail;
	name = X509_get_subject_name(cert);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
	                               0) != 1)
		goto fail;
	BN_free(serial);
	return cert;
fail:
	BN_free(serial);
	X509_free(cert);
	return NULL;
}

static int create_ca(struct keygen_state *st, char *err, size_t errlen)
{
	char cn[KEYGEN_CN_MAX + 1], why[256];
	X509V3_CTX ctx;
	int n;

	n = snprintf(cn, sizeof cn, "Concierge relay CA (%s)", st->hostname);
	if (n < 0 || (size_t)n >= sizeof cn)
		snprintf(cn, sizeof cn, "Concierge relay CA");
	st->ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (st->ca_key == NULL)
		goto fail;
	st->ca_cert = new_cert(st->ca_key, cn, KEYGEN_CA_DAYS);
	if (st->ca_cert == NULL ||
	    X509_set_issuer_name(st->ca_cert, X509_get_subject_name(st->ca_cert)) != 1)
		goto fail;
	X509V3_set_ctx(&ctx, st->ca_cert, st->ca_cert, NULL, NULL, 0);
	X509V3_set_ctx_nodb(&ctx);
	if (add_ext(st->ca_cert, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") < 0 ||
	    add_ext(st->ca_cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
	    add_ext(st->ca_cert, &ctx, NID_subject_key_identifier, "hash") < 0 ||
	    X509_sign(st->ca_cert, st->ca_key, EVP_sha256()) <= 0)
		goto fail;
	return write_pair(st, SLOT_CA_KEY, st->ca_key, SLOT_CA_CERT, st->ca_cert, err, errlen);
fail:
	errbuf_set(err, errlen, "cannot create the relay CA (%s)", errbuf_openssl(why, sizeof why));
	return -1;
}

static int create_relay(struct keygen_state *st, char *err, size_t errlen)
{
	const char *cn = strlen(st->hostname) <= KEYGEN_CN_MAX ? st->hostname : "Concierge relay";
	char why[256];
	X509V3_CTX ctx;

	if (cert_expired(st->ca_cert)) {
		errbuf_set(err, errlen, "%s has expired and cannot sign a new relay certificate: move ca.key and "
		        "ca.pem aside and run concierge init again (agents then need the new ca.pem)",
		        st->path[SLOT_CA_CERT]);
		return -1;
	}
	st->relay_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (st->relay_key == NULL)
		goto fail;
	st->relay_cert = new_cert(st->relay_key, cn, KEYGEN_RELAY_DAYS);
	if (st->relay_cert == NULL ||
	    X509_set_issuer_name(st->relay_cert, X509_get_subject_name(st->ca_cert)) != 1)
		goto fail;
	/* Never outlive the CA that vouches for it. */
	if (ASN1_TIME_compare(X509_get0_notAfter(st->relay_cert), X509_get0_notAfter(st->ca_cert)) > 0 &&
	    X509_set1_notAfter(st->relay_cert, X509_get0_notAfter(st->ca_cert)) != 1)
		goto fail;
	X509V3_set_ctx(&ctx, st->ca_cert, st->relay_cert, NULL, NULL, 0);
	X509V3_set_ctx_nodb(&ctx);
	if (add_ext(st->relay_cert, &ctx, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(st->relay_cert, &ctx, NID_key_usage, "critical,digitalSignature") < 0 ||
	    add_ext(st->relay_cert, &ctx, NID_ext_key_usage, "serverAuth") < 0 ||
	    add_subject_alt_names(st->relay_cert, st->hostname) < 0 ||
	    add_ext(st->relay_cert, &ctx, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(st->relay_cert, &ctx, NID_authority_key_identifier, "keyid,issuer") < 0 ||
	    X509_sign(st->relay_cert, st->ca_key, sign_digest(st->ca_key)) <= 0)
		goto fail;
	return write_pair(st, SLOT_RELAY_KEY, st->relay_key, SLOT_RELAY_CERT, st->relay_cert, err, errlen);
fail:
	errbuf_set(err, errlen, "cannot create the relay certificate (%s)", errbuf_openssl(why, sizeof why));
	return -1;
}

static int write_ssh_pub(struct keygen_state *st, char *err, size_t errlen)
{
	char *b64 = NULL, *line = NULL;
	int rc = -1;

	if (ssh_pki_export_pubkey_base64(st->ssh, &b64) != SSH_OK) {
		errbuf_set(err, errlen, "cannot encode the public key for %s", st->path[SLOT_SSH_PUB]);
		goto out;
	}
	line = xasprintf("%s %s concierge-relay@%s\n", ssh_key_type_to_char(ssh_key_type(st->ssh)), b64,
	                 st->hostname);
	if (write_file(st->path[SLOT_SSH_PUB], line, strlen(line), 0644, err, errlen) < 0)
		goto out;
	st->created[SLOT_SSH_PUB] = 1;
	rc = 0;
out:
	free(line);
	if (b64 != NULL)
		ssh_string_free_char(b64);
	return rc;
}

static int create_ssh_key(struct keygen_state *st, char *err, size_t errlen)
{
	char *b64 = NULL;
	size_t len = 0;
	int rc = -1;

	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &st->ssh) != SSH_OK) {
		errbuf_set(err, errlen, "cannot generate the SSH host key");
		goto out;
	}
	/* libssh 0.10 exports Ed25519 keys in the OpenSSH format. */
	if (ssh_pki_export_privkey_base64(st->ssh, NULL, NULL, NULL, &b64) != SSH_OK || b64 == NULL) {
		errbuf_set(err, errlen, "cannot encode the SSH host key for %s", st->path[SLOT_SSH_KEY]);
		goto out;
	}
	len = strlen(b64);
	if (write_file(st->path[SLOT_SSH_KEY], b64, len, 0600, err, errlen) < 0)
		goto out;
	st->created[SLOT_SSH_KEY] = 1;
	if (ssh_fingerprint(st->ssh, st->fingerprint[SLOT_SSH_PUB], sizeof st->fingerprint[SLOT_SSH_PUB]) < 0) {
		errbuf_set(err, errlen, "cannot compute the fingerprint of %s", st->path[SLOT_SSH_KEY]);
		goto out;
	}
	rc = 0;
out:
	if (b64 != NULL) {
		OPENSSL_cleanse(b64, len);
		ssh_string_free_char(b64);
	}
	return rc;
}

int keygen_ensure(const char *certs_dir, const char *hostname, struct keygen_result *out,
                  char *err, size_t errlen)
{
	struct keygen_state st;
	int rc = -1;

	memset(&st, 0, sizeof st);
	if (out != NULL)
		memset(out, 0, sizeof *out);
	if (certs_dir == NULL || *certs_dir == '\0') {
		errbuf_set(err, errlen, "no certificate directory given (set certs_dir)");
		goto out;
	}
	if (hostname == NULL || !valid_hostname(hostname)) {
		errbuf_set(err, errlen, "hostname '%.*s' is neither a DNS name (letters, digits, '-' and '.', at most %d bytes) "
		        "nor an IP address", 64, hostname != NULL ? hostname : "", CFG_MAX_HOSTNAME);
		goto out;
	}
	st.hostname = hostname;
	for (int i = 0; i < SLOT_COUNT; i++) {
		int n = snprintf(st.path[i], sizeof st.path[i], "%s/%s", certs_dir, slots[i].name);

		if (n < 0 || (size_t)n >= sizeof st.path[i]) {
			errbuf_set(err, errlen, "certificate directory path is longer than %d bytes", CFG_MAX_PATH - 32);
			goto out;
		}
	}
	if (ensure_directory(certs_dir, 0700) < 0) {
		errbuf_set(err, errlen, "cannot create directory %s: %s", certs_dir, strerror(errno));
		goto out;
	}
	for (int i = 0; i < SLOT_COUNT; i++)
		if (probe(&st, (enum keygen_slot)i, err, errlen) < 0)
			goto out;
	/* Everything that exists is checked before anything is created. */
	if (check_existing(&st, err, errlen) < 0)
		goto out;

	if (!st.exists[SLOT_CA_CERT] && create_ca(&st, err, errlen) < 0)
		goto out;
	if (!st.exists[SLOT_RELAY_CERT] && create_relay(&st, err, errlen) < 0)
		goto out;
	if (!st.exists[SLOT_SSH_KEY] && create_ssh_key(&st, err, errlen) < 0)
		goto out;
	if (!st.exists[SLOT_SSH_PUB] && write_ssh_pub(&st, err, errlen) < 0)
		goto out;

	if (out != NULL) {
		for (int i = 0; i < SLOT_COUNT; i++) {
			struct keygen_file *f = &out->files[i];

			snprintf(f->path, sizeof f->path, "%s", st.path[i]);
			snprintf(f->what, sizeof f->what, "%s", slots[i].what);
			if (i == SLOT_CA_CERT || i == SLOT_RELAY_CERT || i == SLOT_SSH_PUB)
				snprintf(f->fingerprint, sizeof f->fingerprint, "%s", st.fingerprint[i]);
			f->created = st.created[i];
		}
		out->count = SLOT_COUNT;
	}
	rc = 0;
out:
	EVP_PKEY_free(st.ca_key);
	X509_free(st.ca_cert);
	EVP_PKEY_free(st.relay_key);
	X509_free(st.relay_cert);
	ssh_key_free(st.ssh);
	ERR_clear_error();
	return rc;
}
