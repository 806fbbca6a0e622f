#include "timeline.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "wire.h"
#include "xmalloc.h"

/* Bounded text: appends stop silently at the capacity (the caller sized it). */
struct text {
	char *p;
	size_t cap, len;
};

static void text_put(struct text *t, const char *s, size_t n)
{
	if (t->len + n >= t->cap)
		n = t->len + 1 < t->cap ? t->cap - 1 - t->len : 0;
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void text_add(struct text *t, const char *s)
{
	text_put(t, s, strlen(s));
}

static void text_utf8(struct text *t, uint32_t cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | cp >> 18);
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	text_put(t, b, n);
}

/* Bytes with control characters escaped C-style.  `latin1`: bytes from
 * 0xa0 are Latin-1 characters (RFB text); otherwise every byte from 0x80
 * is shown as \xNN (shell input may be in any encoding). */
static void text_escaped(struct text *t, const unsigned char *s, size_t n, int latin1)
{
	char esc[8];

	for (size_t i = 0; i < n; i++) {
		unsigned c = s[i];
		const char *named = c == '\r' ? "\\r" : c == '\n' ? "\\n" : c == '\t' ? "\\t" :
		                    c == 0x1b ? "\\e" : c == '\\' ? "\\\\" : NULL;
		if (named) {
			text_add(t, named);
		} else if (c >= 0x20 && c < 0x7f) {
			text_put(t, (const char *)&s[i], 1);
		} else if (latin1 && c >= 0xa0) {
			text_utf8(t, c);
		} else {
			snprintf(esc, sizeof esc, "\\x%02x", c);
			text_add(t, esc);
		}
	}
}

static void text_value(struct text *t, const char *s)
{
	text_escaped(t, (const unsigned char *)(s ? s : "?"), strlen(s ? s : "?"), 0);
}

/* ---- per-stream input state ---- */

enum { MOD_SHIFT = 1, MOD_CTRL = 2, MOD_ALT = 4, MOD_SUPER = 8 };

struct stream_state {
	uint16_t stream;
	unsigned modifiers;
	unsigned buttons;
};

enum pending_kind { PENDING_NONE, PENDING_TYPED, PENDING_SHELL };

struct timeline {
	timeline_fn fn;
	void *arg;
	struct stream_state streams[TIMELINE_MAX_STREAMS];
	size_t nstreams, next_evict;
	enum pending_kind pending;
	char pending_participant[RECORDING_MAX_PARTICIPANT + 1];
	uint16_t pending_stream;
	int pending_dropped;
	uint64_t pending_time, pending_last;
	char pending_text[TIMELINE_MAX_TEXT];
	size_t pending_len;
};

struct timeline *timeline_new(timeline_fn fn, void *arg)
{
	struct timeline *tl = xcalloc(1, sizeof *tl);

	tl->fn = fn;
	tl->arg = arg;
	return tl;
}

void timeline_free(struct timeline *tl)
{
	free(tl);
}

/* The state of `stream`; past TIMELINE_MAX_STREAMS the oldest is reused. */
static struct stream_state *stream_state(struct timeline *tl, uint16_t stream)
{
	struct stream_state *s;

	for (size_t i = 0; i < tl->nstreams; i++)
		if (tl->streams[i].stream == stream)
			return &tl->streams[i];
	if (tl->nstreams < TIMELINE_MAX_STREAMS) {
		s = &tl->streams[tl->nstreams++];
	} else {
		s = &tl->streams[tl->next_evict];
		tl->next_evict = (tl->next_evict + 1) % TIMELINE_MAX_STREAMS;
	}
	*s = (struct stream_state){ .stream = stream };
	return s;
}

/* ---- emitting ---- */

