#!/usr/bin/env bash
# End to end: the real bin/concierge against a temporary config and database.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
CONF="$WORK/concierge.conf"
write_config "$CONF"
C() { "$CONCIERGE" --config "$CONF" "$@"; }
DB=state/concierge.db

# --- help and usage errors
expect "--help lists commands" 0 "user add NAME" "$CONCIERGE" --help
for cmd in "init" "user add" "user key" "user list" "user disable" "ticket open" "ticket list" \
           "ticket show" "ticket close" "audit list" "audit verify" "audit head"; do
	expect "concierge $cmd --help" 0 "usage:" "$CONCIERGE" $cmd --help
done
expect "group help: concierge user --help" 0 "user disable" "$CONCIERGE" user --help
expect "unknown command is a usage error" 2 "unknown command 'frobnicate'" "$CONCIERGE" frobnicate
expect "no command is a usage error" 2 "usage:" "$CONCIERGE"
expect "unknown option is a usage error" 2 "unknown option '--bogus'" "$CONCIERGE" user list --bogus
expect "option of another command is refused" 2 "does not apply" "$CONCIERGE" user list --role desk

# --- before init
expect "commands before init say to run init" 1 "run 'concierge init'" C user list

# --- init
expect "init creates keys and database" 0 "created .*ca.pem" C init
check "private keys are 0600" test "$(stat -c %a state/certs/ca.key state/certs/relay.key state/certs/ssh_host_ed25519_key | sort -u)" = 600
check "database is 0600" test "$(stat -c %a $DB)" = 600
check "relay certificate verifies against the CA with its SANs" \
	bash -c "openssl verify -CAfile state/certs/ca.pem state/certs/relay.pem >/dev/null &&
	         openssl x509 -in state/certs/relay.pem -noout -ext subjectAltName |
	         grep -q 'DNS:relay.test.example, DNS:localhost, IP Address:127.0.0.1'"
