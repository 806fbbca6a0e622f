/*
 * Clean shutdown for the daemons: SIGTERM and SIGINT break the libevent loop
 * (so main can end sessions, audit and exit 0); SIGPIPE is ignored because
 * every write's error is handled where it happens.
 *
 * stop_signals_install returns a handle the caller frees with
 * stop_signals_free after the loop ends, or NULL on failure.
 * stop_signals_received tells which signal stopped the loop (0 if none).
 */
#ifndef CONCIERGE_STOP_SIGNALS_H
#define CONCIERGE_STOP_SIGNALS_H

struct event_base;
struct stop_signals;

struct stop_signals *stop_signals_install(struct event_base *base);
int stop_signals_received(const struct stop_signals *signals);
void stop_signals_free(struct stop_signals *signals);

#endif