static void emit(struct timeline *tl, struct timeline_entry *e)
{
	char line[TIMELINE_MAX_TEXT + 128];
	struct text t = { line, sizeof line, 0 };

	line[0] = '\0';
	if (strcmp(e->kind, "typed") == 0 || strcmp(e->kind, "shell") == 0 ||
	    strcmp(e->kind, "clipboard") == 0) {
		text_add(&t, e->participant);
		text_add(&t, strcmp(e->kind, "typed") == 0 ? " typed: " :
		             strcmp(e->kind, "shell") == 0 ? " shell input: " : " clipboard: ");
		text_add(&t, e->text);
	} else if (strcmp(e->kind, "click") == 0) {
		char buf[96];
		snprintf(buf, sizeof buf, " clicked button %d at %d,%d", e->button, e->x, e->y);
		text_add(&t, e->participant);
		text_add(&t, buf);
	} else if (strcmp(e->kind, "resize") == 0) {
		char buf[64];
		snprintf(buf, sizeof buf, " resized the shell to %dx%d", e->cols, e->rows);
		text_add(&t, e->participant);
		text_add(&t, buf);
	} else {
		text_add(&t, e->text);
	}
	if (e->dropped)
		text_add(&t, " (dropped: view-only)");
	e->line = line;
	tl->fn(e, tl->arg);
}

void timeline_flush(struct timeline *tl)
{
	struct timeline_entry e;

	if (tl->pending == PENDING_NONE)
		return;
	e = (struct timeline_entry){
		.time_us = tl->pending_time, .participant = tl->pending_participant,
		.kind = tl->pending == PENDING_TYPED ? "typed" : "shell", .text = tl->pending_text,
		.dropped = tl->pending_dropped,
	};
	tl->pending = PENDING_NONE;
	emit(tl, &e);
}

void timeline_tick(struct timeline *tl, uint64_t now_us)
{
	if (tl->pending != PENDING_NONE && now_us > tl->pending_last + TIMELINE_TYPING_GAP_US)
		timeline_flush(tl);
}

/* Emits a finished entry, after what is pending (time order). */
static void emit_now(struct timeline *tl, struct timeline_entry *e)
{
	timeline_flush(tl);
	emit(tl, e);
}

/* Appends a piece of typed text or shell input to the pending entry,
 * starting a new one when the participant, kind or drop flag changes or
 * it is full; `ends_line` flushes after it. */
static void pend(struct timeline *tl, enum pending_kind kind, const struct recording_record *rec,
                 const char *piece, size_t n, int ends_line)
{
	int dropped = (rec->flags & RECORDING_FLAG_DROPPED) != 0;

	if (tl->pending != PENDING_NONE &&
	    (tl->pending != kind || tl->pending_stream != rec->stream || tl->pending_dropped != dropped ||
	     strcmp(tl->pending_participant, rec->participant) != 0 ||
	     tl->pending_len + n >= sizeof tl->pending_text))
		timeline_flush(tl);
	if (tl->pending == PENDING_NONE) {
		tl->pending = kind;
		tl->pending_stream = rec->stream;
		tl->pending_dropped = dropped;
		tl->pending_time = rec->time_us;
		tl->pending_len = 0;
		tl->pending_text[0] = '\0';
		snprintf(tl->pending_participant, sizeof tl->pending_participant, "%s", rec->participant);
	}
	struct text t = { tl->pending_text, sizeof tl->pending_text, tl->pending_len };
	text_put(&t, piece, n);
	tl->pending_len = t.len;
	tl->pending_last = rec->time_us;
	if (ends_line)
		timeline_flush(tl);
}

static void emit_malformed(struct timeline *tl, const struct recording_record *rec)
{
	char text[160];

	snprintf(text, sizeof text, "malformed %s record (%zu bytes)", recording_type_name(rec->type), rec->len);
	struct timeline_entry e = { .time_us = rec->time_us, .participant = rec->participant,
		                    .kind = "malformed", .text = text };
	emit_now(tl, &e);
}

/* ---- keys ---- */

