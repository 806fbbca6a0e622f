# Concierge build.  `make` builds bin/; `make test` and `make demo` install
# missing Debian packages first (see `make deps`).
#
#   make                      build bin/concierge, bin/concierge-relay, bin/concierge-agent
#   make test                 unit (cmocka) + end-to-end tests, summary line at the end
#   make SANITIZE=address,undefined test   the same under ASan+UBSan (build/san/)
#   make demo                 end-to-end tour on embedded defaults in build/demo/
#   make deps                 apt-get install what is missing (idempotent)

CC       ?= cc
SANITIZE ?=

# Debian packages the build and the tests need; pkg-config modules they provide.
DEB_PACKAGES := gcc make pkg-config libssl-dev libssh-dev libvncserver-dev \
                libsqlite3-dev libevent-dev libcmocka-dev openssh-client sqlite3 \
                procps libx11-dev libxext-dev libxdamage-dev libxtst-dev libxfixes-dev \
                xvfb xdotool x11-xserver-utils clang iproute2 tmux \
                libpng-dev zlib1g-dev asciinema ffmpeg python3 testssl.sh ssh-audit
PKG_MODULES  := openssl libssh libvncserver libvncclient sqlite3 libevent \
                libevent_openssl libevent_pthreads cmocka x11 xext xdamage xtst xfixes \
                libpng zlib

ifeq ($(SANITIZE),)
  BUILD    := build/rel
  BIN      := bin
  OPTFLAGS := -O2 -D_FORTIFY_SOURCE=2
else
  BUILD    := build/san
  BIN      := build/san/bin
  OPTFLAGS := -O1 -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
  SANFLAGS := -fsanitize=$(SANITIZE)
endif

WARN     := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
HARDEN   := -fstack-protector-strong -fPIE
CPPFLAGS += -D_GNU_SOURCE -Iinclude -Icommon -Iserver
CFLAGS   += -std=c11 -g $(OPTFLAGS) $(WARN) $(HARDEN) -MMD -MP
LDFLAGS  += -pie -Wl,-z,relro,-z,now $(SANFLAGS)

pc_cflags = $(shell pkg-config --cflags $(1) 2>/dev/null)
pc_libs   = $(shell pkg-config --libs $(1) 2>/dev/null)

