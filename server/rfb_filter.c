/*
 * RFB client -> server filter: see rfb_filter.h for the contract.
 *
 * The stream is cut into units: the 12-byte ProtocolVersion, the one-byte
 * security-type choice (3.7 and 3.8 only), the one-byte ClientInit, then
 * client messages.  A unit that arrives whole inside one feed is checked and
 * passed straight from the caller's buffer; consecutive passing units are
 * handed to `emit` as one run.  A unit split across feeds is held inside:
 * up to sizeof small in the filter itself, larger ones (SetEncodings,
 * ClientCutText) in a heap buffer that grows with the bytes actually
 * received, never beyond RFB_FILTER_MAX_MESSAGE, and is freed once the
 * message is complete.  An idle filter therefore owns no heap memory.
 *
 * Decisions made here:
 *  - ProtocolVersion must be exactly "RFB 003.003\n", "RFB 003.007\n" or
 *    "RFB 003.008\n" (RFC 6143).  Apple's "RFB 003.889\n" is refused: our
 *    endpoint (libvncserver) offers 3.8, a client may only answer with a
 *    version it was offered, and 889 announces Apple's own security types,
 *    which are not None.  Every byte is checked as it arrives, so a non-RFB
 *    client (an HTTP request, say) is refused at its first wrong byte.
 *  - 3.3 has no client security byte; the relay relies on the endpoint
 *    choosing None (its only configured type).  Were it to choose VNC
 *    authentication the 16-byte response would be parsed as ClientInit plus
 *    messages and almost surely refused: the filter fails closed.
 *  - Any ClientInit byte is accepted and replaced by 1 (shared).
 *  - ClientCutText with the high bit of its length set (the extended
 *    clipboard's negative length) is refused, as is any length above
 *    RFB_MAX_CUT_TEXT.
 *  - For an input message `on_input` is called before its bytes are emitted,
 *    and after every byte that precedes it has been; the allow_input value
 *    current when the message is complete decides.  Callbacks may call
 *    rfb_filter_set_allow_input() (it applies from the next message) but
 *    must not feed or free the filter.
 *  - Everything before a violating unit has passed and is emitted, so the
 *    output never depends on how the stream was split.
 */
#include "rfb_filter.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "concierge_limits.h"
#include "log.h"
#include "xmalloc.h"

enum rfb_state { ST_VERSION, ST_SECURITY, ST_CLIENT_INIT, ST_MESSAGES, ST_FAILED };

enum {
	MSG_SET_PIXEL_FORMAT = 0,
	MSG_SET_ENCODINGS = 2,
	MSG_FB_UPDATE_REQUEST = 3,
	MSG_KEY_EVENT = 4,
	MSG_POINTER_EVENT = 5,
	MSG_CLIENT_CUT_TEXT = 6,
};

#define VERSION_LEN      12
#define SECURITY_NONE    1
#define SMALL_UNIT       20 /* the largest fixed-size unit: SetPixelFormat */
#define BIG_MIN_CAP      256

struct rfb_filter {
	struct rfb_filter_callbacks cb;
	struct rfb_filter_stats stats;
	char *error;            /* first violation, NULL until then */
	uint8_t *big;           /* a held unit longer than SMALL_UNIT, else NULL */
	uint32_t big_cap;
	uint32_t have;          /* bytes of the current unit held */
	uint8_t state;          /* enum rfb_state */
	uint8_t allow_input;
	uint8_t small[SMALL_UNIT];
};

/* Bytes passed in place, not yet handed to emit. */
struct run {
	const uint8_t *p;
	size_t n;
};

_Static_assert(RFB_FILTER_MAX_MESSAGE <= UINT32_MAX, "held lengths are 32-bit");
_Static_assert(4 + 4 * (size_t)RFB_MAX_ENCODINGS <= RFB_FILTER_MAX_MESSAGE,
               "SetEncodings fits the held-message bound");

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Frees a held unit's heap part; the next byte starts a new unit. */
static void release_held(struct rfb_filter *f)
{
	free(f->big);
	f->big = NULL;
	f->big_cap = 0;
	f->have = 0;
}

static int violation(struct rfb_filter *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int violation(struct rfb_filter *f, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("event=out_of_memory what=rfb_filter_error");
	free(f->error);
	f->error = msg;
	f->state = ST_FAILED;
	release_held(f);
	return -1;
}

/* Printable rendering of a refused ProtocolVersion prefix (at most 12 bytes). */
static void render_bytes(char *out, size_t outlen, const uint8_t *p, size_t n)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && o + 5 < outlen; i++) {
		int w;

		if (p[i] == '\n')
			w = snprintf(out + o, outlen - o, "\\n");
		else if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
			w = snprintf(out + o, outlen - o, "%c", p[i]);
		else
			w = snprintf(out + o, outlen - o, "\\x%02x", p[i]);
		if (w < 0 || (size_t)w >= outlen - o)
			break;
		o += (size_t)w;
	}
}

