/*
 * concierge-relay: the daemon.  Loads and checks its configuration and state
 * (database, TLS certificate and key, SSH host key), starts the core (agent
 * TLS listener, sessions, splicing) and the SSH front door, and runs until
 * SIGTERM or SIGINT, which end every session with a notice and exit 0.
 * Start and stop are audited.
 */
#include <event2/event.h>
#include <event2/thread.h>
#include <getopt.h>
#include <libssh/libssh.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "concierge_version.h"
#include "config.h"
#include "log.h"
#include "relay_core.h"
#include "ssh_front.h"
#include "stop_signals.h"
#include "store.h"
#include "tls_context.h"

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: concierge-relay [--config FILE] [--check]\n\n"
	        "Runs the Concierge relay until SIGTERM/SIGINT (exit 0 on a clean stop).\n"
	        "  --config FILE  configuration (default ./concierge.conf if present, else built-in\n"
	        "                 defaults: ./concierge.db, ./certs, ./recordings)\n"
	        "  --check        load and verify config and state, then exit (0 ok, 1 not ready)\n"
	        "  --version, --help\n"
	        "Logs go to stderr, one key=value event per line.\n");
}

/* Loads the SSH host key to prove it is present and readable. */
static int check_ssh_host_key(const char *certs_dir, char *err, size_t errlen)
{
	char path[CFG_MAX_PATH + 32];
	ssh_key key = NULL;

	snprintf(path, sizeof path, "%s/ssh_host_ed25519_key", certs_dir);
	if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) != SSH_OK) {
		snprintf(err, errlen, "cannot load the SSH host key %s: run 'concierge init'", path);
		return -1;
	}
	ssh_key_free(key);
	return 0;
}

static int audit_relay(struct store *store, const char *action, const char *details)
{
	char err[512];
	struct audit_event ev = { "relay", action, "relay", NULL, details };

	if (audit_append(store, &ev, err, sizeof err) < 0) {
		log_error("event=audit_failed action=%s error=\"%s\"", action, err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' }, { "check", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },         { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct concierge_config cfg;
	const char *config_path = NULL;
	struct store *store = NULL;
	struct event_base *base = NULL;
	struct stop_signals *signals = NULL;
	struct relay_core *core = NULL;
	struct ssh_front *front = NULL;
	SSL_CTX *tls = NULL;
	char err[640], details[CFG_MAX_PATH + 128];
	int opt, check_only = 0, rc = 1;

	log_set_program("concierge-relay");
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'k': check_only = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("concierge-relay %s\n", CONCIERGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "concierge-relay: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (config_load(&cfg, config_path, err, sizeof err) < 0) {
		log_error("event=config_error error=\"%s\"", err);
		return 1;
	}
	if (store_open(cfg.database, STORE_OPEN_EXISTING, &store, err, sizeof err) < 0 ||
	    (tls = tls_server_context_new(cfg.certs_dir, err, sizeof err)) == NULL ||
	    check_ssh_host_key(cfg.certs_dir, err, sizeof err) < 0) {
		log_error("event=not_ready error=\"%s\"", err);
		goto out;
	}
	if (check_only) {
		printf("relay ready: config %s, database %s, certificates in %s\n", cfg.source,
		       cfg.database, cfg.certs_dir);
		rc = 0;
		goto out;
	}
	/* SSH threads post to the core's event base. */
	if (evthread_use_pthreads() < 0 || (base = event_base_new()) == NULL ||
	    (signals = stop_signals_install(base)) == NULL) {
		log_error("event=event_loop_failed");
		goto out;
	}
	core = relay_core_new(base, &cfg, store, tls, err, sizeof err);
	if (core == NULL || (front = ssh_front_start(&cfg, core, err, sizeof err)) == NULL) {
		log_error("event=not_ready error=\"%s\"", err);
		goto out;
	}
	snprintf(details, sizeof details, "version=%s pid=%ld config=\"%s\"", CONCIERGE_VERSION,
	         (long)getpid(), cfg.source);
	if (audit_relay(store, "relay.start", details) < 0)
		goto out;
	log_info("event=relay_started version=%s config=\"%s\" agent_listen=%s:%u ssh_listen=%s:%u",
	         CONCIERGE_VERSION, cfg.source, cfg.agent_listen.host, cfg.agent_listen.port,
	         cfg.ssh_listen.host, cfg.ssh_listen.port);
	if (event_base_dispatch(base) < 0) {
		log_error("event=event_loop_failed");
		goto out;
	}
	snprintf(details, sizeof details, "signal=%s",
	         stop_signals_received(signals) == SIGINT ? "INT" : "TERM");
	log_info("event=relay_stopping %s", details);
	relay_core_shutdown(core, "the relay is shutting down");
	ssh_front_stop(front);
	front = NULL;
	if (audit_relay(store, "relay.stop", details) < 0)
		goto out;
	log_info("event=relay_stopped %s", details);
	rc = 0;
out:
	ssh_front_stop(front);
	relay_core_free(core);
	stop_signals_free(signals);
	if (base)
		event_base_free(base);
	SSL_CTX_free(tls);
	store_close(store);
	return rc;
}
