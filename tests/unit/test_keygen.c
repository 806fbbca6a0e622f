/*
 * keygen_ensure(): fresh generation, idempotence, refusal of half pairs and
 * foreign certificates, certificate contents, SSH host key round trip.
 * Every test works in its own mkdtemp directory, removed afterwards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "keygen.h"
#include "log.h"
#include "support.h"

struct fixture {
	char dir[64];            /* the mkdtemp directory */
	char certs[128];         /* dir/certs, created by keygen_ensure */
	char other[128];         /* dir/other, for a second key set (made by the tests that want one) */
	struct keygen_result res;
	char err[512];
};

static const char *const names[KEYGEN_MAX_FILES] = {
	"ca.key", "ca.pem", "relay.key", "relay.pem", "ssh_host_ed25519_key", "ssh_host_ed25519_key.pub",
};
static const mode_t modes[KEYGEN_MAX_FILES] = { 0600, 0644, 0600, 0644, 0600, 0644 };

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (f == NULL)
		return -1;
	if (support_tempdir(f->dir, sizeof f->dir, "test_keygen") != 0) {
		free(f);
		return -1;
	}
	snprintf(f->certs, sizeof f->certs, "%s/certs", f->dir);
	snprintf(f->other, sizeof f->other, "%s/other", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = support_remove_tree(f->dir);

	free(f);
	return rc;
}

static int ensure(struct fixture *f, const char *dir, const char *hostname)
{
	f->err[0] = '\0';
	return keygen_ensure(dir, hostname, &f->res, f->err, sizeof f->err);
}

/* dir/NAME must still hold exactly the len bytes at `before`. */
static void expect_unchanged(const char *dir, const char *name, const char *before, size_t len)
{
	size_t len_after;
	char *after = support_read_file(dir, name, &len_after);

	assert_non_null(after);
	assert_int_equal(len_after, len);
	assert_memory_equal(after, before, len);
	free(after);
}

static void copy_file(const char *from_dir, const char *to_dir, const char *name)
{
	size_t len;
	char *data = support_read_file(from_dir, name, &len);

	assert_non_null(data);
	support_write_file(to_dir, name, data, len);
	free(data);
}

static int exists(const char *dir, const char *name)
{
	char path[256];

	support_path(path, sizeof path, dir, name);
	return access(path, F_OK) == 0;
}

static void remove_file(const char *dir, const char *name)
{
	char path[256];

	support_path(path, sizeof path, dir, name);
	assert_int_equal(unlink(path), 0);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* dir/NAME opened for reading; the test fails when it cannot be. */
static FILE *open_in(const char *dir, const char *name)
{
	char path[256];
	FILE *fp;

	support_path(path, sizeof path, dir, name);
	fp = fopen(path, "r");
	if (fp == NULL)
		fail_msg("cannot open %s", path);
	return fp;
}

static X509 *read_cert(const char *dir, const char *name)
{
	FILE *fp = open_in(dir, name);
	X509 *cert = PEM_read_X509(fp, NULL, NULL, NULL);

	fclose(fp);
	assert_non_null(cert);
	return cert;
}

static EVP_PKEY *read_key(const char *dir, const char *name)
{
	FILE *fp = open_in(dir, name);
	EVP_PKEY *key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);

	fclose(fp);
	assert_non_null(key);
	return key;
}

static int san_count(X509 *cert)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	int n;

	if (gens == NULL)
		return 0;
	n = sk_GENERAL_NAME_num(gens);
	GENERAL_NAMES_free(gens);
	return n;
}

/* 1 when the certificate has SAN `type` (GEN_DNS or GEN_IPADD) with `value`. */
static int san_has(X509 *cert, int type, const char *value)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	unsigned char addr[16];
	int addrlen = 0, found = 0;

	if (type == GEN_IPADD)
		addrlen = inet_pton(AF_INET, value, addr) == 1 ? 4 : 16;
	if (type == GEN_IPADD && addrlen == 16)
		assert_int_equal(inet_pton(AF_INET6, value, addr), 1);
	for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *gen = sk_GENERAL_NAME_value(gens, i);
		const ASN1_STRING *s;

		if (gen->type != type)
			continue;
		s = type == GEN_DNS ? gen->d.dNSName : gen->d.iPAddress;
		if (type == GEN_DNS && (size_t)ASN1_STRING_length(s) == strlen(value) &&
		    memcmp(ASN1_STRING_get0_data(s), value, strlen(value)) == 0)
			found = 1;
		if (type == GEN_IPADD && ASN1_STRING_length(s) == addrlen &&
		    memcmp(ASN1_STRING_get0_data(s), addr, (size_t)addrlen) == 0)
			found = 1;
	}
	GENERAL_NAMES_free(gens);
	return found;
}

