/*
 * users.h, tickets.h and ssh_pubkey.h on a real database with real keys made
 * by ssh-keygen: what is accepted and refused, that a refusal writes nothing
 * (rows and audit rows unchanged), fingerprints equal to `ssh-keygen -lf`,
 * the audit rows of every change, and an intact chain at the end.  Every
 * test works in its own mkdtemp directory, removed afterwards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "audit.h"
#include "concierge_limits.h"
#include "ssh_pubkey.h"
#include "store.h"
#include "support.h"
#include "tickets.h"
#include "users.h"

#define ACTOR "local:root"

struct fixture {
	char dir[64];   /* the mkdtemp directory */
	char db[128];
	struct store *store;
	char err[1024];
	struct ssh_pubkey key[3]; /* big (PUBKEY_FILE_MAX each): kept off the stack */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (f == NULL || support_store_dir_open(f->dir, sizeof f->dir, "test_users_tickets", f->db, sizeof f->db,
	                                        &f->store) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = support_store_dir_close(f->store, f->dir);

	free(f);
	return rc;
}

/* ssh-keygen -t TYPE [-b BITS] into dir/NAME and dir/NAME.pub. */
static void keygen(struct fixture *f, const char *name, const char *type, int bits, const char *comment)
{
	char cmd[512], bitsarg[32] = "";

	if (bits > 0)
		snprintf(bitsarg, sizeof bitsarg, "-b %d", bits);
	snprintf(cmd, sizeof cmd, "ssh-keygen -q -t %s %s -N '' -C '%s' -f '%s/%s' </dev/null >/dev/null 2>&1",
	         type, bitsarg, comment, f->dir, name);
	if (system(cmd) != 0)
		fail_msg("failed: %s", cmd);
}

/* The SHA256:... field of `ssh-keygen -lf dir/NAME`. */
static void cli_fingerprint(struct fixture *f, const char *name, char *out, size_t outlen)
{
	char cmd[300], line[512], fp[128];
	FILE *p;

	snprintf(cmd, sizeof cmd, "ssh-keygen -lf '%s/%s'", f->dir, name);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(line, sizeof line, p));
	assert_int_equal(pclose(p), 0);
	assert_int_equal(sscanf(line, "%*d %127s", fp), 1);
	assert_memory_equal(fp, "SHA256:", 7);
	snprintf(out, outlen, "%s", fp);
}

/* The second field of the .pub file dir/NAME. */
static void pub_base64(struct fixture *f, const char *name, char *out, size_t outlen)
{
	char path[256];
	FILE *fp;
	char *line = malloc(PUBKEY_FILE_MAX), *save = NULL, *tok;

	support_path(path, sizeof path, f->dir, name);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(line);
	assert_non_null(fgets(line, PUBKEY_FILE_MAX, fp));
	fclose(fp);
	assert_non_null(strtok_r(line, " \n", &save));
	tok = strtok_r(NULL, " \n", &save);
	assert_non_null(tok);
	snprintf(out, outlen, "%s", tok);
	free(line);
}

/* `key` must be what ssh-keygen sees in dir/NAME: its fingerprint and blob. */
static void expect_as_ssh_keygen(struct fixture *f, const char *name, const struct ssh_pubkey *key)
{
	char fp[128], b64[1024];

	cli_fingerprint(f, name, fp, sizeof fp);
	assert_string_equal(key->fingerprint, fp);
	pub_base64(f, name, b64, sizeof b64);
	assert_string_equal(key->base64, b64);
}

static void read_key(struct fixture *f, const char *name, struct ssh_pubkey *key)
{
	char path[256];

	support_path(path, sizeof path, f->dir, name);
	if (ssh_pubkey_read_file(path, key, f->err, sizeof f->err) != 0)
		fail_msg("ssh_pubkey_read_file(%s): %s", path, f->err);
}

/* The read must fail with `needle` in the message. */
static void read_fails(struct fixture *f, const char *name, const char *needle)
{
	char path[256];
	struct ssh_pubkey *key = calloc(1, sizeof *key);

	assert_non_null(key);
	support_path(path, sizeof path, f->dir, name);
	f->err[0] = '\0';
	if (ssh_pubkey_read_file(path, key, f->err, sizeof f->err) != -1)
		fail_msg("%s accepted as a public key", name);
	if (strstr(f->err, needle) == NULL)
		fail_msg("%s: error '%s' does not say '%s'", name, f->err, needle);
	free(key);
}

static void write_file(struct fixture *f, const char *name, const char *data, size_t len)
{
	support_write_file(f->dir, name, data, len);
}

static void write_str(struct fixture *f, const char *name, const char *text)
{
	write_file(f, name, text, strlen(text));
}

/* Contents of dir/name as a string; the file must exist and not be empty. */
static char *slurp(struct fixture *f, const char *name)
{
	size_t len;
	char *buf = support_read_file(f->dir, name, &len);

	assert_non_null(buf);
	assert_true(len > 0);
	return buf;
}

static long long count(struct fixture *f, const char *table)
{
	return support_count_rows(f->store, table);
}

