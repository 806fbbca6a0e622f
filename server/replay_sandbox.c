#include "replay_sandbox.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "concierge_limits.h"
#include "errbuf.h"

#if defined(__x86_64__)
#define SANDBOX_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SANDBOX_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "replay_sandbox: no seccomp filter for this architecture"
#endif

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_UNDER_ASAN 1
#endif
#endif
#ifndef SANDBOX_UNDER_ASAN
#define SANDBOX_UNDER_ASAN 0
#endif

static int limit(int resource, rlim_t value, const char *name, char *err, size_t errlen)
{
	struct rlimit rl = { value, value };

	if (setrlimit(resource, &rl) < 0) {
		errbuf_set(err, errlen, "setrlimit(%s): %s", name, strerror(errno));
		return -1;
	}
	return 0;
}

int replay_sandbox_enter(int fds_in_use, const char **netns, char *err, size_t errlen)
{
	*netns = "none";
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0)
		*netns = "user+net";
	else if (unshare(CLONE_NEWNET) == 0)
		*netns = "net";

	if (limit(RLIMIT_CORE, 0, "CORE", err, errlen) < 0 ||
	    limit(RLIMIT_NOFILE, (rlim_t)fds_in_use, "NOFILE", err, errlen) < 0 ||
	    limit(RLIMIT_FSIZE, 0, "FSIZE", err, errlen) < 0 ||
	    limit(RLIMIT_CPU, REPLAY_CHILD_CPU_S, "CPU", err, errlen) < 0)
		return -1;
	if (!SANDBOX_UNDER_ASAN && limit(RLIMIT_AS, REPLAY_CHILD_MAX_AS, "AS", err, errlen) < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		errbuf_set(err, errlen, "prctl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* BPF building blocks: load the syscall number, then per syscall a jump to
 * the shared ALLOW / KILL returns at the end of the program. */
#define LOAD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define RET(action) BPF_STMT(BPF_RET | BPF_K, (action))

static const int allowed_calls[] = {
	SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_pread64,
	SYS_recvfrom, SYS_recvmsg, SYS_sendto, SYS_sendmsg, SYS_shutdown,
	SYS_ppoll, SYS_pselect6,
#ifdef SYS_poll
	SYS_poll, SYS_select,
#endif
	SYS_close, SYS_fstat, SYS_newfstatat, SYS_lseek, SYS_fcntl,
	SYS_mmap, SYS_munmap, SYS_mremap, SYS_mprotect, SYS_brk, SYS_madvise,
	SYS_futex, SYS_set_robust_list, SYS_get_robust_list, SYS_rseq, SYS_set_tid_address,
	SYS_rt_sigprocmask, SYS_rt_sigaction, SYS_rt_sigreturn, SYS_sigaltstack,
	SYS_exit, SYS_exit_group, SYS_getpid, SYS_gettid, SYS_tgkill,
	SYS_clock_gettime, SYS_clock_nanosleep, SYS_nanosleep, SYS_gettimeofday,
	SYS_sched_yield, SYS_sched_getaffinity, SYS_getrandom, SYS_prlimit64, SYS_getrusage,
};

static const int killed_calls[] = {
	SYS_socket, SYS_socketpair, SYS_connect, SYS_bind, SYS_listen, SYS_accept, SYS_accept4,
	SYS_openat, SYS_execve, SYS_execveat, SYS_ptrace,
#ifdef SYS_open
	SYS_open, SYS_creat, SYS_fork, SYS_vfork,
#endif
#ifdef SYS_openat2
	SYS_openat2,
#endif
};

#define N_ALLOWED (sizeof allowed_calls / sizeof allowed_calls[0])
#define N_KILLED (sizeof killed_calls / sizeof killed_calls[0])
/* arch check (3) + x32 check (1, x86-64 only) + lists + clone (3) + clone3 (1)
 * + ioctl FIONREAD (3) + default/allow/kill/enosys returns */
#define PROG_MAX (N_ALLOWED + N_KILLED + 24)

int replay_sandbox_lock(char *err, size_t errlen)
{
	struct sock_filter f[PROG_MAX];
	struct sock_fprog prog;
	size_t n = 0, allow_at, kill_at, jumps_start;
	size_t fix[PROG_MAX];
	int fix_kind[PROG_MAX]; /* 1 allow, 2 kill */
	size_t nfix = 0;

	if (limit(RLIMIT_NPROC, 0, "NPROC", err, errlen) < 0)
		return -1;

	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_AUDIT_ARCH, 1, 0);
	f[n++] = (struct sock_filter)RET(SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)LOAD_NR;
#if defined(__x86_64__)
	/* x32 system calls (bit 30) are another numbering: refuse them all. */
	fix[nfix] = n, fix_kind[nfix++] = 2;
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 0);
#endif
	jumps_start = n;
	(void)jumps_start;
	for (size_t i = 0; i < N_KILLED; i++) {
		fix[nfix] = n, fix_kind[nfix++] = 2;
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)killed_calls[i], 0, 0);
	}
	for (size_t i = 0; i < N_ALLOWED; i++) {
		fix[nfix] = n, fix_kind[nfix++] = 1;
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)allowed_calls[i], 0, 0);
	}
	/* clone3: its flags are in memory the filter cannot see; ENOSYS makes
	 * glibc fall back to clone, whose flags are checked below. */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1);
	f[n++] = (struct sock_filter)RET(SECCOMP_RET_ERRNO | ENOSYS);
	/* clone: threads only (CLONE_THREAD set), never a new process. */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 3);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 0, 5);
	f[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);
	/* ioctl: FIONREAD only (the decoder checks a socket is drained). */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0, 2);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1]));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FIONREAD, 2, 0);
	f[n++] = (struct sock_filter)RET(SECCOMP_RET_ERRNO | EPERM);
	kill_at = n;
	f[n++] = (struct sock_filter)RET(SECCOMP_RET_KILL_PROCESS);
	allow_at = n;
	f[n++] = (struct sock_filter)RET(SECCOMP_RET_ALLOW);

	for (size_t i = 0; i < nfix; i++) {
		size_t target = fix_kind[i] == 1 ? allow_at : kill_at;

		f[fix[i]].jt = (uint8_t)(target - fix[i] - 1);
	}
	prog.len = (unsigned short)n;
	prog.filter = f;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0) {
		errbuf_set(err, errlen, "seccomp: %s", strerror(errno));
		return -1;
	}
	return 0;
}