static void cert_cn(X509 *cert, char *out, int outlen)
{
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, out, outlen) > 0);
}

/* Full chain verification as a TLS client would do it (purpose SSL server, strict). */
static void verify_chain(X509 *ca, X509 *relay, const char *host)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok;

	assert_non_null(store);
	assert_non_null(ctx);
	assert_int_equal(X509_STORE_add_cert(store, ca), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, relay, NULL), 1);
	assert_int_equal(X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER), 1);
	X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx), X509_V_FLAG_X509_STRICT);
	if (host != NULL)
		assert_int_equal(X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx), host, 0), 1);
	ok = X509_verify_cert(ctx);
	if (ok != 1)
		fail_msg("chain verification failed: %s",
		         X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
}

static void expect_fingerprint(const char *fp, X509 *cert)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	assert_int_equal(X509_digest(cert, EVP_sha256(), md, &mdlen), 1);
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	assert_int_equal(strncmp(fp, "SHA256:", 7), 0);
	assert_string_equal(fp + 7, hex);
}

static void test_fresh_generation(void **state)
{
	struct fixture *f = *state;
	struct stat sb;
	char *pem;

	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), 0);
	assert_int_equal(f->res.count, KEYGEN_MAX_FILES);
	assert_int_equal(stat(f->certs, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	for (int i = 0; i < KEYGEN_MAX_FILES; i++) {
		const struct keygen_file *kf = &f->res.files[i];
		char path[256];

		support_path(path, sizeof path, f->certs, names[i]);
		assert_string_equal(kf->path, path);
		assert_int_equal(kf->created, 1);
		assert_true(kf->what[0] != '\0');
		assert_int_equal(lstat(path, &sb), 0);
		assert_true(S_ISREG(sb.st_mode));
		if ((sb.st_mode & 07777) != modes[i])
			fail_msg("%s has mode %03o, want %03o", names[i], (unsigned)(sb.st_mode & 07777),
			         (unsigned)modes[i]);
		if (modes[i] == 0600)
			assert_string_equal(kf->fingerprint, "");
		else
			assert_int_equal(strncmp(kf->fingerprint, "SHA256:", 7), 0);
	}
	/* Nothing else (no temporary files) left behind. */
	assert_int_equal(count_entries(f->certs), KEYGEN_MAX_FILES);

	pem = support_read_file(f->certs, "ca.key", NULL);
	assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----\n"));
	free(pem);
	pem = support_read_file(f->certs, "relay.key", NULL);
	assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----\n"));
	free(pem);
	pem = support_read_file(f->certs, "ssh_host_ed25519_key", NULL);
	assert_int_equal(strncmp(pem, "-----BEGIN OPENSSH PRIVATE KEY-----\n", 36), 0);
	assert_non_null(strstr(pem, "-----END OPENSSH PRIVATE KEY-----\n"));
	free(pem);
}

static void test_ca_certificate(void **state)
{
	struct fixture *f = *state;
	X509 *ca;
	EVP_PKEY *key;
	const ASN1_INTEGER *serial;
	BIGNUM *bn;
	char cn[128];
	int days, secs;

	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), 0);
	ca = read_cert(f->certs, "ca.pem");
	key = read_key(f->certs, "ca.key");
	expect_fingerprint(f->res.files[1].fingerprint, ca);

	assert_int_equal(X509_get_version(ca), X509_VERSION_3);
	assert_int_equal(X509_check_private_key(ca, key), 1);
	assert_true(EVP_PKEY_is_a(key, "EC"));
	{
		char group[64];
		size_t glen;

		assert_int_equal(EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &glen), 1);
		assert_string_equal(group, "prime256v1");
	}
	assert_int_equal(X509_verify(ca, X509_get0_pubkey(ca)), 1);
	assert_int_equal(X509_check_issued(ca, ca), X509_V_OK);
	cert_cn(ca, cn, sizeof cn);
	assert_string_equal(cn, "Concierge relay CA (relay.example.edu)");

	serial = X509_get0_serialNumber(ca);
	bn = ASN1_INTEGER_to_BN(serial, NULL);
	assert_non_null(bn);
	assert_false(BN_is_negative(bn));
	assert_false(BN_is_zero(bn));
	assert_true(BN_num_bits(bn) <= 128);
	assert_true(BN_num_bits(bn) > 64); /* fails with probability 2^-64 */
	BN_free(bn);

	assert_true(X509_get_extension_flags(ca) & EXFLAG_CA);
	assert_int_equal(X509_get_pathlen(ca), 0);
	assert_int_equal(X509_get_key_usage(ca), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_non_null(X509_get0_subject_key_id(ca));
	assert_true(X509_EXTENSION_get_critical(X509_get_ext(ca, X509_get_ext_by_NID(ca, NID_basic_constraints, -1))));
	assert_true(X509_EXTENSION_get_critical(X509_get_ext(ca, X509_get_ext_by_NID(ca, NID_key_usage, -1))));

	/* Started a few minutes ago, valid ten years. */
	assert_true(X509_cmp_current_time(X509_get0_notBefore(ca)) < 0);
	assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(ca), X509_get0_notAfter(ca)), 1);
	assert_in_range(days, 3650, 3653);
	X509_free(ca);
	EVP_PKEY_free(key);
}