static int check_version(struct rfb_filter *f, const uint8_t *p, size_t avail)
{
	static const char template[VERSION_LEN + 1] = "RFB 003.00?\n";
	char shown[4 * VERSION_LEN + 1];

	for (size_t i = 0; i < avail && i < VERSION_LEN; i++) {
		int ok = template[i] == '?' ? (p[i] == '3' || p[i] == '7' || p[i] == '8')
		                            : p[i] == (uint8_t)template[i];
		if (ok)
			continue;
		render_bytes(shown, sizeof shown, p, i + 1);
		return violation(f, "client sent ProtocolVersion \"%s\"; only \"RFB 003.003\\n\", "
		                 "\"RFB 003.007\\n\" and \"RFB 003.008\\n\" are allowed", shown);
	}
	return 0;
}

/*
 * Length of the unit starting at p, of which avail bytes are present.
 * Returns 1 with *total set when known, 0 when more bytes are needed first
 * (*total is then how many: always <= 8), -1 on a violation.
 */
static int unit_length(struct rfb_filter *f, const uint8_t *p, size_t avail, size_t *total)
{
	uint32_t n;

	switch (f->state) {
	case ST_VERSION:
		if (check_version(f, p, avail) < 0)
			return -1;
		*total = VERSION_LEN;
		return 1;
	case ST_SECURITY:
	case ST_CLIENT_INIT:
		*total = 1;
		return 1;
	case ST_MESSAGES:
		break;
	default:
		return -1;
	}
	if (avail < 1) {
		*total = 1;
		return 0;
	}
	switch (p[0]) {
	case MSG_SET_PIXEL_FORMAT:
		*total = 20;
		return 1;
	case MSG_FB_UPDATE_REQUEST:
		*total = 10;
		return 1;
	case MSG_KEY_EVENT:
		*total = 8;
		return 1;
	case MSG_POINTER_EVENT:
		*total = 6;
		return 1;
	case MSG_SET_ENCODINGS:
		if (avail < 4) {
			*total = 4;
			return 0;
		}
		n = be16(p + 2);
		if (n > RFB_MAX_ENCODINGS)
			return violation(f, "SetEncodings with %u encodings; at most %d are allowed",
			                 n, RFB_MAX_ENCODINGS);
		*total = 4 + 4 * (size_t)n;
		return 1;
	case MSG_CLIENT_CUT_TEXT:
		if (avail < 8) {
			*total = 8;
			return 0;
		}
		n = be32(p + 4);
		if (n & 0x80000000u)
			return violation(f, "ClientCutText with length 0x%08x (high bit set: extended "
			                 "clipboard) is not supported", n);
		if (n > RFB_MAX_CUT_TEXT)
			return violation(f, "ClientCutText of %u bytes; at most %d are allowed", n,
			                 RFB_MAX_CUT_TEXT);
		*total = 8 + (size_t)n;
		return 1;
	default:
		return violation(f, "unsupported client message type %u", p[0]);
	}
}

static void flush(struct rfb_filter *f, struct run *run)
{
	if (run->n > 0)
		f->cb.emit(f->cb.ctx, run->p, run->n);
	run->p = NULL;
	run->n = 0;
}

/*
 * Passes the unit p[0..len).  In place (from the caller's buffer) its bytes
 * may join the pending run; held ones are emitted at once because the
 * buffer is about to be reused or freed.
 */
static void pass(struct rfb_filter *f, struct run *run, const uint8_t *p, size_t len, int in_place)
{
	if (!in_place) {
		flush(f, run);
		f->cb.emit(f->cb.ctx, p, len);
		return;
	}
	if (run->n > 0 && run->p + run->n == p) {
		run->n += len;
		return;
	}
	flush(f, run);
	run->p = p;
	run->n = len;
}

static void input_message(struct rfb_filter *f, struct run *run, enum rfb_input_kind kind,
                          const uint8_t *p, size_t len, int in_place)
{
	int forwarded = f->allow_input != 0;

	if (forwarded)
		f->stats.forwarded_input++;
	else if (kind == RFB_INPUT_KEY)
		f->stats.dropped_key++;
	else if (kind == RFB_INPUT_POINTER)
		f->stats.dropped_pointer++;
	else
		f->stats.dropped_cut_text++;
	if (f->cb.on_input != NULL) {
		flush(f, run);
		f->cb.on_input(f->cb.ctx, kind, forwarded, p, len);
	}
	if (forwarded)
		pass(f, run, p, len, in_place);
}

