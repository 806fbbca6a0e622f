#include "users.h"

#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "concierge_limits.h"

int user_name_valid(const char *name)
{
	size_t len = strnlen(name, USER_NAME_MAX + 1);

	if (len == 0 || len > USER_NAME_MAX)
		return 0;
	if (!((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return 0;
	for (size_t i = 1; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

int user_role_valid(const char *role)
{
	return strcmp(role, "desk") == 0 || strcmp(role, "vendor") == 0 ||
	       strcmp(role, "auditor") == 0 || strcmp(role, "admin") == 0;
}

/* Inside an open transaction: checks the key is new, stores it. */
static int insert_key(struct store *store, const char *name, const struct ssh_pubkey *key,
                      char *err, size_t errlen)
{
	char owner[USER_NAME_MAX + 1], now[32];
	const char *find[] = { key->base64 };
	int found = store_query_text(store, "cannot check the key",
	                             "SELECT u.name FROM user_keys k JOIN users u ON u.id = k.user_id "
	                             "WHERE k.key_base64 = ?1", 1, find, owner, sizeof owner, err, errlen);

	if (found < 0)
		return -1;
	if (found) {
		snprintf(err, errlen, "key %s already belongs to user %s: each key logs in one user",
		         key->fingerprint, owner);
		return -1;
	}
	store_now_utc(now, sizeof now);
	const char *params[] = { name, key->type, key->base64, key->fingerprint, key->comment, now };
	return store_run(store, "cannot store the key",
	                 "INSERT INTO user_keys (user_id, key_type, key_base64, fingerprint, comment, added_at) "
	                 "SELECT id, ?2, ?3, ?4, ?5, ?6 FROM users WHERE name = ?1",
	                 6, params, err, errlen) == 1 ? 0 : -1;
}

static int audit_user_change(struct store *store, const char *actor, const char *action,
                             const char *name, const char *details, char *err, size_t errlen)
{
	char object[USER_NAME_MAX + 8];

	snprintf(object, sizeof object, "user:%s", name);
	struct audit_event ev = { actor, action, object, NULL, details };
	return audit_append(store, &ev, err, errlen);
}

/* Inside an open transaction: the user's role and disabled flag, 1 found, 0 not, -1 error. */
static int lookup_user(struct store *store, const char *name, char *role, size_t rolelen,
                       int *disabled, char *err, size_t errlen)
{
	char flag[8];
	const char *params[] = { name };
	int found = store_query_text(store, "cannot look up the user",
	                             "SELECT role FROM users WHERE name = ?1", 1, params, role, rolelen,
	                             err, errlen);

	if (found <= 0)
		return found;
	if (store_query_text(store, "cannot look up the user",
	                     "SELECT disabled FROM users WHERE name = ?1", 1, params, flag, sizeof flag,
	                     err, errlen) < 0)
		return -1;
	*disabled = strcmp(flag, "1") == 0;
	return 1;
}

int users_add(struct store *store, const char *actor, const char *name, const char *role,
              const struct ssh_pubkey *key, char *err, size_t errlen)
{
	char existing_role[16], now[32], details[160];
	int disabled, found;

	if (!user_name_valid(name) || !user_role_valid(role)) {
		snprintf(err, errlen, "invalid user name or role");
		return -1;
	}
	if (store_begin(store, err, errlen) < 0)
		return -1;
	found = lookup_user(store, name, existing_role, sizeof existing_role, &disabled, err, errlen);
	if (found < 0)
		goto fail;
	if (found) {
		snprintf(err, errlen, "user %s already exists (role %s); use 'concierge user key add' to "
		         "give it another key", name, existing_role);
		goto fail;
	}
	store_now_utc(now, sizeof now);
	const char *params[] = { name, role, now };
	if (store_run(store, "cannot add the user",
	              "INSERT INTO users (name, role, created_at) VALUES (?1, ?2, ?3)", 3, params,
	              err, errlen) != 1)
		goto fail;
	if (key && insert_key(store, name, key, err, errlen) < 0)
		goto fail;
	snprintf(details, sizeof details, "role=%s key=%s", role, key ? key->fingerprint : "none");
	if (audit_user_change(store, actor, "user.add", name, details, err, errlen) < 0)
		goto fail;
	return store_commit(store, err, errlen);
fail:
	store_rollback(store);
	return -1;
}

int users_add_key(struct store *store, const char *actor, const char *name,
                  const struct ssh_pubkey *key, char *err, size_t errlen)
{
	char role[16], details[160];
	int disabled, found;

	if (store_begin(store, err, errlen) < 0)
		return -1;
	found = lookup_user(store, name, role, sizeof role, &disabled, err, errlen);
	if (found <= 0) {
		if (found == 0)
			snprintf(err, errlen, "no user %s: add it first with 'concierge user add'", name);
		goto fail;
	}
	if (insert_key(store, name, key, err, errlen) < 0)
		goto fail;
	snprintf(details, sizeof details, "type=%s key=%s", key->type, key->fingerprint);
	if (audit_user_change(store, actor, "user.key_add", name, details, err, errlen) < 0)
		goto fail;
	return store_commit(store, err, errlen);
fail:
	store_rollback(store);
	return -1;
}

int users_disable(struct store *store, const char *actor, const char *name, char *err, size_t errlen)
{
	char role[16];
	int disabled = 0, found;
	const char *params[] = { name };

	if (store_begin(store, err, errlen) < 0)
		return -1;
	found = lookup_user(store, name, role, sizeof role, &disabled, err, errlen);
	if (found <= 0) {
		if (found == 0)
			snprintf(err, errlen, "no user %s ('concierge user list' shows who exists)", name);
		goto fail;
	}
	if (disabled) {
		snprintf(err, errlen, "user %s is already disabled", name);
		goto fail;
	}
	if (store_run(store, "cannot disable the user", "UPDATE users SET disabled = 1 WHERE name = ?1",
	              1, params, err, errlen) != 1)
		goto fail;
	if (audit_user_change(store, actor, "user.disable", name, "", err, errlen) < 0)
		goto fail;
	return store_commit(store, err, errlen);
fail:
	store_rollback(store);
	return -1;
}

int users_foreach(struct store *store, user_info_fn fn, void *ctx, char *err, size_t errlen)
{
	sqlite3_stmt *stmt = NULL;
	int rc = -1, step;

	if (sqlite3_prepare_v2(store_db(store),
	                       "SELECT u.name, u.role, u.created_at, u.disabled, count(k.id), "
	                       "coalesce(group_concat(k.fingerprint, ' '), '') FROM users u "
	                       "LEFT JOIN user_keys k ON k.user_id = u.id GROUP BY u.id ORDER BY u.name",
	                       -1, &stmt, NULL) != SQLITE_OK) {
		store_error(store, "cannot list users", err, errlen);
		goto out;
	}
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct user_info user = {
			.name = (const char *)sqlite3_column_text(stmt, 0),
			.role = (const char *)sqlite3_column_text(stmt, 1),
			.created_at = (const char *)sqlite3_column_text(stmt, 2),
			.disabled = sqlite3_column_int(stmt, 3),
			.key_count = sqlite3_column_int(stmt, 4),
			.fingerprints = (const char *)sqlite3_column_text(stmt, 5),
		};
		fn(&user, ctx);
	}
	if (step != SQLITE_DONE) {
		store_error(store, "cannot list users", err, errlen);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(stmt);
	return rc;
}