struct counts {
	long long users, keys, tickets, audit;
};

static struct counts counts_of(struct fixture *f)
{
	return (struct counts){ count(f, "users"), count(f, "user_keys"), count(f, "tickets"),
	                        count(f, "audit_log") };
}

static void expect_counts(struct fixture *f, struct counts want)
{
	struct counts got = counts_of(f);

	assert_int_equal(got.users, want.users);
	assert_int_equal(got.keys, want.keys);
	assert_int_equal(got.tickets, want.tickets);
	assert_int_equal(got.audit, want.audit);
	/* A refusal never leaves a transaction open behind it. */
	assert_int_not_equal(sqlite3_get_autocommit(store_db(f->store)), 0);
}

static void expect_chain_intact(struct fixture *f, int64_t rows)
{
	struct audit_verify_result res;

	if (audit_verify(f->store, NULL, &res, f->err, sizeof f->err) != 0)
		fail_msg("chain broken at %" PRId64 ": %s %s", res.first_bad_seq, res.why, f->err);
	assert_int_equal(res.rows, rows);
}

/* ---- audit rows ---------------------------------------------------------- */

struct audit_copy {
	int n;
	struct {
		int64_t seq;
		char actor[64], action[64], object[128], details[256];
		char ticket[TICKET_ID_MAX + 1];
		int has_ticket;
	} row[32];
};

static void copy_audit_row(const struct audit_row *row, void *ctx)
{
	struct audit_copy *c = ctx;

	assert_true(c->n < 32);
	c->row[c->n].seq = row->seq;
	snprintf(c->row[c->n].actor, sizeof c->row[0].actor, "%s", row->actor);
	snprintf(c->row[c->n].action, sizeof c->row[0].action, "%s", row->action);
	snprintf(c->row[c->n].object, sizeof c->row[0].object, "%s", row->object);
	snprintf(c->row[c->n].details, sizeof c->row[0].details, "%s", row->details);
	c->row[c->n].has_ticket = row->ticket_id != NULL;
	snprintf(c->row[c->n].ticket, sizeof c->row[0].ticket, "%s", row->ticket_id ? row->ticket_id : "");
	c->n++;
}

static void load_audit(struct fixture *f, const char *ticket, struct audit_copy *c)
{
	memset(c, 0, sizeof *c);
	if (audit_foreach(f->store, ticket, copy_audit_row, c, f->err, sizeof f->err) != 0)
		fail_msg("audit_foreach: %s", f->err);
}

/* ---- users listing ------------------------------------------------------- */

struct user_copy {
	int n;
	struct {
		char name[USER_NAME_MAX + 1], role[16], created_at[40], fingerprints[512];
		int disabled, key_count;
	} user[16];
};

static void copy_user(const struct user_info *u, void *ctx)
{
	struct user_copy *c = ctx;

	assert_true(c->n < 16);
	assert_non_null(u->fingerprints);
	snprintf(c->user[c->n].name, sizeof c->user[0].name, "%s", u->name);
	snprintf(c->user[c->n].role, sizeof c->user[0].role, "%s", u->role);
	snprintf(c->user[c->n].created_at, sizeof c->user[0].created_at, "%s", u->created_at);
	snprintf(c->user[c->n].fingerprints, sizeof c->user[0].fingerprints, "%s", u->fingerprints);
	c->user[c->n].disabled = u->disabled;
	c->user[c->n].key_count = u->key_count;
	c->n++;
}

static void load_users(struct fixture *f, struct user_copy *c)
{
	memset(c, 0, sizeof *c);
	if (users_foreach(f->store, copy_user, c, f->err, sizeof f->err) != 0)
		fail_msg("users_foreach: %s", f->err);
}

/* 1 when `list` (space-separated) holds `word` as a whole item. */
static int has_word(const char *list, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = list; (p = strstr(p, word)) != NULL; p += len)
		if ((p == list || p[-1] == ' ') && (p[len] == '\0' || p[len] == ' '))
			return 1;
	return 0;
}

/* ---- ssh_pubkey ---------------------------------------------------------- */

static void test_pubkey_ed25519(void **state)
{
	struct fixture *f = *state;

	keygen(f, "k", "ed25519", 0, "alice@desk");
	read_key(f, "k.pub", &f->key[0]);
	assert_string_equal(f->key[0].type, "ssh-ed25519");
	expect_as_ssh_keygen(f, "k.pub", &f->key[0]);
	assert_string_equal(f->key[0].comment, "alice@desk");
}

static void test_pubkey_ecdsa(void **state)
{
	struct fixture *f = *state;
	char line[600];

	keygen(f, "e", "ecdsa", 384, "ec");
	read_key(f, "e.pub", &f->key[0]);
	assert_string_equal(f->key[0].type, "ecdsa-sha2-nistp384");
	expect_as_ssh_keygen(f, "e.pub", &f->key[0]);
	/* The line's type must be the blob's: a P-384 key is no P-256 key. */
	assert_true(snprintf(line, sizeof line, "ecdsa-sha2-nistp256 %s", f->key[0].base64) < (int)sizeof line);
	assert_int_equal(ssh_pubkey_parse_line(line, &f->key[1], f->err, sizeof f->err), -1);
}