static void test_relay_certificate(void **state)
{
	struct fixture *f = *state;
	X509 *ca, *relay;
	EVP_PKEY *key;
	const ASN1_OCTET_STRING *ski, *akid;
	char cn[128];
	int days, secs;

	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), 0);
	ca = read_cert(f->certs, "ca.pem");
	relay = read_cert(f->certs, "relay.pem");
	key = read_key(f->certs, "relay.key");
	expect_fingerprint(f->res.files[3].fingerprint, relay);

	assert_int_equal(X509_verify(relay, X509_get0_pubkey(ca)), 1);
	assert_int_equal(X509_check_issued(ca, relay), X509_V_OK);
	verify_chain(ca, relay, "relay.example.edu");
	verify_chain(ca, relay, "localhost");
	assert_int_equal(X509_check_private_key(relay, key), 1);
	assert_true(EVP_PKEY_is_a(key, "EC"));
	assert_int_equal(X509_get_signature_nid(relay), NID_ecdsa_with_SHA256);

	cert_cn(relay, cn, sizeof cn);
	assert_string_equal(cn, "relay.example.edu");
	assert_int_equal(san_count(relay), 3);
	assert_true(san_has(relay, GEN_DNS, "relay.example.edu"));
	assert_true(san_has(relay, GEN_DNS, "localhost"));
	assert_true(san_has(relay, GEN_IPADD, "127.0.0.1"));
	assert_int_equal(X509_check_host(relay, "relay.example.edu", 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(relay, "127.0.0.1", 0), 1);

	assert_false(X509_get_extension_flags(relay) & EXFLAG_CA);
	assert_int_equal(X509_get_key_usage(relay), KU_DIGITAL_SIGNATURE);
	assert_int_equal(X509_get_extended_key_usage(relay), XKU_SSL_SERVER);
	assert_true(X509_EXTENSION_get_critical(X509_get_ext(relay, X509_get_ext_by_NID(relay, NID_basic_constraints, -1))));
	assert_true(X509_EXTENSION_get_critical(X509_get_ext(relay, X509_get_ext_by_NID(relay, NID_key_usage, -1))));
	assert_non_null(X509_get0_subject_key_id(relay));
	ski = X509_get0_subject_key_id(ca);
	akid = X509_get0_authority_key_id(relay);
	assert_non_null(akid);
	assert_int_equal(ASN1_OCTET_STRING_cmp(ski, akid), 0);

	assert_true(X509_cmp_current_time(X509_get0_notBefore(relay)) < 0);
	assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(relay), X509_get0_notAfter(relay)), 1);
	assert_int_equal(days, 825);
	assert_int_equal(secs, 0);
	X509_free(ca);
	X509_free(relay);
	EVP_PKEY_free(key);
}