COMMON_SRC := $(wildcard common/*.c)
CLI_SRC        := $(wildcard server/cli_*.c)
# The replay engine (libvncclient in a sandboxed child, libpng) stays out of
# the relay: only the CLI and the tests link it.
REPLAY_SRC     := $(wildcard server/replay*.c) server/png_writer.c server/frame_sampler.c
SERVER_LIB_SRC := $(filter-out server/%_main.c $(CLI_SRC) $(REPLAY_SRC),$(wildcard server/*.c))
AGENT_LIB_SRC  := $(filter-out agent/%_main.c,$(wildcard agent/*.c))

COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
SERVER_LIB_OBJ := $(SERVER_LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
AGENT_LIB_OBJ := $(AGENT_LIB_SRC:%.c=$(BUILD)/%.o)
REPLAY_OBJ := $(REPLAY_SRC:%.c=$(BUILD)/%.o)

SERVER_LIBS := $(call pc_libs,openssl libssh sqlite3 libevent libevent_openssl libevent_pthreads) -lpthread
AGENT_LIBS  := $(call pc_libs,openssl libevent libevent_openssl libvncserver x11 xext xdamage xtst xfixes) -lutil -lpthread
TOOL_LIBS   := $(call pc_libs,libvncclient)
REPLAY_LIBS := $(call pc_libs,libvncclient libpng zlib)
CLI_LIBS    := $(call pc_libs,libvncserver) # recording play serves viewers
CPPFLAGS    += $(call pc_cflags,openssl libssh sqlite3 libevent libvncserver)

PROGRAMS := $(BIN)/concierge $(BIN)/concierge-relay $(BIN)/concierge-agent
# Load generators: the e2e smoke test and the load, fault and hostile-peer
# benchmarks drive the relay with them (`make bench-tools`).
LOAD_TOOLS := $(BUILD)/bench/bench_codes $(BUILD)/bench/load_agent $(BUILD)/bench/load_participant
# Test tools: real clients the end-to-end tests drive (never installed).
TOOLS    := $(BUILD)/tools/rfb_probe $(BUILD)/tools/screen_harness $(BUILD)/tools/shell_host_harness \
            $(BUILD)/tools/make_recording $(BUILD)/tools/gen_shell_recording $(BUILD)/tools/png_probe \
            $(BUILD)/tools/fbs_play $(BUILD)/tools/synth_frame $(BUILD)/bench/gen_recording \
             $(BUILD)/bench/hostile_peers $(BUILD)/tools/recording_bytes $(LOAD_TOOLS)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps deps-check test unit e2e demo scan clean
all: deps-check-quiet $(PROGRAMS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BIN)/concierge: $(CLI_OBJ) $(SERVER_LIB_OBJ) $(REPLAY_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(SERVER_LIBS) $(REPLAY_LIBS) $(CLI_LIBS) -o $@

$(BIN)/concierge-relay: $(BUILD)/server/relay_main.o $(SERVER_LIB_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(SERVER_LIBS) -o $@

$(BIN)/concierge-agent: $(BUILD)/agent/agent_main.o $(AGENT_LIB_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(AGENT_LIBS) -o $@

# Unit tests link the shared fixture helpers (tests/unit/support.c) and the
# server and common modules (never a main).
UNIT_SUPPORT_OBJ := $(BUILD)/tests/support.o

$(UNIT_SUPPORT_OBJ): tests/unit/support.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(call pc_cflags,cmocka) $(CFLAGS) -c $< -o $@

$(BUILD)/tests/%: tests/unit/%.c $(UNIT_SUPPORT_OBJ) $(SERVER_LIB_OBJ) $(REPLAY_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(call pc_cflags,cmocka) $(CFLAGS) $(LDFLAGS) $^ \
	    $(SERVER_LIBS) $(REPLAY_LIBS) $(call pc_libs,cmocka) -o $@

# The replay tests also link the synthetic recording generator (libvncserver).
SYNTH_OBJ := $(BUILD)/tests/bench/synth_recording.o
$(BUILD)/tests/test_png_writer: tests/unit/test_png_writer.c $(UNIT_SUPPORT_OBJ) $(SERVER_LIB_OBJ) \
                                $(REPLAY_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(call pc_cflags,cmocka libpng) $(CFLAGS) $(LDFLAGS) $^ \
	    $(SERVER_LIBS) $(REPLAY_LIBS) $(call pc_libs,cmocka) -o $@

$(BUILD)/tests/test_replay: tests/unit/test_replay.c $(UNIT_SUPPORT_OBJ) $(SYNTH_OBJ) $(SERVER_LIB_OBJ) \
                            $(REPLAY_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/bench $(call pc_cflags,cmocka) $(CFLAGS) $(LDFLAGS) $^ \
	    $(SERVER_LIBS) $(REPLAY_LIBS) $(call pc_libs,libvncserver cmocka) -o $@

# ---- benchmarks (figures, not pass/fail): make bench-replay ----
BENCH_STATS_OBJ := $(BUILD)/tests/bench/bench_stats.o
$(BUILD)/bench/%: $(BUILD)/tests/bench/%.o $(SYNTH_OBJ) $(BENCH_STATS_OBJ) $(SERVER_LIB_OBJ) $(REPLAY_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(SERVER_LIBS) $(REPLAY_LIBS) $(call pc_libs,libvncserver) -o $@

$(BUILD)/tests/bench/%.o: tests/bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/bench $(CFLAGS) -c $< -o $@

# hostile_peers attacks a relay port (tests/e2e/test_hostile_peers.sh drives it).
HOSTILE_OBJ := $(BUILD)/common/config.o $(BUILD)/common/ticket_id.o $(BUILD)/common/wire.o \
               $(BUILD)/common/secrets.o $(BUILD)/common/log.o $(BUILD)/common/xmalloc.o
$(BUILD)/bench/hostile_peers: $(BUILD)/tests/bench/hostile_peers.o $(HOSTILE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(call pc_libs,openssl libssh) -lpthread -o $@

# Load generators (tests/bench/README.md; LOAD_TOOLS is defined next to TOOLS).
$(BUILD)/tests/bench/load_agent.o: CPPFLAGS += -Iagent
LOAD_COMMON_OBJ := $(filter-out $(BUILD)/common/rfb_no_listeners.o $(BUILD)/common/demo_pattern.o,$(COMMON_OBJ))
$(BUILD)/bench/load_agent: $(BUILD)/tests/bench/load_agent.o $(BUILD)/agent/tls_dial.o $(LOAD_COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(call pc_libs,openssl libevent libevent_openssl) -o $@

$(BUILD)/bench/load_participant: $(BUILD)/tests/bench/load_participant.o $(LOAD_COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(call pc_libs,openssl libssh libevent) -lpthread -o $@


# make load [LOAD_SESSIONS=1000 LOAD_SECONDS=120 LOAD_RATE=8K LOAD_BURSTS=10
# LOAD_JOIN_RATE=15]: the load test (tests/e2e/test_load.sh, 200 sessions in
# `make test`) at full size: sessions joining at LOAD_JOIN_RATE a second, each
# streaming LOAD_RATE bytes/s in LOAD_BURSTS writes a second for LOAD_SECONDS;
# prints sessions, bytes, MB/s and the relay's RSS samples, and writes them to
# tests/bench/LOAD_RESULTS.md (tests/bench/run_load.sh).
LOAD_SESSIONS  ?= 1000
LOAD_SECONDS   ?= 120
LOAD_RATE      ?= 8K
LOAD_BURSTS    ?= 10
LOAD_JOIN_RATE ?= 15
load: deps-check
	@$(MAKE) --no-print-directory -s $(PROGRAMS) $(TOOLS)
	@BIN=$(BIN) TOOLS=$(BUILD)/tools LOAD_SESSIONS=$(LOAD_SESSIONS) LOAD_SECONDS=$(LOAD_SECONDS) \
	    LOAD_RATE=$(LOAD_RATE) LOAD_BURSTS=$(LOAD_BURSTS) LOAD_JOIN_RATE=$(LOAD_JOIN_RATE) \
	    bash tests/bench/run_load.sh
.PHONY: load

BENCH_SECONDS ?= 3600
bench-replay: deps-check $(BUILD)/bench/gen_recording $(BUILD)/bench/replay_seek
	$(BUILD)/bench/replay_seek --seconds $(BENCH_SECONDS) --cache build/bench
.PHONY: bench-replay

# Bench only, never installed nor the default: the relay without recorder legs
# (relay_record.c's one CONCIERGE_BENCH_UNRECORDED block), for
# tests/bench/bench_recording_cost.sh.  Recording has no runtime switch.
BENCH_UNRECORDED := build/bench/concierge-relay-unrecorded
$(BENCH_UNRECORDED): $(BUILD)/server/relay_main.o build/bench/unrecorded/relay_record.o \
                     $(filter-out $(BUILD)/server/relay_record.o,$(SERVER_LIB_OBJ)) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(SERVER_LIBS) -o $@
build/bench/unrecorded/relay_record.o: server/relay_record.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -DCONCIERGE_BENCH_UNRECORDED $(CFLAGS) -c $< -o $@
bench-relay-unrecorded: $(BENCH_UNRECORDED)
.PHONY: bench-relay-unrecorded

# The agent's role as a TLS server when the relay's path is built from
# standard parts (stunnel + sshd): tests/bench/bench_ssh_path.sh.
$(BUILD)/bench/tls_pattern_server: $(BUILD)/tests/bench/tls_pattern_server.o $(BUILD)/common/tls_context.o \
                                   $(BUILD)/common/errbuf.o $(BUILD)/common/xmalloc.o $(BUILD)/common/log.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(call pc_libs,openssl) -lpthread -o $@

# Agent benchmarks' tools (tests/bench/bench_*.sh use them): make bench-tools
BENCH_TOOLS := $(BUILD)/bench/agent_swarm $(BUILD)/bench/bench_codes $(BUILD)/bench/x11_churn \
               $(BUILD)/bench/gen_shell_hour $(BUILD)/bench/gen_recording $(BUILD)/bench/replay_seek \
               $(BUILD)/bench/tls_pattern_server $(BENCH_UNRECORDED)
SWARM_OBJ := $(BUILD)/agent/tls_dial.o $(BUILD)/common/tls_context.o $(BUILD)/common/wire.o \
             $(BUILD)/common/config.o $(BUILD)/common/ticket_id.o $(BUILD)/common/errbuf.o \
             $(BUILD)/common/xmalloc.o $(BUILD)/common/log.o
$(BUILD)/bench/agent_swarm: $(BUILD)/tests/bench/agent_swarm.o $(BENCH_STATS_OBJ) $(SWARM_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(call pc_libs,openssl libevent libevent_openssl) -o $@

$(BUILD)/bench/x11_churn: $(BUILD)/tests/bench/x11_churn.o $(BENCH_STATS_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(call pc_libs,x11) -o $@


$(BUILD)/tools/rfb_probe: $(BUILD)/tests/tools/rfb_probe.o $(BUILD)/common/demo_pattern.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(TOOL_LIBS) -o $@

SCREEN_OBJ := $(BUILD)/agent/screen.o $(BUILD)/agent/screen_demo.o $(BUILD)/agent/screen_x11.o \
              $(BUILD)/common/demo_pattern.o $(BUILD)/common/log.o $(BUILD)/common/xmalloc.o \
              $(BUILD)/common/rfb_no_listeners.o
$(BUILD)/tools/screen_harness: $(BUILD)/tests/tools/screen_harness.o $(SCREEN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(call pc_libs,libvncserver x11 xext xdamage xtst xfixes) -lpthread -o $@

SHELL_HOST_OBJ := $(BUILD)/agent/shell_host.o $(BUILD)/common/shell_frame.o $(BUILD)/common/splice.o \
                  $(BUILD)/common/log.o $(BUILD)/common/xmalloc.o
$(BUILD)/tools/shell_host_harness: $(BUILD)/tests/tools/shell_host_harness.o $(SHELL_HOST_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(call pc_libs,libevent) -lutil -o $@

$(BUILD)/tools/make_recording: $(BUILD)/tests/tools/make_recording.o $(SERVER_LIB_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(SERVER_LIBS) -o $@

$(BUILD)/tools/recording_bytes: $(BUILD)/tests/tools/recording_bytes.o $(SERVER_LIB_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(SERVER_LIBS) -o $@

$(BUILD)/tools/gen_shell_recording: $(BUILD)/tests/tools/gen_shell_recording.o $(SERVER_LIB_OBJ) $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(SERVER_LIBS) -o $@

$(BUILD)/tools/png_probe: $(BUILD)/tests/tools/png_probe.o $(BUILD)/common/demo_pattern.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(call pc_libs,libpng) -o $@

$(BUILD)/tools/synth_frame: $(BUILD)/tests/tools/synth_frame.o $(SYNTH_OBJ) $(SERVER_LIB_OBJ) $(REPLAY_OBJ) \
                            $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(SERVER_LIBS) $(REPLAY_LIBS) $(call pc_libs,libvncserver) -o $@

$(BUILD)/tests/tools/synth_frame.o: tests/tools/synth_frame.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests/bench $(CFLAGS) -c $< -o $@

$(BUILD)/tools/fbs_play: $(BUILD)/tests/tools/fbs_play.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(call pc_libs,libvncclient libpng) -lpthread -o $@

# ---- fuzzing (libFuzzer; clang is in DEB_PACKAGES) ----
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 180
FUZZ_FLAGS   := -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                -D_GNU_SOURCE -Iinclude -Icommon -Iserver $(call pc_cflags,openssl)
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN     := $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)

# One rule per target: its own file and the modules it links.
build/fuzz/fuzz_rfb_filter: tests/fuzz/fuzz_rfb_filter.c server/rfb_filter.c common/xmalloc.c \
                            common/log.c server/rfb_filter.h include/concierge_limits.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(filter %.c,$^) -o $@

build/fuzz/fuzz_shell_filter: tests/fuzz/fuzz_shell_filter.c server/shell_filter.c common/shell_frame.c \
                              common/xmalloc.c common/log.c server/shell_filter.h common/shell_frame.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(filter %.c,$^) -o $@

build/fuzz/fuzz_recording: tests/fuzz/fuzz_recording.c server/recording.c common/errbuf.c common/xmalloc.c \
                           common/log.c server/recording.h include/concierge_limits.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(filter %.c,$^) $(call pc_libs,openssl) -o $@

build/fuzz/fuzz_rfb_framer: tests/fuzz/fuzz_rfb_framer.c server/rfb_framer.c common/xmalloc.c \
                            common/log.c server/rfb_framer.h include/concierge_limits.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(filter %.c,$^) -o $@

build/fuzz/fuzz_replay_keyframes: tests/fuzz/fuzz_replay_keyframes.c server/replay_keyframes.c server/replay_proto.c \
                                  common/atomic_file.c common/errbuf.c common/xmalloc.c common/log.c \
                                  server/replay_keyframes.h include/concierge_limits.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(filter %.c,$^) $(call pc_libs,openssl zlib) -o $@

build/fuzz/fuzz_replay_proto: tests/fuzz/fuzz_replay_proto.c server/replay_proto.c common/errbuf.c \
                              server/replay_proto.h include/concierge_limits.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(filter %.c,$^) $(call pc_libs,openssl) -o $@

build/fuzz/fuzz_timeline: tests/fuzz/fuzz_timeline.c server/timeline.c server/recording.c server/json_out.c \
                         common/wire.c common/errbuf.c common/xmalloc.c common/log.c server/timeline.h \
                         server/recording.h include/concierge_limits.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(filter %.c,$^) $(call pc_libs,openssl) -o $@

build/fuzz/fuzz_asciicast: tests/fuzz/fuzz_asciicast.c server/asciicast.c server/json_out.c common/xmalloc.c \
                           common/log.c server/asciicast.h include/concierge_limits.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(filter %.c,$^) -o $@

build/fuzz/fuzz_wire: tests/fuzz/fuzz_wire.c common/wire.c common/wire.h include/concierge_limits.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(filter %.c,$^) -o $@

build/fuzz/fuzz_config: tests/fuzz/fuzz_config.c common/config.c common/ticket_id.c common/xmalloc.c \
                        common/log.c common/config.h include/concierge_limits.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(filter %.c,$^) -o $@

build/fuzz/fuzz_session_code: tests/fuzz/fuzz_session_code.c server/session_code.c server/session_code.h \
                              include/concierge_limits.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(filter %.c,$^) -o $@

build/fuzz/fuzz_ticket_id: tests/fuzz/fuzz_ticket_id.c common/ticket_id.c common/xmalloc.c common/log.c \
                           common/ticket_id.h common/config.h include/concierge_limits.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(filter %.c,$^) -o $@

build/fuzz/fuzz_ssh_command_line: tests/fuzz/fuzz_ssh_command_line.c server/ssh_command_line.c \
                                  server/ssh_command_line.h include/concierge_limits.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(filter %.c,$^) -o $@

build/fuzz/fuzz_ssh_pubkey: tests/fuzz/fuzz_ssh_pubkey.c server/ssh_pubkey.c common/xmalloc.c common/log.c \
                            server/ssh_pubkey.h include/concierge_limits.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(filter %.c,$^) $(call pc_libs,libssh openssl) -o $@

build/fuzz/fuzz_time_spec: tests/fuzz/fuzz_time_spec.c server/time_spec.c server/time_spec.h \
                           include/concierge_limits.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(filter %.c,$^) -o $@

# make fuzz [FUZZ_SECONDS=n]: fuzz every target n seconds; the corpus grows in
# build/fuzz/corpus/<target>/ (seeds in tests/fuzz/corpus/<target>/ stay as they are).
fuzz: deps-check $(FUZZ_BIN)
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p build/fuzz/corpus/$$t; \
	    dict=""; [ -f tests/fuzz/$$t.dict ] && dict="-dict=tests/fuzz/$$t.dict"; \
	    echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
	    if ! build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $$dict \
	        -artifact_prefix=build/fuzz/$$t- build/fuzz/corpus/$$t tests/fuzz/corpus/$$t \
	        >build/fuzz/$$t.log 2>&1; then \
	        tail -30 build/fuzz/$$t.log; \
	        echo "fuzz: $$t FAILED; log build/fuzz/$$t.log, reproducer build/fuzz/$$t-*"; exit 1; \
	    fi; \
	    echo "fuzz: $$t ok, $$(sed -n 's/^stat::number_of_executed_units: *//p' build/fuzz/$$t.log) runs"; \
	done
.PHONY: fuzz

# deps: install only what is missing, say what was done.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all $(words $(DEB_PACKAGES)) packages already installed"; exit 0; fi; \
	echo "deps: installing:$$missing"; \
	SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO="sudo"; \
	$$SUDO apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing && \
	echo "deps: installed:$$missing"

# Runs `make deps` only when a pkg-config module is missing.
deps-check:
	@{ pkg-config --exists $(PKG_MODULES) && command -v clang && command -v Xvfb && command -v tmux && \
	   command -v asciinema && command -v ffmpeg && command -v testssl && command -v ssh-audit; } >/dev/null 2>&1 || \
	    $(MAKE) --no-print-directory deps

deps-check-quiet:
	@pkg-config --exists $(PKG_MODULES) 2>/dev/null || { \
	    echo "missing libraries: run 'make deps' (or 'make test' / 'make demo', which run it)" >&2; exit 1; }

test: deps-check
	@$(MAKE) --no-print-directory $(PROGRAMS) $(UNIT_BIN) $(TOOLS) $(FUZZ_BIN)
	@BIN=$(BIN) TOOLS=$(BUILD)/tools UNIT_DIR=$(BUILD)/tests FUZZ_DIR=build/fuzz bash tests/run.sh

# ---- make bench: every tests/bench/bench_*.sh -> tests/bench/RESULTS.md ----
# The peers the benchmarks compare against (not needed to build or test).
BENCH_PACKAGES := haproxy stunnel4 x11vnc openssh-server openssl
bench-deps:
	@$(MAKE) --no-print-directory deps DEB_PACKAGES="$(BENCH_PACKAGES)"
bench-tools: $(PROGRAMS) $(TOOLS) $(BENCH_TOOLS)
bench: deps-check bench-deps
	@$(MAKE) --no-print-directory bench-tools
	@bash tests/bench/run_benchmarks.sh
.PHONY: bench bench-deps bench-tools

# make scan: testssl.sh's whole battery on the TLS port and ssh-audit on the
# SSH port of a fresh relay (make test runs the weak-algorithm subset).
scan: deps-check
	@$(MAKE) --no-print-directory $(PROGRAMS)
	@BIN=$(BIN) SCAN_FULL=1 bash tests/e2e/test_security_scans.sh

demo: deps-check
	@$(MAKE) --no-print-directory $(PROGRAMS) $(TOOLS)
	@BIN=$(BIN) TOOLS=$(BUILD)/tools bash scripts/demo.sh

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
