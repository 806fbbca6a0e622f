/*
 * concierge-agent: the end user's side.  Shares the screen (X11 or the demo
 * pattern) with the desk agents the person at the machine allows, through
 * the relay the IT desk runs, and stops the moment they say so.
 */
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assist.h"
#include "concierge_version.h"
#include "config.h"
#include "log.h"
#include "screen.h"
#include "stop_signals.h"
#include "tls_context.h"

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: concierge-agent --relay HOST:PORT --code CODE [options]\n\n"
	        "Lets your IT desk help you: connects to the Concierge relay your desk runs,\n"
	        "asks you before anyone sees or controls your screen, and stops when you say so\n"
	        "(type q and Enter, or press Ctrl-C).\n"
	        "  --relay HOST:PORT   the relay your IT desk gave you (or 'relay' in the config)\n"
	        "  --code CODE         the one-time code your IT desk read to you (123-456-789)\n"
	        "  --ca FILE           the relay CA to trust (default certs/ca.pem)\n"
	        "  --screen x11|demo   what to share: the X display (default when DISPLAY is set)\n"
	        "                      or a generated test pattern\n"
	        "  --display NAME      X display for --screen x11 (default $DISPLAY)\n"
	        "  --demo-size WxH     size of the demo pattern (default 640x480)\n"
	        "  --auto-accept       demo only: allow every request without asking (audited)\n"
	        "  --shell PROGRAM     program for shell requests (default: your login shell)\n"
	        "  --no-shell          refuse every shell request\n"
	        "  --consent-timeout S seconds to answer a request before it counts as no\n"
	        "                      (5-60, default 60)\n"
	        "  --config FILE       configuration file (default ./concierge.conf if present)\n"
	        "  --version, --help\n"
	        "Exit codes: 0 session ended, 1 refused or unreachable, 2 usage, 3 relay not trusted.\n");
}

struct agent_args {
	const char *config_path, *relay, *ca, *code, *screen, *display, *demo_size, *shell;
	int auto_accept, consent_timeout, no_shell;
};

static int parse_args(int argc, char **argv, struct agent_args *a)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },   { "relay", required_argument, NULL, 'r' },
		{ "code", required_argument, NULL, 'C' },     { "ca", required_argument, NULL, 'a' },
		{ "screen", required_argument, NULL, 's' },   { "display", required_argument, NULL, 'd' },
		{ "demo-size", required_argument, NULL, 'z' }, { "auto-accept", no_argument, NULL, 'A' },
		{ "consent-timeout", required_argument, NULL, 't' },
		{ "shell", required_argument, NULL, 'x' },     { "no-shell", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },           { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	memset(a, 0, sizeof *a);
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'c': a->config_path = optarg; break;
		case 'r': a->relay = optarg; break;
		case 'C': a->code = optarg; break;
		case 'a': a->ca = optarg; break;
		case 's': a->screen = optarg; break;
		case 'd': a->display = optarg; break;
		case 'z': a->demo_size = optarg; break;
		case 'A': a->auto_accept = 1; break;
		case 'x': a->shell = optarg; break;
		case 'N': a->no_shell = 1; break;
		case 't':
			a->consent_timeout = atoi(optarg);
			if (a->consent_timeout < 5 || a->consent_timeout > CONSENT_TIMEOUT_S) {
				fprintf(stderr, "concierge-agent: --consent-timeout takes 5 to %d seconds\n",
				        CONSENT_TIMEOUT_S);
				return 2;
			}
			break;
		case 'h': usage(stdout); return -1;
		case 'V': printf("concierge-agent %s\n", CONCIERGE_VERSION); return -1;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "concierge-agent: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	return 0;
}