static void test_second_run_keeps_everything(void **state)
{
	struct fixture *f = *state;
	struct keygen_result first;
	char *before[KEYGEN_MAX_FILES];
	size_t lens[KEYGEN_MAX_FILES];

	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), 0);
	first = f->res;
	for (int i = 0; i < KEYGEN_MAX_FILES; i++)
		before[i] = support_read_file(f->certs, names[i], &lens[i]);

	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), 0);
	assert_int_equal(f->res.count, KEYGEN_MAX_FILES);
	for (int i = 0; i < KEYGEN_MAX_FILES; i++) {
		assert_int_equal(f->res.files[i].created, 0);
		assert_string_equal(f->res.files[i].path, first.files[i].path);
		assert_string_equal(f->res.files[i].fingerprint, first.files[i].fingerprint);
		expect_unchanged(f->certs, names[i], before[i], lens[i]);
		free(before[i]);
	}
}

/* With dir/GONE removed, keygen_ensure(dir) must refuse naming GONE, must
 * not recreate it, and must leave its other half dir/KEPT as it was. */
static void expect_half_pair_refused(struct fixture *f, const char *dir, const char *kept, const char *gone)
{
	size_t len;
	char *before = support_read_file(dir, kept, &len);

	assert_non_null(before);
	remove_file(dir, gone);
	assert_int_equal(ensure(f, dir, "relay.example.edu"), -1);
	assert_non_null(strstr(f->err, gone));
	assert_false(exists(dir, gone));
	expect_unchanged(dir, kept, before, len);
	free(before);
}

static void test_half_ca_pair_refused(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), 0);
	expect_half_pair_refused(f, f->certs, "ca.pem", "ca.key");
	/* The other way round: a CA key without its certificate. */
	assert_int_equal(ensure(f, f->other, "relay.example.edu"), 0);
	expect_half_pair_refused(f, f->other, "ca.key", "ca.pem");
}

static void test_half_relay_pair_refused(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), 0);
	expect_half_pair_refused(f, f->certs, "relay.key", "relay.pem");
}

static void test_relay_without_ca_refused(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), 0);
	remove_file(f->certs, "ca.key");
	remove_file(f->certs, "ca.pem");
	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), -1);
	assert_non_null(strstr(f->err, "relay.pem"));
	/* No new CA was made on the way. */
	assert_false(exists(f->certs, "ca.key"));
	assert_false(exists(f->certs, "ca.pem"));
}

static void test_relay_from_other_ca_refused(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), 0);
	assert_int_equal(ensure(f, f->other, "relay.example.edu"), 0);
	copy_file(f->other, f->certs, "relay.key");
	copy_file(f->other, f->certs, "relay.pem");

	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), -1);
	assert_non_null(strstr(f->err, "was not signed by"));
	assert_non_null(strstr(f->err, "relay.pem"));
	assert_non_null(strstr(f->err, "ca.pem"));
}

static void test_mismatched_keys_refused(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), 0);
	assert_int_equal(ensure(f, f->other, "relay.example.edu"), 0);

	/* relay.key from elsewhere: does not match relay.pem. */
	copy_file(f->other, f->certs, "relay.key");
	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), -1);
	assert_non_null(strstr(f->err, "does not match"));
	assert_non_null(strstr(f->err, "relay.key"));

	/* ca.key from elsewhere: does not match ca.pem. */
	copy_file(f->other, f->certs, "ca.key");
	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), -1);
	assert_non_null(strstr(f->err, "does not match"));
	assert_non_null(strstr(f->err, "ca.key"));
}

static void test_corrupt_files_refused(void **state)
{
	struct fixture *f = *state;
	static const char junk[] = "not a certificate\n";

	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), 0);
	support_write_file(f->certs, "relay.pem", junk, sizeof junk - 1);
	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), -1);
	assert_non_null(strstr(f->err, "relay.pem"));

	remove_file(f->certs, "relay.pem");
	remove_file(f->certs, "relay.key");
	support_write_file(f->certs, "ssh_host_ed25519_key", junk, sizeof junk - 1);
	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), -1);
	assert_non_null(strstr(f->err, "ssh_host_ed25519_key"));
	/* Nothing was created before the SSH key was found broken. */
	assert_false(exists(f->certs, "relay.pem"));
}

