#!/usr/bin/env bash
# End to end: the auditor's recording commands (list, verify, timeline) on
# real recordings written by the recording writer (tests/tools/make_recording)
# and registered in the database like the relay does; damaged copies
# (flipped byte, removed record, cut mid-record and at a checkpoint, another
# key, a bad trailer signature, a swapped file, a missing file); every
# verify/timeline audited with the actor, failing closed.
. "$(dirname "$0")/lib.sh"
TOOLS=$(cd "${TOOLS:-$(dirname "$0")/../../build/rel/tools}" && pwd)
MAKE_REC="$TOOLS/make_recording"
cd "$WORK"
CONF="$WORK/concierge.conf"
write_config "$CONF"
C() { "$CONCIERGE" --config "$CONF" "$@"; }
ACTOR="local:$(id -un)"
DIR="$WORK/state/recordings/INC0012345"

for cmd in list verify timeline; do
	expect "concierge recording $cmd --help" 0 "usage:" "$CONCIERGE" recording $cmd --help
done
expect "verify --help documents the exit codes" 0 "4 truncated.*3 tampered|3 tampered.*4 truncated" \
	bash -c "'$CONCIERGE' recording verify --help | tr '\n' ' '"
expect "verify needs an argument" 2 "missing argument" "$CONCIERGE" recording verify

C init >/dev/null && C user add dana --role desk >/dev/null || { not_ok "init"; e2e_done; }
mkdir -p "$DIR"
expect "list without recordings" 0 "^no recordings$" C recording list

# --- a registered recording, and a second one
layout=$("$MAKE_REC" --out "$DIR/a.cncgrec" --key state/certs/relay.key --db state/concierge.db \
	--user dana --layout 2>/dev/null) || not_ok "make_recording a"
