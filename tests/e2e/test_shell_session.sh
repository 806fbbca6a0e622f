#!/usr/bin/env bash
# End to end: shell sessions through the relay with the real OpenSSH client.
# Interactive participants run `ssh -tt ... shell S` inside tmux panes (real
# terminals whose size we control); the person at the machine answers on the
# agent's stdin.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/screen_lib.sh"
cd "$WORK"
TMUX_SOCK="$WORK/tmux.sock"
tm() { TERM=xterm-256color tmux -S "$TMUX_SOCK" "$@"; }
e2e_stop_tmux() { tm kill-server 2>/dev/null; }
trap 'e2e_stop_tmux; e2e_cleanup' EXIT

pane_has() { # PANE REGEX SECONDS: the pane's text matches within SECONDS
	local deadline=$((SECONDS + $3))
	while [ $SECONDS -lt $deadline ]; do
		tm capture-pane -p -J -S -200 -t "$1" 2>/dev/null | grep -Eq -- "$2" && return 0
		sleep 0.2
	done
	return 1
}
pane_lacks() { ! tm capture-pane -p -J -S -200 -t "$1" | grep -Eq -- "$2"; }
ssh_cmd() { # USER: the ssh command line as a string for tmux
	echo "ssh ${SSH_OPTS[*]} -tt -i $WORK/$1.key -p $SSH_PORT $1@127.0.0.1"
}
open_pane() { # NAME USER ARGS...: a tmux pane running ssh -tt USER shell ARGS
	local name=$1 user=$2; shift 2
	tm new-session -d -s "$name" -x 100 -y 30 "$(ssh_cmd "$user") shell $*; echo ssh-exit=\$?; sleep 30"
}

check "relay starts" relay_setup
check "session for ticket INC0080001" new_session dana INC0080001
S=$SID
agent_start sh --screen demo --code "$CODE" --consent-timeout 8
check "agent connects" wait_for_log sh.out "Connected to your IT desk" 10

open_pane p1 dana "$S"
check "agent asks about the shell naming user and ticket" wait_for_log sh.out "dana \(desk agent\) asks to open a SHELL on this computer .*ticket INC0080001" 10
agent_say sh y
check "agent shows who is typing" wait_for_log sh.out "dana \(desk\) is now TYPING IN the shell" 10
tm send-keys -t p1 "echo marker-\$((6*7))" Enter
check "a command typed through ssh -tt runs on the agent side and its output comes back" pane_has p1 "^marker-42" 10
tm send-keys -t p1 "id -un" Enter
check "id -un shows the agent's user" pane_has p1 "^$(id -un)\$" 10

q=$(log_count sh.out "asks to open a SHELL")
open_pane p2 dana "$S"
answer_next sh "asks to open a SHELL" "$q" y
check "a late joiner first sees the recent output (bounded tail)" pane_has p2 "marker-42" 10
tm send-keys -t p1 "echo shared-\$((100+23))" Enter
check "participant 1 sees the shared output" pane_has p1 "^shared-123" 10
check "participant 2 sees the same output" pane_has p2 "^shared-123" 10

open_pane p3 dana "$S" --view-only
check "view-only asks to WATCH" wait_for_log sh.out "asks to WATCH the shell" 10
agent_say sh y
check "the watcher sees the shell" pane_has p3 "shared-123" 10
tm send-keys -t p3 "echo typed-by-viewer" Enter
sleep 1
tm send-keys -t p1 "echo after-viewer" Enter
check "output after the viewer typed arrives" pane_has p1 "^after-viewer" 10
check "the view-only participant's keystrokes did nothing" pane_lacks p1 "typed-by-viewer"

tm send-keys -t p1 "stty size" Enter
check "the PTY has the typist's window size (30 rows, 100 columns)" pane_has p1 "^30 100" 10
tm resize-window -t p1 -x 120 -y 40
sleep 0.5
tm send-keys -t p1 "stty size" Enter
check "a window change reaches the PTY (stty size shows 40 120)" pane_has p1 "^40 120" 10
check "the resize is audited" audit_has "shell.resize +session:$S +INC0080001 +participant=dana cols=120 rows=40"
tm send-keys -t p2 "stty size | sed 's/^/p2-size-/'" Enter
check "the PTY follows the window of whoever typed last (participant 2: 30x100)" pane_has p1 "^p2-size-30 100" 10
tm send-keys -t p1 "stty size | sed 's/^/p1-size-/'" Enter
check "and back to participant 1's window when they type (40x120)" pane_has p1 "^p1-size-40 120" 10

# A participant that stops reading does not stall the other.
mkfifo stall.fifo
(exec 3<stall.fifo; sleep 40) &
E2E_PIDS+=($!)
q=$(log_count sh.out "asks to open a SHELL")
ssh "${SSH_OPTS[@]}" -tt -i dana.key -p "$SSH_PORT" dana@127.0.0.1 shell "$S" </dev/null >stall.fifo 2>/dev/null &
E2E_PIDS+=($!)
answer_next sh "asks to open a SHELL" "$q" y
sleep 1
tm send-keys -t p1 "seq 1 200000 | tail -c 2000000; echo done-\$((2*21))" Enter
check "a stalled participant does not stall the other (2 MB of output arrives)" pane_has p1 "^done-42" 30