static void test_pubkey_rsa_sizes(void **state)
{
	struct fixture *f = *state;

	keygen(f, "r1024", "rsa", 1024, "weak");
	read_fails(f, "r1024.pub", "too weak");
	assert_non_null(strstr(f->err, "1024"));
	keygen(f, "r2040", "rsa", 2040, "almost");
	read_fails(f, "r2040.pub", "too weak");

	keygen(f, "r3072", "rsa", 3072, "strong");
	read_key(f, "r3072.pub", &f->key[0]);
	assert_string_equal(f->key[0].type, "ssh-rsa");
	expect_as_ssh_keygen(f, "r3072.pub", &f->key[0]);
	keygen(f, "r2048", "rsa", 2048, "enough");
	read_key(f, "r2048.pub", &f->key[1]);
	assert_string_equal(f->key[1].type, "ssh-rsa");
}

static void test_pubkey_refusals(void **state)
{
	struct fixture *f = *state;
	char *a, *b, two[8192], *big;
	size_t n;

	keygen(f, "k", "ed25519", 0, "a");
	keygen(f, "k2", "ed25519", 0, "b");

	read_fails(f, "missing.pub", "cannot read");
	read_fails(f, "k", "private key");
	a = slurp(f, "k.pub");
	b = slurp(f, "k2.pub");
	snprintf(two, sizeof two, "%s%s", a, b);
	write_file(f, "two.pub", two, strlen(two));
	read_fails(f, "two.pub", "more than one key");
	/* The same key twice is still two lines. */
	snprintf(two, sizeof two, "%s\n# again\n%s", a, a);
	write_file(f, "twice.pub", two, strlen(two));
	read_fails(f, "twice.pub", "more than one key");

	write_str(f, "garbage.pub", "hello world, not a key\n");
	read_fails(f, "garbage.pub", "not accepted");
	write_str(f, "word.pub", "justoneword\n");
	read_fails(f, "word.pub", "TYPE BASE64");
	write_file(f, "empty.pub", "", 0);
	read_fails(f, "empty.pub", "no public key");
	write_str(f, "comments.pub", "# nothing\n\n   \n");
	read_fails(f, "comments.pub", "no public key");
	write_str(f, "bad64.pub", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA!!!! x\n");
	read_fails(f, "bad64.pub", "malformed");
	write_file(f, "nul.pub", "ssh-ed25519 AAAA\0rest\n", sizeof "ssh-ed25519 AAAA\0rest\n" - 1);
	read_fails(f, "nul.pub", "NUL");

	/* The blob says ed25519, the line says rsa (and the reverse). */
	snprintf(two, sizeof two, "ssh-rsa %s", strchr(a, ' ') + 1);
	write_file(f, "mismatch.pub", two, strlen(two));
	read_fails(f, "mismatch.pub", "");
	keygen(f, "r", "rsa", 2048, "r");
	free(b);
	b = slurp(f, "r.pub");
	snprintf(two, sizeof two, "ssh-ed25519 %s", strchr(b, ' ') + 1);
	write_file(f, "mismatch2.pub", two, strlen(two));
	read_fails(f, "mismatch2.pub", "");

	/* Larger than PUBKEY_FILE_MAX: refused, even with a good key first. */
	big = malloc(PUBKEY_FILE_MAX + 2);
	assert_non_null(big);
	n = (size_t)snprintf(big, PUBKEY_FILE_MAX, "%s", a);
	memset(big + n, '#', PUBKEY_FILE_MAX + 1 - n);
	write_file(f, "big.pub", big, PUBKEY_FILE_MAX + 1);
	read_fails(f, "big.pub", "larger than");
	/* Exactly PUBKEY_FILE_MAX: fine. */
	write_file(f, "max.pub", big, PUBKEY_FILE_MAX);
	read_key(f, "max.pub", &f->key[0]);
	assert_string_equal(f->key[0].type, "ssh-ed25519");
	free(big);
	free(a);
	free(b);
}

static void test_pubkey_certificate_refused(void **state)
{
	struct fixture *f = *state;
	char cmd[512];

	static const char *const types[] = { "ed25519", "ecdsa", "rsa" };

	keygen(f, "ca", "ed25519", 0, "ca");
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		char name[32], cert[48];

		snprintf(name, sizeof name, "u_%s", types[i]);
		snprintf(cert, sizeof cert, "%s-cert.pub", name);
		keygen(f, name, types[i], strcmp(types[i], "rsa") == 0 ? 2048 : 0, "u");
		/* The plain key is fine ... */
		read_key(f, strcat(name, ".pub"), &f->key[0]);
		/* ... its certificate is not, and the message says why. */
		snprintf(cmd, sizeof cmd, "ssh-keygen -q -s '%s/ca' -I id -n alice '%s/%s' >/dev/null 2>&1",
		         f->dir, f->dir, name);
		assert_int_equal(system(cmd), 0);
		read_fails(f, cert, "not accepted");
		assert_non_null(strstr(f->err, "certificates are not supported"));
		assert_non_null(strstr(f->err, "-cert-v01@openssh.com"));
	}
}