static const struct { uint32_t keysym; const char *name; } key_names[] = {
	{ 0xff08, "BackSpace" }, { 0xff09, "Tab" }, { 0xff0d, "Return" }, { 0xff1b, "Escape" },
	{ 0xffff, "Delete" }, { 0xff50, "Home" }, { 0xff51, "Left" }, { 0xff52, "Up" },
	{ 0xff53, "Right" }, { 0xff54, "Down" }, { 0xff55, "Page_Up" }, { 0xff56, "Page_Down" },
	{ 0xff57, "End" }, { 0xff63, "Insert" }, { 0xff8d, "KP_Enter" }, { 0xff13, "Pause" },
	{ 0xff14, "Scroll_Lock" }, { 0xff61, "Print" }, { 0xff67, "Menu" }, { 0xff7f, "Num_Lock" },
	{ 0xffe5, "Caps_Lock" }, { 0xfe20, "ISO_Left_Tab" }, { 0xff6a, "Help" },
};

/* Keypad keys that type a character. */
static uint32_t keypad_char(uint32_t keysym)
{
	if (keysym >= 0xffb0 && keysym <= 0xffb9)
		return '0' + (keysym - 0xffb0);
	switch (keysym) {
	case 0xff80: return ' ';
	case 0xffaa: return '*';
	case 0xffab: return '+';
	case 0xffad: return '-';
	case 0xffae: return '.';
	case 0xffaf: return '/';
	case 0xffbd: return '=';
	}
	return 0;
}

/* Modifier bit of a modifier keysym; 0 for other keys, -1 for modifiers
 * that only select other keysyms (AltGr, Hyper, locks are named keys). */
static int modifier_bit(uint32_t keysym)
{
	switch (keysym) {
	case 0xffe1: case 0xffe2: return MOD_SHIFT;
	case 0xffe3: case 0xffe4: return MOD_CTRL;
	case 0xffe7: case 0xffe8: case 0xffe9: case 0xffea: return MOD_ALT;
	case 0xffeb: case 0xffec: return MOD_SUPER;
	case 0xffed: case 0xffee: case 0xfe03: case 0xff7e: return -1;
	}
	return 0;
}

/* The character a keysym types (keysyms carry case), 0 for none. */
static uint32_t keysym_char(uint32_t keysym)
{
	uint32_t cp;

	if ((keysym >= 0x20 && keysym <= 0x7e) || (keysym >= 0xa0 && keysym <= 0xff))
		return keysym;
	if ((keysym & 0xff000000u) == 0x01000000u) {
		cp = keysym & 0x00ffffffu;
		if (cp >= 0x20 && !(cp >= 0x7f && cp < 0xa0) && !(cp >= 0xd800 && cp < 0xe000) &&
		    cp <= 0x10ffff)
			return cp;
		return 0;
	}
	return keypad_char(keysym);
}

static void feed_key(struct timeline *tl, const struct recording_record *rec)
{
	char piece[64], name[24];
	struct text t = { piece, sizeof piece, 0 };
	struct stream_state *s;
	uint32_t keysym, cp;
	int bit, down;

	if (rec->len != 8 || rec->payload[0] != 4) {
		emit_malformed(tl, rec);
		return;
	}
	down = rec->payload[1] != 0;
	keysym = (uint32_t)rec->payload[4] << 24 | (uint32_t)rec->payload[5] << 16 |
	         (uint32_t)rec->payload[6] << 8 | rec->payload[7];
	s = stream_state(tl, rec->stream);
	bit = modifier_bit(keysym);
	if (bit != 0) {
		if (bit > 0)
			s->modifiers = down ? s->modifiers | (unsigned)bit : s->modifiers & ~(unsigned)bit;
		return;
	}
	if (!down)
		return;
	piece[0] = '\0';
	cp = keysym_char(keysym);
	name[0] = '\0';
	if (cp == 0) {
		for (size_t i = 0; i < sizeof key_names / sizeof key_names[0]; i++)
			if (key_names[i].keysym == keysym)
				snprintf(name, sizeof name, "%s", key_names[i].name);
		if (name[0] == '\0' && keysym >= 0xffbe && keysym <= 0xffe0)
			snprintf(name, sizeof name, "F%u", keysym - 0xffbe + 1);
		if (name[0] == '\0')
			snprintf(name, sizeof name, "0x%" PRIx32, keysym);
	}
	/* Shift is in the keysym of a character; it is shown only on named keys. */
	if (cp && !(s->modifiers & (MOD_CTRL | MOD_ALT | MOD_SUPER))) {
		if (cp == '\\')
			text_add(&t, "\\\\");
		else
			text_utf8(&t, cp);
	} else {
		text_add(&t, "<");
		if (s->modifiers & MOD_CTRL)
			text_add(&t, "Ctrl+");
		if (s->modifiers & MOD_ALT)
			text_add(&t, "Alt+");
		if (s->modifiers & MOD_SUPER)
			text_add(&t, "Super+");
		if ((s->modifiers & MOD_SHIFT) && cp == 0)
			text_add(&t, "Shift+");
		if (cp)
			text_utf8(&t, cp);
		else
			text_add(&t, name);
		text_add(&t, ">");
	}
	pend(tl, PENDING_TYPED, rec, piece, t.len, keysym == 0xff0d || keysym == 0xff8d);
}