/* Fills screen options from the arguments; 0, or 2 (usage) with a message. */
static int screen_options(const struct agent_args *a, struct screen_options *so)
{
	memset(so, 0, sizeof *so);
	so->width = 640;
	so->height = 480;
	if (a->screen == NULL && getenv("DISPLAY") == NULL && a->display == NULL) {
		fprintf(stderr, "concierge-agent: no X display here (DISPLAY is not set): pass --display, "
		        "or --screen demo to share a test pattern\n");
		return 2;
	}
	if (a->screen == NULL || strcmp(a->screen, "x11") == 0) {
		so->kind = SCREEN_X11;
		so->display = a->display;
	} else if (strcmp(a->screen, "demo") == 0) {
		so->kind = SCREEN_DEMO;
	} else {
		fprintf(stderr, "concierge-agent: --screen takes x11 or demo, not '%s'\n", a->screen);
		return 2;
	}
	if (a->demo_size && (sscanf(a->demo_size, "%dx%d", &so->width, &so->height) != 2 ||
	                     so->width < 64 || so->height < 16 || so->width > 4096 || so->height > 4096)) {
		fprintf(stderr, "concierge-agent: --demo-size takes WxH between 64x16 and 4096x4096\n");
		return 2;
	}
	if (a->auto_accept && so->kind != SCREEN_DEMO) {
		fprintf(stderr, "concierge-agent: --auto-accept is only allowed with --screen demo: a real "
		        "screen is never shared without asking\n");
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct agent_args args;
	struct concierge_config cfg;
	struct screen_options so;
	struct event_base *base = NULL;
	struct stop_signals *signals = NULL;
	struct screen *screen = NULL;
	struct assist *assist = NULL;
	SSL_CTX *tls = NULL;
	char err[640], ca_file[CFG_MAX_PATH];
	int rc;

	log_set_program("concierge-agent");
	rc = parse_args(argc, argv, &args);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	if (config_load(&cfg, args.config_path, err, sizeof err) < 0) {
		fprintf(stderr, "concierge-agent: %s\n", err);
		return 1;
	}
	if (args.relay && host_port_parse(args.relay, &cfg.relay, err, sizeof err) < 0) {
		fprintf(stderr, "concierge-agent: --relay %s\n", err);
		return 2;
	}
	if (cfg.relay.port == 0 || args.code == NULL) {
		fprintf(stderr, "concierge-agent: give the relay address and the code your IT desk read "
		        "to you: --relay HOST:PORT --code CODE\n");
		return 2;
	}
	if ((rc = screen_options(&args, &so)) != 0)
		return rc;
	if (args.shell && args.no_shell) {
		fprintf(stderr, "concierge-agent: --shell and --no-shell contradict each other\n");
		return 2;
	}
	if (args.ca)
		snprintf(ca_file, sizeof ca_file, "%s", args.ca);
	else
		config_agent_ca(&cfg, ca_file, sizeof ca_file);
	rc = 1;
	tls = tls_client_context_new(ca_file, err, sizeof err);
	if (tls == NULL) {
		fprintf(stderr, "concierge-agent: %s\n", err);
		goto out;
	}
	screen = screen_start(&so, err, sizeof err);
	if (screen == NULL) {
		fprintf(stderr, "concierge-agent: %s\n", err);
		goto out;
	}
	base = event_base_new();
	if (base == NULL || (signals = stop_signals_install(base)) == NULL) {
		log_error("event=event_loop_failed");
		goto out;
	}
	/* The code is a secret: it is never logged. */
	log_info("event=agent_started version=%s relay=%s:%u ca=\"%s\" screen=%s", CONCIERGE_VERSION,
	         cfg.relay.host, cfg.relay.port, ca_file, so.kind == SCREEN_DEMO ? "demo" : "x11");
	struct assist_options ao = {
		.relay = cfg.relay, .code = args.code, .tls = tls, .screen = screen,
		.screen_kind = so.kind == SCREEN_DEMO ? "demo" : "x11", .auto_accept = args.auto_accept,
		.out = stdout, .in_fd = 0, .consent_timeout_s = args.consent_timeout,
		.no_shell = args.no_shell, .shell_program = args.shell,
	};
	assist = assist_start(base, &ao);
	event_base_dispatch(base);
	if (stop_signals_received(signals)) {
		/* Ctrl-C or SIGTERM: say goodbye to the relay, then flush. */
		assist_end(assist, "ended by the end user (signal)");
		event_base_dispatch(base);
	}
	rc = assist_exit_code(assist);
	log_info("event=agent_stopped exit=%d", rc);
out:
	assist_free(assist);
	if (screen)
		screen_stop(screen);
	stop_signals_free(signals);
	if (base)
		event_base_free(base);
	SSL_CTX_free(tls);
	return rc;
}