static void test_pubkey_lenient_layout(void **state)
{
	struct fixture *f = *state;
	char *a, text[4096], *sp;

	keygen(f, "k", "ed25519", 0, "x");
	a = slurp(f, "k.pub");
	sp = strrchr(a, ' ');
	assert_non_null(sp);
	*sp = '\0'; /* drop the comment */
	snprintf(text, sizeof text, "# my key\r\n\r\n \t%s  \tbob's laptop\x01\r\n\n", a);
	write_file(f, "lenient.pub", text, strlen(text));
	read_key(f, "lenient.pub", &f->key[0]);
	assert_string_equal(f->key[0].type, "ssh-ed25519");
	/* Trimmed to printable ASCII, without the CR. */
	assert_string_equal(f->key[0].comment, "bob's laptop");
	/* The same key as k.pub, for ssh-keygen too. */
	expect_as_ssh_keygen(f, "k.pub", &f->key[0]);
	/* No comment at all. */
	snprintf(text, sizeof text, "%s\n", a);
	write_file(f, "bare.pub", text, strlen(text));
	read_key(f, "bare.pub", &f->key[1]);
	assert_string_equal(f->key[1].comment, "");
	assert_string_equal(f->key[1].base64, f->key[0].base64);
	free(a);
}

/* ---- users --------------------------------------------------------------- */

static void test_name_and_role_rules(void **state)
{
	char name[USER_NAME_MAX + 2];
	static const char *const good[] = { "alice", "_svc", "a", "a.b-c_1", "x9" };
	static const char *const bad[] = { "", "Alice", "1bob", "-x", ".x", "a b", "a/b", "al!ce", "é" };

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_int_equal(user_name_valid(good[i]), 1);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (user_name_valid(bad[i]))
			fail_msg("name '%s' accepted", bad[i]);
	memset(name, 'a', sizeof name);
	name[USER_NAME_MAX] = '\0';
	assert_int_equal(user_name_valid(name), 1);
	name[USER_NAME_MAX] = 'a';
	name[USER_NAME_MAX + 1] = '\0';
	assert_int_equal(user_name_valid(name), 0);

	assert_int_equal(user_role_valid("desk"), 1);
	assert_int_equal(user_role_valid("vendor"), 1);
	assert_int_equal(user_role_valid("auditor"), 1);
	assert_int_equal(user_role_valid("admin"), 1);
	assert_int_equal(user_role_valid("root"), 0);
	assert_int_equal(user_role_valid("Desk"), 0);
	assert_int_equal(user_role_valid(""), 0);
}

static void test_users_add_and_list(void **state)
{
	struct fixture *f = *state;
	struct user_copy users;
	struct audit_copy audit;
	char fp[128];

	keygen(f, "alice", "ed25519", 0, "alice@desk");
	read_key(f, "alice.pub", &f->key[0]);
	cli_fingerprint(f, "alice.pub", fp, sizeof fp);

	assert_int_equal(users_add(f->store, ACTOR, "bob", "vendor", NULL, f->err, sizeof f->err), 0);
	assert_int_equal(users_add(f->store, ACTOR, "alice", "desk", &f->key[0], f->err, sizeof f->err), 0);
	expect_counts(f, (struct counts){ 2, 1, 0, 2 });

	load_users(f, &users);
	assert_int_equal(users.n, 2);
	assert_string_equal(users.user[0].name, "alice"); /* by name */
	assert_string_equal(users.user[0].role, "desk");
	assert_int_equal(users.user[0].disabled, 0);
	assert_int_equal(users.user[0].key_count, 1);
	assert_string_equal(users.user[0].fingerprints, fp);
	assert_int_equal(strlen(users.user[0].created_at), 24);
	assert_string_equal(users.user[1].name, "bob");
	assert_string_equal(users.user[1].role, "vendor");
	assert_int_equal(users.user[1].key_count, 0);
	assert_string_equal(users.user[1].fingerprints, "");

	load_audit(f, NULL, &audit);
	assert_int_equal(audit.n, 2);
	assert_string_equal(audit.row[0].actor, ACTOR);
	assert_string_equal(audit.row[0].action, "user.add");
	assert_string_equal(audit.row[0].object, "user:bob");
	assert_int_equal(audit.row[0].has_ticket, 0);
	assert_non_null(strstr(audit.row[0].details, "role=vendor"));
	assert_non_null(strstr(audit.row[0].details, "key=none"));
	assert_string_equal(audit.row[1].object, "user:alice");
	assert_non_null(strstr(audit.row[1].details, "role=desk"));
	assert_non_null(strstr(audit.row[1].details, fp));
	expect_chain_intact(f, 2);
}