/* ---- pointer, clipboard, shell ---- */

static void feed_pointer(struct timeline *tl, const struct recording_record *rec)
{
	struct stream_state *s;
	unsigned mask, pressed;

	if (rec->len != 6 || rec->payload[0] != 5) {
		emit_malformed(tl, rec);
		return;
	}
	s = stream_state(tl, rec->stream);
	mask = rec->payload[1];
	pressed = mask & ~s->buttons;
	s->buttons = mask;
	for (int b = 0; b < 8; b++) {
		if (!(pressed & (1u << b)))
			continue;
		struct timeline_entry e = {
			.time_us = rec->time_us, .participant = rec->participant, .kind = "click", .text = "",
			.button = b + 1, .x = rec->payload[2] << 8 | rec->payload[3],
			.y = rec->payload[4] << 8 | rec->payload[5],
			.dropped = (rec->flags & RECORDING_FLAG_DROPPED) != 0,
		};
		emit_now(tl, &e);
	}
}

static void feed_clipboard(struct timeline *tl, const struct recording_record *rec)
{
	char text[TIMELINE_MAX_CLIPBOARD * 4 + 64];
	struct text t = { text, sizeof text, 0 };
	uint32_t declared;
	size_t shown;

	if (rec->len < 8 || rec->payload[0] != 6) {
		emit_malformed(tl, rec);
		return;
	}
	declared = (uint32_t)rec->payload[4] << 24 | (uint32_t)rec->payload[5] << 16 |
	           (uint32_t)rec->payload[6] << 8 | rec->payload[7];
	if (declared != rec->len - 8) {
		emit_malformed(tl, rec);
		return;
	}
	shown = declared < TIMELINE_MAX_CLIPBOARD ? declared : TIMELINE_MAX_CLIPBOARD;
	text[0] = '\0';
	text_add(&t, "\"");
	text_escaped(&t, rec->payload + 8, shown, 1);
	text_add(&t, "\"");
	if (shown < declared) {
		char more[64];
		snprintf(more, sizeof more, "... (%" PRIu32 " bytes in all)", declared);
		text_add(&t, more);
	}
	struct timeline_entry e = { .time_us = rec->time_us, .participant = rec->participant,
		                    .kind = "clipboard", .text = text,
		                    .dropped = (rec->flags & RECORDING_FLAG_DROPPED) != 0 };
	emit_now(tl, &e);
}

static void feed_shell_input(struct timeline *tl, const struct recording_record *rec)
{
	/* Byte by byte, so a line ends at its Return even inside one record. */
	for (size_t i = 0; i < rec->len; i++) {
		char piece[8];
		struct text t = { piece, sizeof piece, 0 };
		unsigned char c = rec->payload[i];
		text_escaped(&t, &c, 1, 0);
		pend(tl, PENDING_SHELL, rec, piece, t.len, c == '\r' || c == '\n');
	}
}

