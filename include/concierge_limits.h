/*
 * Every bound on data that a peer, a file or a user supplies lives here, so a
 * reviewer can see all maxima at once.  Values are bytes unless named
 * otherwise.  Tighter pre-authentication limits come with the relay core.
 */
#ifndef CONCIERGE_LIMITS_H
#define CONCIERGE_LIMITS_H

/* Configuration file */
#define CFG_MAX_FILE_BYTES     (64 * 1024) /* a config larger than this is refused */
#define CFG_MAX_LINE           1024        /* one line, not counting its newline */
#define CFG_MAX_VALUE          512         /* one value after trimming */
#define CFG_MAX_PATH           512         /* any path after resolution */
#define CFG_MAX_HOSTNAME       253         /* DNS name limit */
#define CFG_MAX_CODE_TTL_S     86400       /* a session code lives at most a day */
#define CFG_MAX_PREAUTH_FAILURES 1000000   /* preauth_failures_per_source at most */

/* Identifiers */
#define TICKET_ID_MAX          64          /* longest ticket id accepted */
#define USER_NAME_MAX          32          /* like POSIX login names */
#define TICKET_TITLE_MAX       256
#define REQUESTER_MAX          128

/* SSH public keys read from files given to `concierge user key add` */
#define PUBKEY_FILE_MAX        (16 * 1024)

/* Audit log */
#define AUDIT_FIELD_MAX        4096        /* actor, action, object, details */

/* Agent <-> relay line protocol (common/wire.c) */
#define WIRE_MAX_LINE          1024        /* one message line, newline excluded */
#define WIRE_MAX_LINE_PREAUTH  256         /* before a code or stream token is checked */
#define WIRE_MAX_FIELDS        12
#define WIRE_MAX_KEY           16
#define WIRE_MAX_VALUE         256         /* after percent-decoding */
#define WIRE_MAX_VERB          16

/* Sessions, codes and tokens */
#define SESSION_ID_LEN         9           /* "s" + 8 lowercase hex */
#define SESSION_CODE_DIGITS    9           /* 3 public locator + 6 secret digits */
#define SESSION_CODE_MAX_FAILURES 5        /* wrong tries against one code burn it */
#define STREAM_TOKEN_HEX       32          /* 128-bit single-use stream token */
#define RESUME_TOKEN_HEX       64          /* 256-bit token to resume after a relay restart */
#define WRONG_CODES_PER_SOURCE 10          /* per source address ... */
#define WRONG_CODES_WINDOW_S   60          /* ... per this many seconds */
#define RATE_LIMIT_SOURCES     4096        /* addresses tracked at once */
#define MAX_PARTICIPANTS       16          /* per session */
/* Recording stream numbers: participants 1..999, screen recorder legs
 * 1000 + k, shell recorder legs 2000 + k (k = 1..999). */
#define RECORD_MAX_PARTICIPANT_ID 999
#define RECORD_SCREEN_LEG_BASE    1000
#define RECORD_SHELL_LEG_BASE     2000
#define RECORD_MAX_LEGS           999      /* per session and kind */
/* When the last participant of a kind leaves, its recorder leg still holds
 * what they saw last (the leg's copy lags the participant's): it is read
 * until the agent pauses this long, or at most RECORD_LEG_DRAIN_MAX_MS. */
#define RECORD_LEG_DRAIN_IDLE_MS  300
#define RECORD_LEG_DRAIN_MAX_MS   3000
/* Why the core cut a screen forward, shown as the SSH disconnect message. */
#define FORWARD_NOTICE_MAX        400
/* After an SSH disconnect, how long the relay still reads the client's
 * bytes so its message is not lost to a reset. */
#define DISCONNECT_LINGER_MS      500

/* Unauthenticated connections, per listening port (server/peer_guard.c).
 * A connection is pre-auth from accept until its code, stream token or SSH
 * key is accepted.  The caps keep hostile peers (slowloris, floods) from
 * taking every descriptor or SSH thread; the per-source cap keeps one
 * address from taking them all; addresses that keep failing are refused
 * at accept, before any TLS or SSH work, until their window ends. */
#define PREAUTH_MAX_CONNECTIONS     256    /* pending at once, all sources */
#define PREAUTH_MAX_PER_SOURCE      32     /* pending at once from one address */
#define PREAUTH_FAILURES_PER_SOURCE 32     /* failures (garbage, timeouts, wrong codes or keys) ... */
#define PREAUTH_FAILURES_WINDOW_S   60     /* ... per this many seconds: the address is refused */
#define PREAUTH_SOURCES_TRACKED     4096   /* addresses remembered at once, per port */

/* Log lines about rejected peers (server/reject_log.c): per event, source
 * and reason, this many lines a window, the rest counted and reported as
 * one `..._suppressed count=N` line, so a flood cannot flood the log. */
#define REJECT_LOG_PER_WINDOW  3
#define REJECT_LOG_WINDOW_S    10
#define REJECT_LOG_KEYS        1024        /* keys remembered at once */
#define REJECT_LOG_DETAIL_MAX  160         /* peer-chosen text (cleaned) in one line */

/* SSH commands (server/ssh_commands.c) */
#define SSH_COMMAND_MAX        512         /* one command line */
#define SSH_COMMAND_MAX_ARGS   8

/* Timeouts (seconds) */
#define PREAUTH_TIMEOUT_S      10          /* TLS handshake + first line */
#define CONSENT_TIMEOUT_S      60          /* no answer means no */
#define SSH_AUTH_TIMEOUT_S     30
#define CONTROL_IDLE_TIMEOUT_S 90          /* control link with no traffic (pings every 30) */
#define CONTROL_PING_INTERVAL_S 30
#define RESUME_GRACE_S         300         /* a relay restart keeps active sessions this long */
#define FORWARD_STALL_TIMEOUT_S 120        /* an SSH thread waits this long for the core to take bytes */

