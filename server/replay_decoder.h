/*
 * The replay decoder child: libvncclient fed with recorded RFB bytes, in a
 * sandbox (replay_sandbox.h), driven by the parent over `ctl` with the
 * protocol of replay_proto.h.
 *
 * replay_decoder_main runs in a freshly forked child and never returns: it
 * keeps only `ctl` and stderr, creates the socketpair libvncclient reads
 * from, enters the sandbox, starts the pump thread (which copies each
 * command's RFB bytes from `ctl` into libvncclient's socket and throws away
 * what libvncclient writes back), locks the sandbox and only then reads
 * commands.  It exits 0 on QUIT or when the parent goes away, and exits 1
 * after answering ERROR when the stream, a restore or the sandbox fails.
 */
#ifndef CONCIERGE_REPLAY_DECODER_H
#define CONCIERGE_REPLAY_DECODER_H

void replay_decoder_main(int ctl) __attribute__((noreturn));

#endif