static void feed_resize(struct timeline *tl, const struct recording_record *rec)
{
	if (rec->len != 4) {
		emit_malformed(tl, rec);
		return;
	}
	struct timeline_entry e = {
		.time_us = rec->time_us, .participant = rec->participant, .kind = "resize", .text = "",
		.cols = rec->payload[0] << 8 | rec->payload[1], .rows = rec->payload[2] << 8 | rec->payload[3],
		.dropped = (rec->flags & RECORDING_FLAG_DROPPED) != 0,
	};
	emit_now(tl, &e);
}

/* ---- events ---- */

static const char *field(const struct wire_msg *m, const char *key)
{
	const char *v = wire_get(m, key);

	return v ? v : "?";
}

/* Describes a known verb into t; returns its kind, NULL for unknown verbs. */
static const char *describe_event(const struct wire_msg *m, struct text *t)
{
	const char *verb = m->verb, *user = field(m, "user");

	if (strcmp(verb, "START") == 0) {
		text_add(t, "recording started: ticket ");
		text_value(t, field(m, "ticket"));
		text_add(t, ", session ");
		text_value(t, field(m, "session"));
		if (strcmp(field(m, "resumed"), "1") == 0)
			text_add(t, " (resumed after a relay restart)");
		return "start";
	}
	if (strcmp(verb, "ASK") == 0) {
		text_value(t, user);
		text_add(t, " (");
		text_value(t, field(m, "role"));
		text_add(t, ") asks for ");
		text_value(t, field(m, "asked"));
		return "ask";
	}
	if (strcmp(verb, "CONSENT") == 0) {
		const char *answer = field(m, "answer");
		if (strcmp(answer, "allowed") == 0) {
			text_add(t, "the end user allowed ");
			text_value(t, user);
			text_add(t, ": ");
			text_value(t, field(m, "granted"));
		} else {
			text_value(t, user);
			text_add(t, "'s request for ");
			text_value(t, field(m, "asked"));
			text_add(t, strcmp(answer, "declined") == 0 ? " was declined" :
			            strcmp(answer, "timeout") == 0 ? " got no answer (timed out)" :
			            strcmp(answer, "no_shell") == 0 ? " was refused: the agent offers no shell" :
			            " ended: ");
			if (strcmp(answer, "declined") && strcmp(answer, "timeout") && strcmp(answer, "no_shell"))
				text_value(t, answer);
		}
		if (strcmp(field(m, "auto"), "1") == 0)
			text_add(t, " (auto-accepted)");
		return "consent";
	}
	if (strcmp(verb, "JOIN") == 0) {
		text_value(t, user);
		text_add(t, " (");
		text_value(t, field(m, "role"));
		text_add(t, ") joined: ");
		text_value(t, field(m, "kind"));
		text_add(t, ", ");
		text_value(t, field(m, "rights"));
		return "join";
	}
	if (strcmp(verb, "LEAVE") == 0) {
		text_value(t, user);
		text_add(t, " left (");
		text_value(t, field(m, "reason"));
		text_add(t, ")");
		return "leave";
	}
	if (strcmp(verb, "RECORDER") == 0) {
		text_value(t, field(m, "kind"));
		text_add(t, " recorder (stream ");
		text_value(t, field(m, "stream"));
		text_add(t, ") ");
		const char *state = field(m, "state");
		text_add(t, strcmp(state, "start") == 0 ? "started" : strcmp(state, "stop") == 0 ? "stopped" : "");
		if (strcmp(state, "start") && strcmp(state, "stop"))
			text_value(t, state);
		if (wire_get(m, "reason")) {
			text_add(t, " (");
			text_value(t, field(m, "reason"));
			text_add(t, ")");
		}
		return "recorder";
	}
	if (strcmp(verb, "END") == 0) {
		text_add(t, "session ended by ");
		text_value(t, field(m, "by"));
		text_add(t, ": ");
		text_value(t, field(m, "reason"));
		return "end";
	}
	return NULL;
}

