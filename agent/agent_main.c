/*
 * concierge-agent: the end user's side.  This revision reads its config and
 * options, loads the pinned relay CA into a verifying TLS context, and runs
 * the event loop until SIGTERM or SIGINT.  Dialling the relay, consent,
 * screen and shell attach to this loop in the screen-sessions work.
 */
#include <event2/event.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "concierge_version.h"
#include "config.h"
#include "log.h"
#include "stop_signals.h"
#include "tls_context.h"

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: concierge-agent --relay HOST:PORT --code CODE [--ca FILE] [--config FILE]\n\n"
	        "Lets your IT desk help you: connects to the Concierge relay your desk runs,\n"
	        "asks you before anyone sees or controls your screen, and stops when you say so.\n"
	        "  --relay HOST:PORT  the relay your IT desk gave you (or 'relay' in the config)\n"
	        "  --code CODE        the one-time code your IT desk read to you\n"
	        "  --ca FILE          the relay CA to trust (default certs/ca.pem)\n"
	        "  --config FILE      configuration file (default ./concierge.conf if present)\n"
	        "  --version, --help\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' }, { "relay", required_argument, NULL, 'r' },
		{ "code", required_argument, NULL, 'C' },   { "ca", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },         { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct concierge_config cfg;
	const char *config_path = NULL, *relay_arg = NULL, *ca_arg = NULL, *code = NULL;
	struct event_base *base = NULL;
	struct stop_signals *signals = NULL;
	SSL_CTX *tls = NULL;
	char err[640], ca_file[CFG_MAX_PATH];
	int opt, rc = 1;

	log_set_program("concierge-agent");
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'c': config_path = optarg; break;
		case 'r': relay_arg = optarg; break;
		case 'C': code = optarg; break;
		case 'a': ca_arg = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("concierge-agent %s\n", CONCIERGE_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "concierge-agent: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (config_load(&cfg, config_path, err, sizeof err) < 0) {
		fprintf(stderr, "concierge-agent: %s\n", err);
		return 1;
	}
	if (relay_arg && host_port_parse(relay_arg, &cfg.relay, err, sizeof err) < 0) {
		fprintf(stderr, "concierge-agent: --relay %s\n", err);
		return 2;
	}
	if (cfg.relay.port == 0 || code == NULL) {
		fprintf(stderr, "concierge-agent: give the relay address and the code your IT desk read "
		        "to you: --relay HOST:PORT --code CODE\n");
		return 2;
	}
	if (ca_arg)
		snprintf(ca_file, sizeof ca_file, "%s", ca_arg);
	else
		config_agent_ca(&cfg, ca_file, sizeof ca_file);
	tls = tls_client_context_new(ca_file, err, sizeof err);
	if (tls == NULL) {
		fprintf(stderr, "concierge-agent: %s\n", err);
		goto out;
	}
	base = event_base_new();
	if (base == NULL || (signals = stop_signals_install(base)) == NULL) {
		log_error("event=event_loop_failed");
		goto out;
	}
	/* The code is a secret: it is never logged. */
	log_info("event=agent_started version=%s relay=%s:%u ca=\"%s\"", CONCIERGE_VERSION,
	         cfg.relay.host, cfg.relay.port, ca_file);
	if (event_base_dispatch(base) < 0) {
		log_error("event=event_loop_failed");
		goto out;
	}
	log_info("event=agent_stopped signal=%d", stop_signals_received(signals));
	rc = 0;
out:
	stop_signals_free(signals);
	if (base)
		event_base_free(base);
	SSL_CTX_free(tls);
	return rc;
}