static void test_new_relay_signed_by_kept_ca(void **state)
{
	struct fixture *f = *state;
	char *ca_before;
	size_t len_before;
	X509 *ca, *relay;

	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), 0);
	ca_before = support_read_file(f->certs, "ca.pem", &len_before);
	assert_non_null(ca_before);
	remove_file(f->certs, "relay.key");
	remove_file(f->certs, "relay.pem");

	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), 0);
	for (int i = 0; i < KEYGEN_MAX_FILES; i++)
		assert_int_equal(f->res.files[i].created, i == 2 || i == 3);
	expect_unchanged(f->certs, "ca.pem", ca_before, len_before);
	ca = read_cert(f->certs, "ca.pem");
	relay = read_cert(f->certs, "relay.pem");
	verify_chain(ca, relay, "relay.example.edu");
	X509_free(ca);
	X509_free(relay);
	free(ca_before);
}

static void test_ssh_host_key(void **state)
{
	struct fixture *f = *state;
	char path[256], fp[128];
	ssh_key priv = NULL, pub = NULL;
	unsigned char *hash = NULL;
	size_t hlen;
	char *line, *b64 = NULL, *want, *fpstr;

	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), 0);
	support_path(path, sizeof path, f->certs, "ssh_host_ed25519_key");
	assert_int_equal(ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &priv), SSH_OK);
	assert_int_equal(ssh_key_type(priv), SSH_KEYTYPE_ED25519);
	support_path(path, sizeof path, f->certs, "ssh_host_ed25519_key.pub");
	assert_int_equal(ssh_pki_import_pubkey_file(path, &pub), SSH_OK);
	assert_int_equal(ssh_key_cmp(priv, pub, SSH_KEY_CMP_PUBLIC), 0);

	/* Exactly one line: type, base64, comment. */
	line = support_read_file(f->certs, "ssh_host_ed25519_key.pub", NULL);
	assert_int_equal(ssh_pki_export_pubkey_base64(priv, &b64), SSH_OK);
	assert_true(asprintf(&want, "ssh-ed25519 %s concierge-relay@relay.example.edu\n", b64) > 0);
	assert_string_equal(line, want);

	assert_int_equal(ssh_get_publickey_hash(pub, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen), 0);
	fpstr = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	snprintf(fp, sizeof fp, "%s", fpstr);
	assert_int_equal(strncmp(fp, "SHA256:", 7), 0);
	assert_string_equal(f->res.files[5].fingerprint, fp);
	assert_string_equal(f->res.files[4].fingerprint, "");

	ssh_string_free_char(fpstr);
	ssh_clean_pubkey_hash(&hash);
	ssh_string_free_char(b64);
	free(want);
	free(line);
	ssh_key_free(priv);
	ssh_key_free(pub);
}

static void test_ssh_pub_recreated(void **state)
{
	struct fixture *f = *state;
	char *before;
	size_t len_before;
	char fp[128];

	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), 0);
	snprintf(fp, sizeof fp, "%s", f->res.files[5].fingerprint);
	before = support_read_file(f->certs, "ssh_host_ed25519_key.pub", &len_before);
	assert_non_null(before);
	remove_file(f->certs, "ssh_host_ed25519_key.pub");

	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), 0);
	for (int i = 0; i < KEYGEN_MAX_FILES; i++)
		assert_int_equal(f->res.files[i].created, i == 5);
	assert_string_equal(f->res.files[5].fingerprint, fp);
	expect_unchanged(f->certs, "ssh_host_ed25519_key.pub", before, len_before);
	free(before);
}

static void test_ssh_pub_without_private_refused(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), 0);
	remove_file(f->certs, "ssh_host_ed25519_key");
	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), -1);
	assert_non_null(strstr(f->err, "ssh_host_ed25519_key"));
	assert_false(exists(f->certs, "ssh_host_ed25519_key"));

	/* A .pub that belongs to another private key. */
	assert_int_equal(ensure(f, f->other, "relay.example.edu"), 0);
	copy_file(f->other, f->certs, "ssh_host_ed25519_key");
	assert_int_equal(ensure(f, f->certs, "relay.example.edu"), -1);
	assert_non_null(strstr(f->err, "does not match"));
	assert_non_null(strstr(f->err, "ssh_host_ed25519_key.pub"));
}

