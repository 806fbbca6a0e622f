/*
 * Reduced rights for the replay decoder child (server/replay_decoder.c),
 * which parses pixels an endpoint controls.  Two steps, because a user
 * namespace can only be entered while single-threaded and the thread limit
 * must come after the child's one extra thread exists:
 *
 *  replay_sandbox_enter: (single-threaded, right after fork)
 *   - unshare(CLONE_NEWUSER | CLONE_NEWNET) when the kernel permits (an
 *     empty network namespace: no interface but a down loopback), else
 *     unshare(CLONE_NEWNET) alone (root), else nothing (the filter below
 *     still forbids sockets); *netns says which happened;
 *   - rlimits: no core files, no new descriptors (RLIMIT_NOFILE = fds_in_use:
 *     the caller keeps exactly descriptors 0..fds_in_use-1 open, so every
 *     allowed number is taken; 0 itself would make poll() fail), no file
 *     growth (RLIMIT_FSIZE 0), CPU REPLAY_CHILD_CPU_S, address space
 *     REPLAY_CHILD_MAX_AS (not under AddressSanitizer, whose shadow memory
 *     needs terabytes of address space);
 *   - PR_SET_NO_NEW_PRIVS and not dumpable.
 *  replay_sandbox_lock: (after the pump thread is created)
 *   - RLIMIT_NPROC 0: no more processes or threads;
 *   - a seccomp-bpf filter, synchronised to every thread: an allow-list of
 *     what libvncclient and the decoder loop use (I/O on descriptors already
 *     open, memory, futexes, signals, clocks, exit); socket, socketpair,
 *     connect, bind, listen, accept, open, openat, creat, execve, execveat,
 *     ptrace, fork/vfork and clone without CLONE_THREAD kill the process
 *     (SIGSYS); anything else fails with EPERM.  Other architectures than
 *     the one compiled for are killed.
 * Both return 0, or -1 with `err`; the caller (the child) exits on -1.
 */
#ifndef CONCIERGE_REPLAY_SANDBOX_H
#define CONCIERGE_REPLAY_SANDBOX_H

#include <stddef.h>

int replay_sandbox_enter(int fds_in_use, const char **netns, char *err, size_t errlen);
int replay_sandbox_lock(char *err, size_t errlen);

#endif