tm send-keys -t p1 "exit 3" Enter
check "the exit status reaches participant 1" pane_has p1 "ssh-exit=3" 10
check "and participant 2" pane_has p2 "ssh-exit=3" 10
check "and the watcher" pane_has p3 "ssh-exit=3" 10
check "the exit status is audited" audit_has "shell.exit +session:$S +INC0080001 +participant=dana status=3"
check "dropped viewer input is counted in the audit log" audit_has "stream.close +session:$S .*kind=shell .*dropped_input_frames=[1-9]"

# Without a TTY the shell works as a pipe, for scripts.
q=$(log_count sh.out "asks to open a SHELL")
(echo 'uname -s; exit 7' | ssh "${SSH_OPTS[@]}" -i dana.key -p "$SSH_PORT" dana@127.0.0.1 shell "$S" >pipe.out 2>&1; echo "rc=$?" >>pipe.out) &
answer_next sh "asks to open a SHELL" "$q" y
check "pipe mode: output comes back" wait_for_log pipe.out "^Linux$" 30
check "pipe mode: exit status comes back" wait_for_log pipe.out "^rc=7$" 10

# Refusals.
q=$(log_count sh.out "asks to open a SHELL")
(ssh "${SSH_OPTS[@]}" -i dana.key -p "$SSH_PORT" dana@127.0.0.1 shell "$S" </dev/null >denied.out 2>&1; echo "rc=$?" >>denied.out) &
answer_next sh "asks to open a SHELL" "$q" n
check "consent denied: a clear refusal" wait_for_log denied.out "declined to open a shell" 10
check "consent denied: exit status 1" wait_for_log denied.out "^rc=1$" 5
expect "usage error for shell without a session" 2 "usage: shell SESSION" ssh_as dana shell
expect "a vendor cannot get a shell" 1 "Only desk agents" ssh_as vera shell "$S"

# The end user closes the shell alone; the session goes on.
q=$(log_count sh.out "asks to open a SHELL")
open_pane p4 dana "$S"
answer_next sh "asks to open a SHELL" "$q" y
check "fresh shell after the previous one exited" pane_has p4 "\\$ ?$|# ?$" 10
agent_say sh s
check "the participant is told the end user closed the shell" pane_has p4 "closed the shell" 10
check "the session goes on after the shell closed" bash -c "! grep -q 'The session has ended' sh.out"

# --no-shell refuses every shell request.
check "session for --no-shell" new_session dana INC0080002
agent_start ns --screen demo --code "$CODE" --no-shell
wait_for_log ns.out "Connected to your IT desk" 10
expect "--no-shell: a clear refusal" 1 "does not offer a shell" ssh_as dana shell "$SID"
check "--no-shell refusal is audited" audit_has "consent.deny +session:$SID .*reason=no_shell"
agent_say ns q

# session end ends the shell too.
q=$(log_count sh.out "asks to open a SHELL")
open_pane p5 dana "$S"
answer_next sh "asks to open a SHELL" "$q" y
check "a shell participant before session end" pane_has p5 "\\$ ?$|# ?$" 10
expect "session end while a shell is attached" 0 "ended session $S" ssh_as dana session end "$S"
check "the shell participant is told why the session ended" pane_has p5 "concierge: ended by dana" 10
eval "wait_exit \$AGENT_PID_sh 10"
check "the agent ends (and kills its shell) when the session ends" test "$RC" -eq 0
# The recording: the shared PTY's output once (several participants saw it),
# each participant's typing attributed.
REC_ID=$("$CONCIERGE" --config "$CONF" recording list --ticket INC0080001 --json | sed -n 's/^\[{"id":\([0-9]*\).*/\1/p')
expect "the shell session's recording verifies" 0 "INTACT" "$CONCIERGE" --config "$CONF" recording verify "$REC_ID"
expect "it exports as asciicast v2" 0 "" "$CONCIERGE" --config "$CONF" recording export "$REC_ID" --asciicast shell.cast
check "the cast starts with a version 2 header" grep -Eq '^\{"version": ?2,' shell.cast
check "output two participants saw is recorded once" test "$(grep -o 'shared-123' shell.cast | wc -l)" -eq 1
"$CONCIERGE" --config "$CONF" recording timeline "$REC_ID" >shell-timeline.txt
check "the timeline attributes the typing" grep -Eq 'dana .*echo shared-' shell-timeline.txt
check "the viewer's keystrokes are in the timeline, marked dropped" grep -Eq 'typed-by-viewer.*dropped|dropped.*typed-by-viewer' shell-timeline.txt
check "audit chain intact" "$CONCIERGE" --config "$CONF" audit verify
e2e_done