static void test_ip_hostname(void **state)
{
	struct fixture *f = *state;
	X509 *ca, *relay;
	char cn[128];

	assert_int_equal(ensure(f, f->certs, "127.0.0.2"), 0);
	ca = read_cert(f->certs, "ca.pem");
	relay = read_cert(f->certs, "relay.pem");
	cert_cn(relay, cn, sizeof cn);
	assert_string_equal(cn, "127.0.0.2");
	assert_int_equal(san_count(relay), 3);
	assert_true(san_has(relay, GEN_IPADD, "127.0.0.2"));
	assert_false(san_has(relay, GEN_DNS, "127.0.0.2"));
	assert_true(san_has(relay, GEN_DNS, "localhost"));
	assert_true(san_has(relay, GEN_IPADD, "127.0.0.1"));
	assert_int_equal(X509_check_ip_asc(relay, "127.0.0.2", 0), 1);
	verify_chain(ca, relay, NULL);
	X509_free(ca);
	X509_free(relay);
}

static void test_ipv6_hostname(void **state)
{
	struct fixture *f = *state;
	X509 *relay;

	assert_int_equal(ensure(f, f->certs, "2001:db8::7"), 0);
	relay = read_cert(f->certs, "relay.pem");
	assert_int_equal(san_count(relay), 3);
	assert_true(san_has(relay, GEN_IPADD, "2001:db8::7"));
	assert_int_equal(X509_check_ip_asc(relay, "2001:db8::7", 0), 1);
	X509_free(relay);
}

static void test_no_duplicate_names(void **state)
{
	struct fixture *f = *state;
	X509 *relay;

	assert_int_equal(ensure(f, f->certs, "localhost"), 0);
	relay = read_cert(f->certs, "relay.pem");
	assert_int_equal(san_count(relay), 2);
	assert_true(san_has(relay, GEN_DNS, "localhost"));
	assert_true(san_has(relay, GEN_IPADD, "127.0.0.1"));
	X509_free(relay);

	assert_int_equal(ensure(f, f->other, "127.0.0.1"), 0);
	relay = read_cert(f->other, "relay.pem");
	assert_int_equal(san_count(relay), 2);
	assert_true(san_has(relay, GEN_DNS, "localhost"));
	assert_true(san_has(relay, GEN_IPADD, "127.0.0.1"));
	X509_free(relay);
}

static void test_long_hostname(void **state)
{
	struct fixture *f = *state;
	/* 3 labels of 40 characters: a valid DNS name longer than a CN may be. */
	char host[128], cn[128];
	X509 *ca, *relay;

	snprintf(host, sizeof host, "%.40s.%.40s.%.40s",
	         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	         "example-university-with-a-long-domain-name");
	assert_int_equal(ensure(f, f->certs, host), 0);
	ca = read_cert(f->certs, "ca.pem");
	relay = read_cert(f->certs, "relay.pem");
	cert_cn(ca, cn, sizeof cn);
	assert_string_equal(cn, "Concierge relay CA");
	assert_true(san_has(relay, GEN_DNS, host));
	verify_chain(ca, relay, host);
	X509_free(ca);
	X509_free(relay);
}

static void test_bad_hostname_refused(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"", "bad host", "-leading.example", ".example", "a..b", "trailing.",
		"x,DNS:evil.example", "caf\xc3\xa9.example", "a/b",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(ensure(f, f->certs, bad[i]), -1);
		assert_non_null(strstr(f->err, "hostname"));
	}
	assert_int_equal(keygen_ensure(f->certs, NULL, &f->res, f->err, sizeof f->err), -1);
	assert_int_equal(keygen_ensure("", "localhost", &f->res, f->err, sizeof f->err), -1);
	assert_false(exists(f->dir, "certs"));
}

static void test_certs_dir_not_a_directory(void **state)
{
	struct fixture *f = *state;

	support_write_file(f->dir, "certs", "x", 1);
	assert_int_equal(ensure(f, f->certs, "localhost"), -1);
	assert_non_null(strstr(f->err, f->certs));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fresh_generation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_certificate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_certificate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_run_keeps_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_half_ca_pair_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_half_relay_pair_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_without_ca_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_from_other_ca_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mismatched_keys_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_files_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_relay_signed_by_kept_ca, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ssh_host_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ssh_pub_recreated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ssh_pub_without_private_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip_hostname, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_hostname, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_duplicate_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_hostname, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_hostname_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_certs_dir_not_a_directory, setup, teardown),
	};

	log_set_level(LOG_LEVEL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