/* Acts on one complete unit p[0..len), already length-checked. */
static void process_unit(struct rfb_filter *f, struct run *run, const uint8_t *p, size_t len,
                         int in_place)
{
	static const uint8_t shared = 1;

	switch (f->state) {
	case ST_VERSION:
		pass(f, run, p, len, in_place);
		f->state = p[10] == '3' ? ST_CLIENT_INIT : ST_SECURITY;
		return;
	case ST_SECURITY:
		pass(f, run, p, len, in_place);
		f->state = ST_CLIENT_INIT;
		return;
	case ST_CLIENT_INIT:
		pass(f, run, &shared, 1, 0);
		f->state = ST_MESSAGES;
		return;
	default:
		break;
	}
	switch (p[0]) {
	case MSG_KEY_EVENT:
		input_message(f, run, RFB_INPUT_KEY, p, len, in_place);
		break;
	case MSG_POINTER_EVENT:
		input_message(f, run, RFB_INPUT_POINTER, p, len, in_place);
		break;
	case MSG_CLIENT_CUT_TEXT:
		input_message(f, run, RFB_INPUT_CUT_TEXT, p, len, in_place);
		break;
	default:
		pass(f, run, p, len, in_place);
		break;
	}
}

/* Checks a complete unit's content beyond its length (the security choice). */
static int check_unit(struct rfb_filter *f, const uint8_t *p)
{
	if (f->state == ST_SECURITY && p[0] != SECURITY_NONE)
		return violation(f, "client chose security type %u; only None is allowed", p[0]);
	return 0;
}

static uint8_t *held(struct rfb_filter *f) { return f->big != NULL ? f->big : f->small; }

/* Appends n bytes to the held unit, whose total length is at most `limit`. */
static void hold(struct rfb_filter *f, const uint8_t *src, size_t n, size_t limit)
{
	size_t need = (size_t)f->have + n;

	if (need > limit || limit > RFB_FILTER_MAX_MESSAGE)
		fatal("event=bug have=%u add=%zu limit=%zu", f->have, n, limit);
	if (f->big == NULL && need <= sizeof f->small) {
		memcpy(f->small + f->have, src, n);
		f->have = (uint32_t)need;
		return;
	}
	if (f->big == NULL || need > f->big_cap) {
		size_t cap = f->big_cap > 0 ? (size_t)f->big_cap * 2 : BIG_MIN_CAP;
		uint8_t *nb;

		if (cap < need)
			cap = need;
		if (cap > limit)
			cap = limit;
		nb = xreallocarray(f->big, cap, 1);
		if (f->big == NULL)
			memcpy(nb, f->small, f->have);
		f->big = nb;
		f->big_cap = (uint32_t)cap;
	}
	memcpy(f->big + f->have, src, n);
	f->have = (uint32_t)need;
}

struct rfb_filter *rfb_filter_new(int allow_input, const struct rfb_filter_callbacks *callbacks)
{
	struct rfb_filter *f;

	if (callbacks == NULL || callbacks->emit == NULL)
		fatal("event=bug what=rfb_filter_new_without_emit");
	f = xcalloc(1, sizeof *f);
	f->cb = *callbacks;
	f->allow_input = allow_input != 0;
	f->state = ST_VERSION;
	return f;
}

void rfb_filter_free(struct rfb_filter *filter)
{
	if (filter == NULL)
		return;
	free(filter->big);
	free(filter->error);
	free(filter);
}

int rfb_filter_feed(struct rfb_filter *f, const uint8_t *data, size_t len)
{
	struct run run = { NULL, 0 };
	size_t total;
	int r, rc = -1;

	if (f->state == ST_FAILED)
		return -1;
	while (len > 0) {
		if (f->have == 0) {
			/* At a unit boundary: take whole units straight from data. */
			r = unit_length(f, data, len, &total);
			if (r < 0)
				goto out;
			if (r > 0 && total <= len) {
				if (check_unit(f, data) < 0)
					goto out;
				process_unit(f, &run, data, total, 1);
				data += total;
				len -= total;
				continue;
			}
		}
		/* Hold bytes until the unit is complete; learn its length on the way. */
		r = unit_length(f, held(f), f->have, &total);
		if (r < 0)
			goto out;
		if (f->have < total) {
			size_t take = total - f->have;

			if (take > len)
				take = len;
			hold(f, data, take, total);
			data += take;
			len -= take;
			r = unit_length(f, held(f), f->have, &total);
			if (r < 0)
				goto out;
		}
		if (r > 0 && f->have == total) {
			if (check_unit(f, held(f)) < 0)
				goto out;
			process_unit(f, &run, held(f), total, 0);
			release_held(f);
		}
	}
	rc = 0;
out:
	flush(f, &run);
	return rc;
}

void rfb_filter_set_allow_input(struct rfb_filter *filter, int allow_input)
{
	filter->allow_input = allow_input != 0;
}

void rfb_filter_get_stats(const struct rfb_filter *filter, struct rfb_filter_stats *stats)
{
	*stats = filter->stats;
}

const char *rfb_filter_error(const struct rfb_filter *filter)
{
	return filter->error != NULL ? filter->error : "";
}