/* Splicing */
#define SPLICE_HIGH_WATER      (256 * 1024) /* stop reading a source while its peer holds this much */
/* One SSH channel packet's data: OpenSSH's clients take packets of 32768
 * bytes and libssh puts at most 10 fewer data bytes in each. */
#define SSH_PACKET_DATA        (32768 - 10)
/* What the SSH thread takes from the core per channel write: one whole
 * packet.  32 KiB made a 32758-byte packet plus a 10-byte runt (its own
 * send() and poll) per full read; more than one packet per read measured
 * no gain (the core hands over one 16 KiB TLS record per loop turn) and
 * costs libssh buffer memory per participant (bench_throughput.sh). */
#define SSH_CHANNEL_CHUNK      SSH_PACKET_DATA

/* Shell streams (common/shell_frame.c) */
#define SHELL_FRAME_MAX        (16 * 1024)  /* payload of one frame */
#define SHELL_TAIL_MAX         (64 * 1024)  /* recent output replayed to a late joiner */
#define SHELL_EARLY_INPUT_MAX  (64 * 1024)  /* stdin kept until a shell request is dispatched */

/* Recording container (server/recording.c) */
#define RECORDING_MAX_RECORD     (1024 * 1024) /* one record's payload */
#define RECORDING_MAX_PARTICIPANT USER_NAME_MAX
#define RECORDING_MAX_SESSION_ID 64
#define RECORDING_MAX_HEADER     1024
#define RECORDING_MAX_SIGNATURE  512

/* Background fsync of recording checkpoints (server/fsync_pool.c) */
#define FSYNC_POOL_THREADS       4           /* fsyncs in flight at once (the disk batches them) */
#define FSYNC_POOL_MAX_QUEUED    4096        /* beyond this the event thread syncs itself */

/* Recordings in the database (server/recordings.c) */
#define RECORDING_MAX_PATH       4096        /* a recording file's path (PATH_MAX) */
#define RECORDING_MAX_PARTICIPANTS_TEXT 2048 /* space-separated names of one recording */
#define RECORDING_MAX_FAILURE    512         /* why a recording failed or was cut short */

/* Recording timeline (server/timeline.c) */
#define TIMELINE_MAX_TEXT        1024        /* one entry's text; longer typing starts a new entry */
#define TIMELINE_MAX_CLIPBOARD   200         /* clipboard bytes shown (the length is always given) */
#define TIMELINE_MAX_STREAMS     64          /* input streams whose key modifiers and buttons are tracked */
#define TIMELINE_TYPING_GAP_US   2000000     /* a typing pause this long ends a typed entry */

/* RFB server -> client framer (server/rfb_framer.c, the recorder leg) */
#define RFB_FRAMER_MAX_MESSAGE (64u * 1024 * 1024) /* one FramebufferUpdate, all rects */
#define RFB_FRAMER_MAX_DIM     16384u              /* framebuffer and cursor width/height */
#define RFB_FRAMER_MAX_NAME    4096u               /* ServerInit desktop name */
#define RFB_FRAMER_MAX_HEADER  256u                /* largest unit held: 1 + 255 security types */

/* RFB client -> server filter (server/rfb_filter.c) */
#define RFB_MAX_ENCODINGS      256         /* SetEncodings entries */
#define RFB_MAX_CUT_TEXT       (256 * 1024) /* ClientCutText payload */
#define RFB_FILTER_MAX_MESSAGE (8 + RFB_MAX_CUT_TEXT) /* largest message kept whole */

/* Replay engine (server/replay*.c): what the parent accepts from a
 * keyframes file or from the sandboxed decoder child */
#define REPLAY_MAX_PATH          4096               /* recording and keyframes paths */
#define REPLAY_MAX_PIXELS        (8192u * 8192u)    /* one framebuffer (256 MiB of 0x00RRGGBB) */
#define REPLAY_MAX_DIRTY_RECTS   64                 /* per update handed out; more are merged */
#define REPLAY_MAX_ERROR_TEXT    256                /* the child's error message */
#define REPLAY_ZLIB_WINDOW       32768              /* ZRLE inflater state at a message boundary */
#define REPLAY_MAX_KEYFRAMES     (1u << 20)         /* per keyframes file */
#define REPLAY_MAX_KEYFRAME_FB   (REPLAY_MAX_PIXELS * 4u + 65536u) /* one compressed framebuffer */
#define REPLAY_MAX_KEYFRAMES_FILE (4ull << 30)      /* a larger keyframes file is not read (rebuilt) */
#define REPLAY_MAX_LEG_RECORDS   (16u << 20)        /* RFB records indexed per recording */
#define REPLAY_CHILD_TIMEOUT_MS  10000              /* longest wait for any progress of the child */
#define REPLAY_CHILD_CPU_S       3600               /* CPU seconds of one decoder child */
#define REPLAY_CHILD_MAX_AS      (2048ull << 20)    /* decoder child address space (no ASan) */

/* PNG writer (server/png_writer.c) */
#define PNG_WRITER_MAX_DIM       16384u             /* width and height */

/* Recording exports and playback (server/cli_export.c, cli_play.c and their writers) */
#define ASCIICAST_MAX_SIDE     4096        /* terminal columns or rows put in an asciicast */
#define EXPORT_MAX_PNG_FRAMES  100000      /* --png frames in one export */
#define CONTACT_SHEET_MAX_TILES 48         /* thumbnails on one contact sheet */
#define EXPORT_MAX_INTERVAL_S  86400       /* --every at most a day */
#define EXPORT_MAX_POSITION_S  (100 * 3600) /* --from at most 100 hours */

#endif