static void feed_event(struct timeline *tl, const struct recording_record *rec)
{
	char text[WIRE_MAX_FIELDS * (WIRE_MAX_VALUE * 4 + 16) + 64];
	struct text t = { text, sizeof text, 0 };
	struct wire_msg msg;
	const char *kind;

	if (rec->len > WIRE_MAX_LINE || wire_parse((const char *)rec->payload, rec->len, &msg) < 0) {
		emit_malformed(tl, rec);
		return;
	}
	text[0] = '\0';
	kind = describe_event(&msg, &t);
	if (kind == NULL)
		return; /* a verb from a newer relay */
	const char *user = wire_get(&msg, "user");
	char participant[RECORDING_MAX_PARTICIPANT + 1] = "";
	if (user) {
		struct text p = { participant, sizeof participant, 0 };
		text_value(&p, user);
	}
	struct timeline_entry e = { .time_us = rec->time_us, .participant = participant, .kind = kind,
		                    .text = text };
	emit_now(tl, &e);
}

void timeline_feed(struct timeline *tl, const struct recording_record *rec)
{
	timeline_tick(tl, rec->time_us);
	switch (rec->type) {
	case RECORDING_EVENT: feed_event(tl, rec); break;
	case RECORDING_INPUT_KEY: feed_key(tl, rec); break;
	case RECORDING_INPUT_POINTER: feed_pointer(tl, rec); break;
	case RECORDING_INPUT_CUT_TEXT: feed_clipboard(tl, rec); break;
	case RECORDING_SHELL_INPUT: feed_shell_input(tl, rec); break;
	case RECORDING_SHELL_RESIZE: feed_resize(tl, rec); break;
	default: break; /* screen and shell output */
	}
}

int timeline_file(const char *path, timeline_fn fn, void *arg, char *err, size_t errlen)
{
	struct recording_reader *reader;
	struct recording_record rec;
	struct timeline *tl;
	int rc;

	if (recording_reader_open(path, &reader, err, errlen) < 0)
		return -1;
	tl = timeline_new(fn, arg);
	while ((rc = recording_reader_next(reader, &rec, err, errlen)) == 1)
		timeline_feed(tl, &rec);
	timeline_flush(tl);
	if (rc == 0)
		rc = recording_reader_complete(reader);
	timeline_free(tl);
	recording_reader_close(reader);
	return rc;
}

void timeline_format_time(uint64_t us, char *out, size_t outlen)
{
	uint64_t ms = us / 1000, s = ms / 1000;

	if (s >= 3600)
		snprintf(out, outlen, "%" PRIu64 ":%02u:%02u.%03u", s / 3600, (unsigned)(s / 60 % 60),
		         (unsigned)(s % 60), (unsigned)(ms % 1000));
	else
		snprintf(out, outlen, "%02u:%02u.%03u", (unsigned)(s / 60), (unsigned)(s % 60),
		         (unsigned)(ms % 1000));
}

void timeline_print_text(FILE *out, const struct timeline_entry *e)
{
	char when[24];

	timeline_format_time(e->time_us, when, sizeof when);
	fprintf(out, "%s  %s\n", when, e->line);
}

void timeline_print_json(FILE *out, const struct timeline_entry *e)
{
	char when[24];

	timeline_format_time(e->time_us, when, sizeof when);
	fprintf(out, "{\"time_us\":%" PRIu64, e->time_us);
	json_field_string(out, 0, "time", when);
	json_field_string(out, 0, "participant", e->participant[0] ? e->participant : NULL);
	json_field_string(out, 0, "kind", e->kind);
	json_field_string(out, 0, "text", e->text);
	json_field_string(out, 0, "line", e->line);
	if (strcmp(e->kind, "click") == 0)
		fprintf(out, ",\"button\":%d,\"x\":%d,\"y\":%d", e->button, e->x, e->y);
	if (strcmp(e->kind, "resize") == 0)
		fprintf(out, ",\"cols\":%d,\"rows\":%d", e->cols, e->rows);
	fprintf(out, ",\"dropped\":%s}", e->dropped ? "true" : "false");
}