sums_before=$(sha256sum state/certs/* | sort)
expect "second init changes nothing and says what exists" 0 "exists .*relay.key" C init
check "second init left every key byte-identical" test "$sums_before" = "$(sha256sum state/certs/* | sort)"
check "database runs in WAL mode" test "$(sqlite3 $DB 'PRAGMA journal_mode')" = wal

# --- users
ssh-keygen -q -t ed25519 -N '' -C alice@desk -f alice
ssh-keygen -q -t ed25519 -N '' -f alice2
ssh-keygen -q -t ed25519 -N '' -f vendor1
expect "user add with key" 0 "added user alice" C user add alice --role desk --key alice.pub
fp=$(ssh-keygen -lf alice.pub | awk '{print $2}')
expect "user list shows the key fingerprint" 0 "alice +desk +active +1 +${fp//+/\\+}" C user list
expect "user list --json" 0 "\"name\":\"alice\",\"role\":\"desk\",\"disabled\":false" C user list --json
expect "user add without key" 0 "no key yet" C user add vera --role vendor
expect "user key add" 0 "added ssh-ed25519 key" C user key add vera vendor1.pub
head=$(C audit head)
expect "duplicate user is refused" 1 "already exists" C user add alice --role admin --key alice2.pub
check "duplicate user changed nothing (audit head unchanged)" test "$(C audit head)" = "$head"
expect "unknown role is a usage error" 2 "unknown role 'boss'" C user add bob --role boss
expect "invalid user name is a usage error" 2 "invalid user name" C user add 'Bob Smith' --role desk
expect "a private key given as public key is refused" 1 "private key" C user add bob --role desk --key alice
echo "ssh-ed25519 AAAAnotbase64!!" >bad.pub
expect "malformed public key is refused" 1 "malformed" C user add bob --role desk --key bad.pub
expect "unreadable public key file is refused" 1 "cannot read public key" C user add bob --role desk --key missing.pub
expect "a key already used by another user is refused" 1 "already belongs to user alice" C user key add vera alice.pub
check "refused adds left no user bob" bash -c "! '$CONCIERGE' --config '$CONF' user list | grep -q '^bob '"
expect "user disable" 0 "disabled user vera" C user disable vera
expect "user list shows disabled" 0 "vera +vendor +disabled" C user list
expect "disabling twice is an error" 1 "already disabled" C user disable vera
expect "disabling an unknown user is an error" 1 "no user ghost" C user disable ghost

# --- tickets
expect "ticket open" 0 "opened ticket INC0012345" C ticket open INC0012345 --title "Projector in B12" --requester "Dr Ada"
expect "ticket open RITM style" 0 "opened" C ticket open RITM0001234
expect "ticket open HD style" 0 "opened" C ticket open HD-4711
expect "ticket id not matching ticket_pattern is a usage error" 2 "not a ticket id" C ticket open 'INC12;rm'
expect "duplicate ticket is refused" 1 "already exists" C ticket open INC0012345
expect "ticket list" 0 "INC0012345 +open" C ticket list
expect "ticket list --json" 0 '"id":"HD-4711"' C ticket list --json
expect "ticket show --json" 0 '"title":"Projector in B12","requester":"Dr Ada","state":"open"' C ticket show INC0012345 --json
expect "ticket show of unknown ticket" 1 "no ticket INC9999999" C ticket show INC9999999
expect "ticket close" 0 "closed ticket INC0012345" C ticket close INC0012345
expect "ticket show after close" 0 "state: +closed" C ticket show INC0012345
expect "closing twice is an error" 1 "already closed" C ticket close INC0012345

# --- audit
expect "audit list --ticket shows only that ticket" 0 "ticket.close" C audit list --ticket INC0012345
check "audit list --ticket has no other ticket's rows" bash -c "! '$CONCIERGE' --config '$CONF' audit list --ticket INC0012345 | grep -q HD-4711"
expect "audit list --json" 0 '"action":"user.add"' C audit list --json
expect "audit verify on an intact log" 0 "audit log intact" C audit verify
anchor=$(C audit head)
check "audit head is 64 hex digits" bash -c "[[ '$anchor' =~ ^[0-9a-f]{64}$ ]]"
expect "audit verify --head with the current head" 0 "anchor found" C audit verify --head "$anchor"
expect "audit verify --json" 0 '"intact":true' C audit verify --json

# Tamper with copies of the database through the sqlite3 CLI.
tamper() { # NAME SQL -> runs SQL on a copy, sets TCONF to a config pointing at it
	mkdir -p "t_$1"; sqlite3 $DB ".backup t_$1/db"
	sqlite3 "t_$1/db" "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; $2"
	TCONF="t_$1/conf"; printf 'database = db\n' >"$TCONF"
}
check "the audit log refuses plain UPDATE" bash -c "! sqlite3 $DB \"UPDATE audit_log SET actor='x' WHERE seq=2\" 2>/dev/null"
tamper edit "UPDATE audit_log SET details='role=admin' WHERE seq=8"
expect "edited row: verify exits 3 naming seq 8" 3 "first bad row is seq 8: .*edited" "$CONCIERGE" --config "$TCONF" audit verify
tamper delete "DELETE FROM audit_log WHERE seq=5"
expect "deleted row: verify exits 3 naming seq 5" 3 "first bad row is seq 5" "$CONCIERGE" --config "$TCONF" audit verify
tamper insert "UPDATE audit_log SET seq=seq+1000 WHERE seq>=4; UPDATE audit_log SET seq=seq-999 WHERE seq>=1004;
               INSERT INTO audit_log SELECT 4, ts, 'local:mallory', 'user.add', 'user:mallory', NULL, '', hash, hash FROM audit_log WHERE seq=3"
expect "inserted row: verify exits 3 naming seq 4" 3 "first bad row is seq 4" "$CONCIERGE" --config "$TCONF" audit verify
tamper reorder "UPDATE audit_log SET seq=-1 WHERE seq=3; UPDATE audit_log SET seq=3 WHERE seq=4; UPDATE audit_log SET seq=4 WHERE seq=-1"
expect "reordered rows: verify exits 3 naming seq 3" 3 "first bad row is seq 3" "$CONCIERGE" --config "$TCONF" audit verify
last=$(sqlite3 $DB "SELECT max(seq) FROM audit_log")
tamper truncate "DELETE FROM audit_log WHERE seq=$last"
expect "truncated tail passes without an anchor" 0 "intact" "$CONCIERGE" --config "$TCONF" audit verify
expect "truncated tail is caught by the anchored head" 3 "anchored head" "$CONCIERGE" --config "$TCONF" audit verify --head "$anchor"
expect "--head with a malformed hash is a usage error" 2 "64 lowercase hex" C audit verify --head xyz

# --- databases that are not ours, and bad config
echo "this is not a database" >garbage.db
printf 'database = garbage.db\n' >garbage.conf
expect "a non-SQLite database is refused" 1 "not a Concierge database" "$CONCIERGE" --config garbage.conf user list
sqlite3 foreign.db "CREATE TABLE t (x); INSERT INTO t VALUES (1);"
printf 'database = foreign.db\n' >foreign.conf
expect "a foreign SQLite database is refused" 1 "not a Concierge one" "$CONCIERGE" --config foreign.conf init
check "init did not touch the foreign database" test "$(sqlite3 foreign.db 'SELECT count(*) FROM sqlite_schema')" = 1
sqlite3 $DB ".backup corrupt.db"
# Overwrite every page after the first: the header stays, the tables do not.
size=$(stat -c %s corrupt.db)
dd if=/dev/urandom of=corrupt.db bs=4096 seek=1 count=$((size / 4096 - 1)) conv=notrunc status=none
printf 'database = corrupt.db\n' >corrupt.conf
expect "a corrupt database is reported" 1 "corrupt|malformed|not a Concierge" "$CONCIERGE" --config corrupt.conf audit verify
printf 'database = x.db\nfrobs = 3\n' >unknown.conf
expect "unknown config key names the line" 1 "unknown.conf:2: unknown key 'frobs'" "$CONCIERGE" --config unknown.conf user list
printf 'agent_listen = 127.0.0.1\n' >badport.conf
expect "bad HOST:PORT names the line and key" 1 "badport.conf:1: bad value for agent_listen" "$CONCIERGE" --config badport.conf user list
expect "missing --config file is an error" 1 "cannot read config" "$CONCIERGE" --config nowhere.conf user list

# --- defaults: without --config, ./concierge.conf, else built-in defaults in the working folder
mkdir defaults && cd defaults
expect "init on built-in defaults" 0 "built-in defaults" "$CONCIERGE" init
check "defaults keep state in the working folder" test -f concierge.db -a -f certs/ca.pem -a -d recordings
printf 'database = other.db\n' >concierge.conf
expect "./concierge.conf is read when present" 0 "concierge.conf" "$CONCIERGE" init
check "./concierge.conf's database was created" test -f other.db
cd ..

expect "audit verify after everything" 0 "intact" C audit verify
e2e_done