static void test_users_add_refusals_write_nothing(void **state)
{
	struct fixture *f = *state;
	struct counts before;
	struct user_copy users;

	keygen(f, "a", "ed25519", 0, "a");
	keygen(f, "b", "ed25519", 0, "b");
	read_key(f, "a.pub", &f->key[0]);
	read_key(f, "b.pub", &f->key[1]);
	assert_int_equal(users_add(f->store, ACTOR, "alice", "desk", &f->key[0], f->err, sizeof f->err), 0);
	before = counts_of(f);

	/* Duplicate name, even with another role and a new key. */
	assert_int_equal(users_add(f->store, ACTOR, "alice", "admin", &f->key[1], f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "already exists"));
	expect_counts(f, before);
	assert_int_equal(users_add(f->store, ACTOR, "alice", "desk", NULL, f->err, sizeof f->err), -1);
	expect_counts(f, before);

	/* A key already held by alice cannot log in bob: bob is not created. */
	assert_int_equal(users_add(f->store, ACTOR, "bob", "desk", &f->key[0], f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "already belongs to user alice"));
	expect_counts(f, before);
	load_users(f, &users);
	assert_int_equal(users.n, 1);

	/* Bad names and roles. */
	assert_int_equal(users_add(f->store, ACTOR, "Bob", "desk", NULL, f->err, sizeof f->err), -1);
	assert_int_equal(users_add(f->store, ACTOR, "bob", "root", NULL, f->err, sizeof f->err), -1);
	assert_int_equal(users_add(f->store, ACTOR, "", "desk", NULL, f->err, sizeof f->err), -1);
	expect_counts(f, before);
	expect_chain_intact(f, before.audit);
}

static void test_users_add_key(void **state)
{
	struct fixture *f = *state;
	struct counts before;
	struct user_copy users;
	struct audit_copy audit;

	keygen(f, "a", "ed25519", 0, "a");
	keygen(f, "b", "rsa", 3072, "b");
	keygen(f, "c", "ed25519", 0, "c");
	read_key(f, "a.pub", &f->key[0]);
	read_key(f, "b.pub", &f->key[1]);
	read_key(f, "c.pub", &f->key[2]);
	assert_int_equal(users_add(f->store, ACTOR, "alice", "desk", &f->key[0], f->err, sizeof f->err), 0);
	assert_int_equal(users_add(f->store, ACTOR, "bob", "auditor", NULL, f->err, sizeof f->err), 0);

	assert_int_equal(users_add_key(f->store, "local:admin", "alice", &f->key[1], f->err, sizeof f->err), 0);
	load_users(f, &users);
	assert_string_equal(users.user[0].name, "alice");
	assert_int_equal(users.user[0].key_count, 2);
	assert_true(has_word(users.user[0].fingerprints, f->key[0].fingerprint));
	assert_true(has_word(users.user[0].fingerprints, f->key[1].fingerprint));
	assert_int_equal(strlen(users.user[0].fingerprints),
	                 strlen(f->key[0].fingerprint) + 1 + strlen(f->key[1].fingerprint));
	load_audit(f, NULL, &audit);
	assert_int_equal(audit.n, 3);
	assert_string_equal(audit.row[2].actor, "local:admin");
	assert_string_equal(audit.row[2].action, "user.key_add");
	assert_string_equal(audit.row[2].object, "user:alice");
	assert_non_null(strstr(audit.row[2].details, "type=ssh-rsa"));
	assert_non_null(strstr(audit.row[2].details, f->key[1].fingerprint));

	before = counts_of(f);
	/* Same key again, to the same user or another: refused. */
	assert_int_equal(users_add_key(f->store, ACTOR, "alice", &f->key[1], f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "already belongs to user alice"));
	assert_int_equal(users_add_key(f->store, ACTOR, "bob", &f->key[0], f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "already belongs to user alice"));
	/* Unknown user. */
	assert_int_equal(users_add_key(f->store, ACTOR, "carol", &f->key[2], f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "no user carol"));
	expect_counts(f, before);

	/* A fresh key to bob works. */
	assert_int_equal(users_add_key(f->store, ACTOR, "bob", &f->key[2], f->err, sizeof f->err), 0);
	load_users(f, &users);
	assert_string_equal(users.user[1].name, "bob");
	assert_int_equal(users.user[1].key_count, 1);
	assert_string_equal(users.user[1].fingerprints, f->key[2].fingerprint);
	expect_chain_intact(f, 4);
}

/* The same key written differently (bytes after the blob, unused base64
 * bits) is still the same key: it must not log in a second user. */