first=$(head -1 <<<"$layout")
id=${first##*id=}
session=${first#session=}; session=${session%% *}
second=$("$MAKE_REC" --out "$DIR/b.cncgrec" --key state/certs/relay.key --db state/concierge.db \
	--user dana 2>/dev/null) || not_ok "make_recording b"
id2=${second##*id=}
check "the tool registered two recordings" test "$id" -ge 1 -a "$id2" -gt "$id"

expect "list shows the recording" 0 "^$id +INC0012345 +$session +complete +[0-9T:.-]+Z +[0-9T:.-]+Z +$(stat -c %s "$DIR/a.cncgrec") +alice bob +[0-9a-f]{16}$" \
	C recording list
expect "list --json" 0 "\{\"id\":$id,\"ticket\":\"INC0012345\",\"session\":\"$session\",\"state\":\"complete\",.*\"participants\":\"alice bob\"" \
	C recording list --json
expect "list --ticket of another ticket" 0 "^no recordings for ticket INC0099999$" \
	C recording list --ticket INC0099999

# offsets from the layout: record INDEX OFFSET SIZE TYPE / checkpoint NAME INDEX END RECORDS
rec_field() { awk -v i="$1" -v f="$2" '$1 == "record" && $2 == i { print $f }' <<<"$layout"; }
cp_field() { awk -v n="$1" -v f="$2" '$1 == "checkpoint" && $2 == n { print $f }' <<<"$layout"; }
flip_byte() { # FILE OFFSET
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
verifies=0 timelines=0

# --- intact
expect "verify by id: intact, exit 0" 0 "recording $id: INTACT" C recording verify "$id"
verifies=$((verifies + 1))
expect "verify by path finds the database row" 0 "matches the database" C recording verify "$DIR/../INC0012345/a.cncgrec"
verifies=$((verifies + 1))
expect "verify --json" 0 "\"recording\":$id,.*\"status\":\"intact\".*\"signatures_checked\":true" \
	C recording verify "$id" --json
verifies=$((verifies + 1))

# --- one flipped byte inside record 10 (a key event of alice)
cp "$DIR/a.cncgrec" flipped.cncgrec
off=$(rec_field 10 3)
flip_byte flipped.cncgrec $((off + 20))
expect "one flipped byte: tampered, exit 3, names the record" 3 "TAMPERED: first bad record 10 at offset $off: chain mismatch" \
	C recording verify flipped.cncgrec
verifies=$((verifies + 1))
expect "flipped byte --json names index and offset" 3 "\"status\":\"tampered\".*\"first_bad_record\":10,\"first_bad_offset\":$off" \
	C recording verify flipped.cncgrec --json
verifies=$((verifies + 1))
expect "timeline refuses a tampered recording" 3 "TAMPERED" C recording timeline flipped.cncgrec

# --- one record removed (record 12)
off=$(rec_field 12 3); size=$(rec_field 12 4)
{ head -c "$off" "$DIR/a.cncgrec"; tail -c +$((off + size + 1)) "$DIR/a.cncgrec"; } >removed.cncgrec
expect "one removed record: tampered, exit 3" 3 "TAMPERED: first bad record 12 at offset $off" \
	C recording verify removed.cncgrec
verifies=$((verifies + 1))

# --- cut short: mid-record after checkpoint B, and exactly at checkpoint A
cp "$DIR/a.cncgrec" cut_mid.cncgrec
truncate -s $(($(cp_field B 4) + 10)) cut_mid.cncgrec
expect "cut mid-record: truncated, exit 4, verified count" 4 "TRUNCATED: $(cp_field B 5) records, $(cp_field B 4) bytes verified" \
	C recording verify cut_mid.cncgrec
verifies=$((verifies + 1))
cp "$DIR/a.cncgrec" cut_cp.cncgrec
truncate -s "$(cp_field A 4)" cut_cp.cncgrec
expect "cut at a checkpoint: truncated, exit 4, verified count" 4 "TRUNCATED: $(cp_field A 5) records, $(cp_field A 4) bytes verified" \
	C recording verify cut_cp.cncgrec
verifies=$((verifies + 1))
expect "timeline of a truncated recording warns and shows what is there" 0 "warning: .*TRUNCATED" \
	C recording timeline cut_mid.cncgrec
timelines=$((timelines + 1))

# --- signatures: another relay's key; a flipped signature byte with a recomputed chain
openssl ecparam -name prime256v1 -genkey -noout -out other.key 2>/dev/null
"$MAKE_REC" --out "$WORK/other.cncgrec" --key other.key --session s0badc0de >/dev/null 2>&1
expect "signed by another key: tampered, exit 3" 3 "another relay key" C recording verify other.cncgrec
verifies=$((verifies + 1))
"$MAKE_REC" --out "$WORK/badsig.cncgrec" --key state/certs/relay.key --session s0badc0de --bad-signature >/dev/null 2>&1
expect "flipped signature bytes: tampered, exit 3" 3 "bad signature on the trailer" C recording verify badsig.cncgrec
verifies=$((verifies + 1))

# --- timeline
expect "timeline: alice's typing attributed to her" 0 "^00:00\.100  alice typed: echo Hi<Return>$" \
	C recording timeline "$id"
timelines=$((timelines + 1))
expect "timeline: bob's input marked dropped" 0 "bob typed: x \(dropped: view-only\)" C recording timeline "$id"
timelines=$((timelines + 1))
expect "timeline: events" 0 "alice \(desk\) joined: screen, control" C recording timeline "$id"
timelines=$((timelines + 1))
expect "timeline --json" 0 "\"participant\":\"bob\",\"kind\":\"typed\",\"text\":\"x\",.*\"dropped\":true" \
	C recording timeline "$id" --json
timelines=$((timelines + 1))

# --- audit: one row per verify/timeline naming the actor
C audit list --json >audit.json
count_rows() { grep -o "\"actor\":\"$ACTOR\",\"action\":\"recording.$1\"" audit.json | wc -l; }
check "every verify wrote an audit row naming the actor ($verifies)" test "$(count_rows verify)" -eq "$verifies"
check "every timeline wrote an audit row naming the actor ($timelines)" test "$(count_rows timeline)" -eq "$timelines"
check "the audit row names the recording and its ticket" \
	grep -q "\"action\":\"recording.timeline\",\"object\":\"recording:$id\",\"ticket\":\"INC0012345\"" audit.json
check "a file outside the database is audited by its path" \
	grep -q "\"action\":\"recording.verify\",\"object\":\"recording:$WORK/flipped.cncgrec\"" audit.json

# --- fail closed: no audit row, no timeline
sqlite3 state/concierge.db "CREATE TRIGGER block_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'blocked'); END;"
expect "timeline when the audit row cannot be written: exit 1" 1 "cannot write the audit row" C recording timeline "$id"
check "... and nothing of the timeline was shown" bash -c "! grep -q typed <<<'$OUT'"
expect "verify when the audit row cannot be written: exit 1" 1 "cannot write the audit row" C recording verify "$id"
sqlite3 state/concierge.db "DROP TRIGGER block_audit;"

# --- the database's own check: a file swapped for another valid recording
cp "$DIR/a.cncgrec" a.orig
cp "$DIR/b.cncgrec" "$DIR/a.cncgrec"
expect "a complete recording swapped for another: tampered" 3 "not the recording the database registered" \
	C recording verify "$id"
cp a.orig "$DIR/a.cncgrec"
rm "$DIR/b.cncgrec"
expect "a registered recording whose file is missing: exit 1" 1 "file of recording $id2 .* is missing" \
	C recording verify "$id2"
expect "an unknown id: exit 1" 1 "no recording 999" C recording verify 999
expect "audit verify passes afterwards" 0 "audit log intact" C audit verify
e2e_done