static void test_same_key_other_encoding(void **state)
{
	struct fixture *f = *state;
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char line[1024], b64[512];
	struct counts before;
	size_t len;

	keygen(f, "ed", "ed25519", 0, "ed");
	keygen(f, "ec", "ecdsa", 256, "ec");
	read_key(f, "ed.pub", &f->key[0]);
	read_key(f, "ec.pub", &f->key[1]);
	assert_int_equal(users_add(f->store, ACTOR, "alice", "desk", &f->key[0], f->err, sizeof f->err), 0);
	assert_int_equal(users_add_key(f->store, ACTOR, "alice", &f->key[1], f->err, sizeof f->err), 0);
	before = counts_of(f);

	for (int variant = 0; variant < 3; variant++) {
		const struct ssh_pubkey *orig = &f->key[variant == 0 ? 0 : 1];

		snprintf(b64, sizeof b64, "%s", orig->base64);
		len = strlen(b64);
		if (variant == 0) {
			snprintf(b64 + len, sizeof b64 - len, "AAAA");  /* three zero bytes more */
		} else if (variant == 1) {
			snprintf(b64 + len, sizeof b64 - len, "AAAA"); /* after the padding */
		} else {
			/* Flip an unused low bit of the last data character. */
			size_t last = len;
			while (last > 0 && b64[last - 1] == '=')
				last--;
			assert_true(last < len); /* P-256 blobs are padded */
			b64[last - 1] = alphabet[(strchr(alphabet, b64[last - 1]) - alphabet) ^ 1];
		}
		snprintf(line, sizeof line, "%s %s other", orig->type, b64);
		if (ssh_pubkey_parse_line(line, &f->key[2], f->err, sizeof f->err) != 0)
			continue; /* refusing the odd encoding is fine too */
		assert_string_equal(f->key[2].fingerprint, orig->fingerprint);
		assert_int_equal(users_add(f->store, ACTOR, "bob", "vendor", &f->key[2], f->err,
		                           sizeof f->err), -1);
		assert_non_null(strstr(f->err, "already belongs to user alice"));
		assert_int_equal(users_add_key(f->store, ACTOR, "alice", &f->key[2], f->err, sizeof f->err), -1);
		expect_counts(f, before);
		/* What is stored is the blob as authorized_keys has it. */
		assert_string_equal(f->key[2].base64, orig->base64);
	}
}

static void test_users_disable(void **state)
{
	struct fixture *f = *state;
	struct counts before;
	struct user_copy users;
	struct audit_copy audit;

	assert_int_equal(users_add(f->store, ACTOR, "alice", "desk", NULL, f->err, sizeof f->err), 0);
	assert_int_equal(users_add(f->store, ACTOR, "bob", "desk", NULL, f->err, sizeof f->err), 0);
	assert_int_equal(users_disable(f->store, ACTOR, "alice", f->err, sizeof f->err), 0);
	load_users(f, &users);
	assert_int_equal(users.user[0].disabled, 1);
	assert_int_equal(users.user[1].disabled, 0);
	load_audit(f, NULL, &audit);
	assert_int_equal(audit.n, 3);
	assert_string_equal(audit.row[2].action, "user.disable");
	assert_string_equal(audit.row[2].object, "user:alice");
	assert_int_equal(audit.row[2].has_ticket, 0);

	before = counts_of(f);
	assert_int_equal(users_disable(f->store, ACTOR, "alice", f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "already disabled"));
	assert_int_equal(users_disable(f->store, ACTOR, "nobody", f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "no user nobody"));
	expect_counts(f, before);
	load_users(f, &users);
	assert_int_equal(users.user[1].disabled, 0);
	expect_chain_intact(f, 3);
}

/* ---- tickets ------------------------------------------------------------- */

struct ticket_copy {
	int n;
	struct {
		char id[TICKET_ID_MAX + 1], title[TICKET_TITLE_MAX + 1], requester[REQUESTER_MAX + 1];
		char state[16], opened_at[40], closed_at[40];
		int closed_at_null;
		int64_t sessions;
	} t[8];
};

static void copy_ticket(const struct ticket_info *t, void *ctx)
{
	struct ticket_copy *c = ctx;

	assert_true(c->n < 8);
	snprintf(c->t[c->n].id, sizeof c->t[0].id, "%s", t->id);
	snprintf(c->t[c->n].title, sizeof c->t[0].title, "%s", t->title);
	snprintf(c->t[c->n].requester, sizeof c->t[0].requester, "%s", t->requester);
	snprintf(c->t[c->n].state, sizeof c->t[0].state, "%s", t->state);
	snprintf(c->t[c->n].opened_at, sizeof c->t[0].opened_at, "%s", t->opened_at);
	c->t[c->n].closed_at_null = t->closed_at == NULL;
	snprintf(c->t[c->n].closed_at, sizeof c->t[0].closed_at, "%s", t->closed_at ? t->closed_at : "");
	c->t[c->n].sessions = t->sessions;
	c->n++;
}

static int get_ticket(struct fixture *f, const char *id, struct ticket_copy *c)
{
	memset(c, 0, sizeof *c);
	return tickets_get(f->store, id, copy_ticket, c, f->err, sizeof f->err);
}

static void pause_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

static void test_tickets_open_get_close(void **state)
{
	struct fixture *f = *state;
	struct ticket_copy c;
	struct audit_copy audit;
	struct counts before;

	assert_int_equal(tickets_open(f->store, "ssh:alice", "INC0012345", "Projector dead", "Prof. X",
	                              f->err, sizeof f->err), 0);
	assert_int_equal(get_ticket(f, "INC0012345", &c), 1);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.t[0].id, "INC0012345");
	assert_string_equal(c.t[0].title, "Projector dead");
	assert_string_equal(c.t[0].requester, "Prof. X");
	assert_string_equal(c.t[0].state, "open");
	assert_int_equal(c.t[0].closed_at_null, 1);
	assert_int_equal(c.t[0].sessions, 0);
	assert_int_equal(strlen(c.t[0].opened_at), 24);

	load_audit(f, "INC0012345", &audit);
	assert_int_equal(audit.n, 1);
	assert_string_equal(audit.row[0].actor, "ssh:alice");
	assert_string_equal(audit.row[0].action, "ticket.open");
	assert_string_equal(audit.row[0].object, "ticket:INC0012345");
	assert_int_equal(audit.row[0].has_ticket, 1);
	assert_string_equal(audit.row[0].ticket, "INC0012345");
	/* Free text stays out of the audit log: sizes only. */
	assert_string_equal(audit.row[0].details, "title_bytes=14 requester_bytes=7");

	before = counts_of(f);
	assert_int_equal(tickets_open(f->store, ACTOR, "INC0012345", "again", "", f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "already exists"));
	expect_counts(f, before);
	assert_int_equal(get_ticket(f, "INC0012345", &c), 1);
	assert_string_equal(c.t[0].title, "Projector dead");

	assert_int_equal(tickets_close(f->store, ACTOR, "INC0012345", f->err, sizeof f->err), 0);
	assert_int_equal(get_ticket(f, "INC0012345", &c), 1);
	assert_string_equal(c.t[0].state, "closed");
	assert_int_equal(c.t[0].closed_at_null, 0);
	assert_int_equal(strlen(c.t[0].closed_at), 24);
	assert_true(strcmp(c.t[0].closed_at, c.t[0].opened_at) >= 0);
	load_audit(f, "INC0012345", &audit);
	assert_int_equal(audit.n, 2);
	assert_string_equal(audit.row[1].action, "ticket.close");
	assert_string_equal(audit.row[1].ticket, "INC0012345");
	assert_string_equal(audit.row[1].actor, ACTOR);

	before = counts_of(f);
	assert_int_equal(tickets_close(f->store, ACTOR, "INC0012345", f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "already closed"));
	assert_int_equal(tickets_close(f->store, ACTOR, "INC0099999", f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "no ticket INC0099999"));
	/* A closed ticket is not reopened by opening it again. */
	assert_int_equal(tickets_open(f->store, ACTOR, "INC0012345", "", "", f->err, sizeof f->err), -1);
	expect_counts(f, before);

	/* Unknown ticket: 0, and the callback is not called. */
	assert_int_equal(get_ticket(f, "INC0099999", &c), 0);
	assert_int_equal(c.n, 0);
	expect_chain_intact(f, 2);
}

static void test_tickets_limits(void **state)
{
	struct fixture *f = *state;
	char title[TICKET_TITLE_MAX + 2], requester[REQUESTER_MAX + 2];
	struct ticket_copy c;
	struct counts before = counts_of(f);

	memset(title, 't', sizeof title);
	title[TICKET_TITLE_MAX + 1] = '\0';
	memset(requester, 'r', sizeof requester);
	requester[REQUESTER_MAX] = '\0';
	assert_int_equal(tickets_open(f->store, ACTOR, "HD-1", title, requester, f->err, sizeof f->err), -1);
	assert_non_null(strstr(f->err, "title"));
	title[TICKET_TITLE_MAX] = '\0';
	requester[REQUESTER_MAX] = 'r';
	requester[REQUESTER_MAX + 1] = '\0';
	assert_int_equal(tickets_open(f->store, ACTOR, "HD-1", title, requester, f->err, sizeof f->err), -1);
	expect_counts(f, before);
	/* Exactly at the limits: fine. */
	requester[REQUESTER_MAX] = '\0';
	assert_int_equal(tickets_open(f->store, ACTOR, "HD-1", title, requester, f->err, sizeof f->err), 0);
	assert_int_equal(get_ticket(f, "HD-1", &c), 1);
	assert_int_equal(strlen(c.t[0].title), TICKET_TITLE_MAX);
	assert_int_equal(strlen(c.t[0].requester), REQUESTER_MAX);
}

static void test_tickets_foreach(void **state)
{
	struct fixture *f = *state;
	struct ticket_copy c;
	static const char *const ids[] = { "INC0000001", "HD-2", "CHG0000003" };
	const char *session[] = { "s1", "HD-2" };

	assert_int_equal(users_add(f->store, ACTOR, "alice", "desk", NULL, f->err, sizeof f->err), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(tickets_open(f->store, ACTOR, ids[i], "t", "r", f->err, sizeof f->err), 0);
		pause_ms(3); /* distinct opened_at, millisecond clock */
	}
	assert_int_equal(tickets_close(f->store, ACTOR, "INC0000001", f->err, sizeof f->err), 0);
	assert_int_equal(store_run(f->store, "session", "INSERT INTO sessions (id, ticket_id, created_by, "
	                           "state, created_at) VALUES (?1, ?2, (SELECT id FROM users), 'waiting', "
	                           "'now')", 2, session, f->err, sizeof f->err), 1);
	session[0] = "s2";
	assert_int_equal(store_run(f->store, "session", "INSERT INTO sessions (id, ticket_id, created_by, "
	                           "state, created_at) VALUES (?1, ?2, (SELECT id FROM users), 'ended', "
	                           "'now')", 2, session, f->err, sizeof f->err), 1);

	memset(&c, 0, sizeof c);
	assert_int_equal(tickets_foreach(f->store, copy_ticket, &c, f->err, sizeof f->err), 0);
	assert_int_equal(c.n, 3);
	/* Newest first. */
	assert_string_equal(c.t[0].id, "CHG0000003");
	assert_string_equal(c.t[1].id, "HD-2");
	assert_string_equal(c.t[2].id, "INC0000001");
	assert_true(strcmp(c.t[0].opened_at, c.t[1].opened_at) > 0);
	assert_string_equal(c.t[2].state, "closed");
	assert_string_equal(c.t[1].state, "open");
	assert_int_equal(c.t[0].sessions, 0);
	assert_int_equal(c.t[1].sessions, 2);
	assert_int_equal(c.t[2].sessions, 0);
	assert_int_equal(get_ticket(f, "HD-2", &c), 1);
	assert_int_equal(c.t[0].sessions, 2);

	/* Each ticket's audit rows carry its id. */
	for (int i = 0; i < 3; i++) {
		struct audit_copy audit;
		load_audit(f, ids[i], &audit);
		assert_int_equal(audit.n, i == 0 ? 2 : 1);
		assert_string_equal(audit.row[0].action, "ticket.open");
		assert_string_equal(audit.row[0].object + strlen("ticket:"), ids[i]);
	}
}

/* Everything above in one database, failures included: the chain holds. */
static void test_chain_after_everything(void **state)
{
	struct fixture *f = *state;
	struct audit_copy audit;
	int64_t ok = 0;

	keygen(f, "a", "ed25519", 0, "a");
	keygen(f, "b", "ed25519", 0, "b");
	read_key(f, "a.pub", &f->key[0]);
	read_key(f, "b.pub", &f->key[1]);

	ok += users_add(f->store, ACTOR, "alice", "desk", &f->key[0], f->err, sizeof f->err) == 0;
	ok += users_add(f->store, ACTOR, "vera", "vendor", NULL, f->err, sizeof f->err) == 0;
	assert_int_equal(users_add(f->store, ACTOR, "alice", "desk", NULL, f->err, sizeof f->err), -1);
	assert_int_equal(users_add(f->store, ACTOR, "eve", "desk", &f->key[0], f->err, sizeof f->err), -1);
	ok += users_add_key(f->store, ACTOR, "vera", &f->key[1], f->err, sizeof f->err) == 0;
	assert_int_equal(users_add_key(f->store, ACTOR, "alice", &f->key[1], f->err, sizeof f->err), -1);
	ok += tickets_open(f->store, ACTOR, "RITM0001234", "Laptop", "Dr. Y", f->err, sizeof f->err) == 0;
	assert_int_equal(tickets_open(f->store, ACTOR, "RITM0001234", "", "", f->err, sizeof f->err), -1);
	ok += users_disable(f->store, ACTOR, "vera", f->err, sizeof f->err) == 0;
	assert_int_equal(users_disable(f->store, ACTOR, "vera", f->err, sizeof f->err), -1);
	ok += tickets_close(f->store, ACTOR, "RITM0001234", f->err, sizeof f->err) == 0;
	assert_int_equal(tickets_close(f->store, ACTOR, "RITM0001234", f->err, sizeof f->err), -1);
	assert_int_equal(ok, 6);

	expect_chain_intact(f, ok);
	load_audit(f, NULL, &audit);
	assert_int_equal(audit.n, 6);
	for (int i = 0; i < audit.n; i++) {
		assert_int_equal(audit.row[i].seq, i + 1);
		/* Ticket rows carry the ticket; user rows carry none. */
		assert_int_equal(audit.row[i].has_ticket, strncmp(audit.row[i].action, "ticket.", 7) == 0);
	}
	assert_string_equal(audit.row[5].action, "ticket.close");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_pubkey_ed25519),
		T(test_pubkey_ecdsa),
		T(test_pubkey_rsa_sizes),
		T(test_pubkey_refusals),
		T(test_pubkey_certificate_refused),
		T(test_pubkey_lenient_layout),
		cmocka_unit_test(test_name_and_role_rules),
		T(test_users_add_and_list),
		T(test_users_add_refusals_write_nothing),
		T(test_users_add_key),
		T(test_same_key_other_encoding),
		T(test_users_disable),
		T(test_tickets_open_get_close),
		T(test_tickets_limits),
		T(test_tickets_foreach),
		T(test_chain_after_everything),
	};
#undef T

	return cmocka_run_group_tests_name("users_tickets", tests, NULL, NULL);
}
