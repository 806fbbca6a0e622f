/* concierge recording export ID|PATH --png DIR [--every 5s] | --contact-sheet FILE |
 *                                    --asciicast FILE | --fbs FILE [--stream N] | --video FILE
 *
 * Order of work: check the arguments and that no output exists (and that
 * ffmpeg is there for --video), verify the recording and audit the access,
 * open the replay and check every PNG name, and only then write.  Only the
 * verified part of a truncated recording is exported (exit 4). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asciicast.h"
#include "cli.h"
#include "contact_sheet.h"
#include "export_progress.h"
#include "fbs.h"
#include "frame_image.h"
#include "frame_sampler.h"
#include "png_writer.h"
#include "recording.h"
#include "recordings.h"
#include "replay.h"
#include "time_spec.h"
#include "video_pipe.h"
#include "xmalloc.h"

#define DEFAULT_EVERY_US   (5 * UINT64_C(1000000))
#define EXPORT_FILE_MODE   0600 /* exports show what the session showed: private like it */
#define SCREEN_STREAM_BASE 1000 /* recorder legs: screen 1000 + k, shell 2000 + k */
#define SHELL_STREAM_BASE  2000
#define DEFAULT_TERMINAL_COLS 80
#define DEFAULT_TERMINAL_ROWS 24
#define CARD_WIDTH  640  /* "no picture" frames when no leg says a size */
#define CARD_HEIGHT 480

struct export_plan {
	const char *png_dir, *sheet, *cast, *fbs, *video;
	uint64_t every_us;
	int stream;                    /* --fbs leg's stream id; 0: the first */
	char ffmpeg[PATH_MAX];
	char formats[128];             /* for the audit row */
};

struct screen_source {
	struct replay *replay;
	uint64_t duration_us;          /* exported span: [0, duration_us] */
	unsigned width, height;        /* size for frames without a picture */
	int with_hours;                /* file stamps carry hours */
};

/* ---- checks before anything is read --------------------------------- */

static int refuse_existing(const char *path)
{
	if (access(path, F_OK) == 0)
		return cli_fail("refusing to overwrite %s: it exists; remove it or name another file", path);
	return CLI_OK;
}

/* An output file: must not exist, and its folder must. */
static int check_output_file(const char *path)
{
	char folder[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (refuse_existing(path) != CLI_OK)
		return CLI_FAIL;
	if (slash == NULL)
		return CLI_OK;
	snprintf(folder, sizeof folder, "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if (stat(folder, &st) != 0 || !S_ISDIR(st.st_mode))
		return cli_fail("cannot write %s: folder %s does not exist; create it first", path, folder);
	return CLI_OK;
}

static void add_format(struct export_plan *p, const char *name)
{
	size_t len = strlen(p->formats);

	snprintf(p->formats + len, sizeof p->formats - len, "%s%s", len ? "," : "", name);
}

static int parse_stream(struct cli_ctx *ctx, const char *text, int *stream)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(text, &end, 10);
	if (errno || *end || end == text || n < 1 || n >= SHELL_STREAM_BASE || n == SCREEN_STREAM_BASE)
		return cli_usage_error(ctx, "--stream takes a screen leg: its number k (1, 2, ...) or its "
		                       "stream id 1000+k, not '%s'", text);
	*stream = n < SCREEN_STREAM_BASE ? SCREEN_STREAM_BASE + (int)n : (int)n;
	return CLI_OK;
}

static int plan_export(struct cli_ctx *ctx, struct export_plan *p)
{
	const struct cli_args *a = &ctx->args;
	const char *files[4] = { a->contact_sheet, a->asciicast, a->fbs, a->video };
	struct stat st;
	int rc;

	memset(p, 0, sizeof *p);
	p->png_dir = a->png_dir;
	p->sheet = a->contact_sheet;
	p->cast = a->asciicast;
	p->fbs = a->fbs;
	p->video = a->video;
	p->every_us = DEFAULT_EVERY_US;
	if (!p->png_dir && !p->sheet && !p->cast && !p->fbs && !p->video)
		return cli_usage_error(ctx, "nothing to export: give --png DIR, --contact-sheet FILE.png, "
		                       "--asciicast FILE.cast, --fbs FILE.fbs or --video FILE.mp4");
	if (a->every && !p->png_dir)
		return cli_usage_error(ctx, "--every sets the interval of --png frames; give --png DIR too");
	if (a->every && time_spec_parse_interval(a->every, &p->every_us) < 0)
		return cli_usage_error(ctx, "--every takes an interval like 500ms, 5s or 1m (1 ms to %d s), "
		                       "not '%s'", EXPORT_MAX_INTERVAL_S, a->every);
	if (a->stream && !p->fbs)
		return cli_usage_error(ctx, "--stream chooses the screen leg of --fbs; give --fbs FILE too");
	if (a->stream && (rc = parse_stream(ctx, a->stream, &p->stream)) != CLI_OK)
		return rc;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		if (files[i] && (rc = check_output_file(files[i])) != CLI_OK)
			return rc;
	if (p->png_dir && stat(p->png_dir, &st) == 0 && !S_ISDIR(st.st_mode))
		return cli_fail("--png %s: not a folder; name a folder for the frames", p->png_dir);
	if (p->video && video_find_program("ffmpeg", p->ffmpeg, sizeof p->ffmpeg) < 0)
		return cli_fail("--video needs ffmpeg, which is not installed (not in PATH): install it with "
		                "'apt-get install ffmpeg' and run this again");
	if (p->png_dir)
		add_format(p, "png");
	if (p->sheet)
		add_format(p, "contact-sheet");
	if (p->cast)
		add_format(p, "asciicast");
	if (p->fbs)
		add_format(p, "fbs");
	if (p->video)
		add_format(p, "video");
	return CLI_OK;
}

/* A new file for writing that did not exist (O_EXCL); NULL after printing. */
static FILE *create_output(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, EXPORT_FILE_MODE);
	FILE *f;

	if (fd < 0) {
		if (errno == EEXIST)
			cli_fail("refusing to overwrite %s: it exists; remove it or name another file", path);
		else
			cli_fail("cannot create %s: %s", path, strerror(errno));
		return NULL;
	}
	f = fdopen(fd, "wb");
	if (f == NULL) {
		cli_fail("cannot write %s: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

/* Closes an output that `write_rc` says was written (0), failed to be
 * written (> 0) or failed to be read for (< 0, already reported); on any
 * failure the partial file is removed. */
static int finish_output(FILE *f, const char *path, int write_rc)
{
	int saved = errno;

	if (fclose(f) != 0 && write_rc == 0) {
		saved = errno;
		write_rc = 1;
	}
	if (write_rc == 0)
		return CLI_OK;
	unlink(path);
	if (write_rc > 0)
		cli_fail("cannot write %s: %s", path, strerror(saved));
	return CLI_FAIL;
}

/* ---- asciicast --------------------------------------------------------- */

struct cast_scan {
	int shell_legs, pipe_outputs;
	unsigned cols, rows;
	int have_size;
};

static int is_shell_leg(uint16_t stream)
{
	return stream > SHELL_STREAM_BASE;
}

static int scan_shell(const struct recording_record *rec, void *arg)
{
	struct cast_scan *s = arg;

	if (rec->type == RECORDING_SHELL_OUTPUT && is_shell_leg(rec->stream))
		s->shell_legs = 1;
	else if (rec->type == RECORDING_SHELL_OUTPUT)
		s->pipe_outputs = 1;
	else if (rec->type == RECORDING_SHELL_RESIZE && !s->have_size && rec->len == 4) {
		unsigned cols = (unsigned)rec->payload[0] << 8 | rec->payload[1];
		unsigned rows = (unsigned)rec->payload[2] << 8 | rec->payload[3];
		if (cols >= 1 && cols <= ASCIICAST_MAX_SIDE && rows >= 1 && rows <= ASCIICAST_MAX_SIDE) {
			s->cols = cols;
			s->rows = rows;
			s->have_size = 1;
		}
	}
	return 0;
}

struct cast_write {
	struct asciicast_writer *w;
	int use_legs;          /* output of the shell legs; else pipe-mode output */
	int resizes_seen;
	struct export_progress progress;
};

static int write_cast_record(const struct recording_record *rec, void *arg)
{
	struct cast_write *c = arg;
	int rc = 0;

	export_progress_update(&c->progress, rec->time_us);
	if (rec->type == RECORDING_SHELL_OUTPUT && is_shell_leg(rec->stream) == c->use_legs)
		rc = asciicast_output(c->w, rec->time_us, rec->payload, rec->len);
	else if (rec->type == RECORDING_SHELL_RESIZE && rec->len == 4 && c->resizes_seen++ > 0)
		rc = asciicast_resize(c->w, rec->time_us, (unsigned)rec->payload[0] << 8 | rec->payload[1],
		                      (unsigned)rec->payload[2] << 8 | rec->payload[3]);
	return rc < 0 ? 1 : 0;
}

static int export_asciicast(const struct cli_verified *v, const char *path)
{
	struct cast_scan scan = { 0, 0, DEFAULT_TERMINAL_COLS, DEFAULT_TERMINAL_ROWS, 0 };
	struct cast_write c = { 0 };
	char title[160];
	uint64_t events;
	FILE *f;
	int rc;

	if (cli_verified_foreach(v, scan_shell, &scan) < 0)
		return CLI_FAIL;
	if (!scan.shell_legs && !scan.pipe_outputs)
		return cli_fail("--asciicast: the recording has no shell output (no shell was shared)%s",
		                v->status == RECORDING_TRUNCATED ? " in its verified part" : "");
	if ((f = create_output(path)) == NULL)
		return CLI_FAIL;
	snprintf(title, sizeof title, "%s session %s", v->row->ticket_id, v->row->session_id);
	c.w = asciicast_open(f, scan.cols, scan.rows, v->start_utc_us / 1000000, title);
	c.use_legs = scan.shell_legs;
	export_progress_init(&c.progress, "asciicast", v->end_us);
	rc = cli_verified_foreach(v, write_cast_record, &c);
	export_progress_end(&c.progress);
	events = asciicast_events(c.w);
	if (asciicast_close(c.w) < 0 && rc == 0)
		rc = 1;
	if (finish_output(f, path, rc) != CLI_OK)
		return CLI_FAIL;
	printf("asciicast: %s (%" PRIu64 " events, %ux%u%s)\n", path, events, scan.cols, scan.rows,
	       scan.shell_legs ? "" : ", pipe-mode shell output");
	return CLI_OK;
}

/* ---- FBS ---------------------------------------------------------------- */

struct fbs_scan {
	int wanted;            /* stream to export; 0: the first screen leg */
	int found;
	uint64_t start_us;
};

static int is_screen_leg(uint16_t stream)
{
	return stream > SCREEN_STREAM_BASE && stream < SHELL_STREAM_BASE;
}

static int scan_fbs(const struct recording_record *rec, void *arg)
{
	struct fbs_scan *s = arg;

	if (rec->type != RECORDING_RFB_SERVER_BYTES || !is_screen_leg(rec->stream))
		return 0;
	if (s->wanted == 0)
		s->wanted = rec->stream;
	if (rec->stream != s->wanted)
		return 0;
	s->found = 1;
	s->start_us = rec->time_us;
	return 1;
}

struct fbs_write {
	FILE *f;
	int stream;
	uint64_t start_us, blocks, bytes;
	struct export_progress progress;
};

static int write_fbs_record(const struct recording_record *rec, void *arg)
{
	struct fbs_write *w = arg;
	uint64_t ms;

	export_progress_update(&w->progress, rec->time_us);
	if (rec->type != RECORDING_RFB_SERVER_BYTES || rec->stream != w->stream || rec->len == 0)
		return 0;
	ms = (rec->time_us > w->start_us ? rec->time_us - w->start_us : 0) / 1000;
	if (ms > UINT32_MAX)
		ms = UINT32_MAX;
	if (fbs_write_block(w->f, (uint32_t)ms, rec->payload, rec->len) < 0)
		return 1;
	w->blocks++;
	w->bytes += rec->len;
	return 0;
}

static int export_fbs(const struct cli_verified *v, const char *path, int stream)
{
	struct fbs_scan scan = { stream, 0, 0 };
	struct fbs_write w = { 0 };
	int rc;

	if (cli_verified_foreach(v, scan_fbs, &scan) < 0)
		return CLI_FAIL;
	if (!scan.found) {
		if (stream)
			return cli_fail("--fbs: the recording has no screen leg with stream %d (legs are 1001, "
			                "1002, ...; 'concierge recording verify' lists them)", stream);
		return cli_fail("--fbs: the recording has no screen recording (no screen was shared)");
	}
	if ((w.f = create_output(path)) == NULL)
		return CLI_FAIL;
	w.stream = scan.wanted;
	w.start_us = scan.start_us;
	export_progress_init(&w.progress, "fbs", v->end_us);
	rc = fbs_write_header(w.f) < 0 ? 1 : cli_verified_foreach(v, write_fbs_record, &w);
	export_progress_end(&w.progress);
	if (finish_output(w.f, path, rc) != CLI_OK)
		return CLI_FAIL;
	printf("fbs: %s (stream %d, %" PRIu64 " blocks, %" PRIu64 " RFB bytes)\n", path, w.stream, w.blocks,
	       w.bytes);
	return CLI_OK;
}

/* ---- screen: PNG frames, contact sheet, video ----------------------------- */

static int open_screen(const struct cli_verified *v, struct screen_source *src)
{
	const struct replay_info *info;
	const struct replay_leg *leg;
	struct replay_options opts;
	char err[512];

	memset(src, 0, sizeof *src);
	replay_options_default(&opts);
	if (replay_open(v->row->path, &opts, &src->replay, err, sizeof err) < 0)
		return cli_fail("cannot replay %s: %s", v->row->path, err);
	info = replay_info(src->replay);
	if (info->legs == 0) {
		replay_close(src->replay);
		src->replay = NULL;
		return cli_fail("the recording has no screen recording (no screen was shared): nothing to "
		                "export as PNG, contact sheet or video");
	}
	src->duration_us = info->duration_us < v->end_us ? info->duration_us : v->end_us;
	leg = replay_leg(src->replay, 0);
	src->width = leg->width ? leg->width : CARD_WIDTH;
	src->height = leg->height ? leg->height : CARD_HEIGHT;
	src->with_hours = src->duration_us >= UINT64_C(3600000000);
	return CLI_OK;
}

/* Frame times of --png: 0, every, 2 x every, ... and the end. */
static uint64_t png_frame_count(const struct screen_source *src, uint64_t every_us)
{
	uint64_t n = src->duration_us / every_us + 1;

	return src->duration_us % every_us ? n + 1 : n;
}

static uint64_t png_frame_time(const struct screen_source *src, uint64_t every_us, uint64_t i)
{
	uint64_t t = i * every_us;

	return t > src->duration_us ? src->duration_us : t;
}

static void png_frame_path(const char *dir, const struct screen_source *src, uint64_t t, char *out,
                           size_t outlen)
{
	char stamp[TIME_SPEC_TEXT_MAX];

	time_spec_file_stamp(t, src->with_hours, stamp);
	snprintf(out, outlen, "%s/frame-%s.png", dir, stamp);
}

static int check_png_names(const struct export_plan *p, const struct screen_source *src)
{
	char path[PATH_MAX];
	uint64_t n = png_frame_count(src, p->every_us);

	if (n > EXPORT_MAX_PNG_FRAMES)
		return cli_fail("--png every %" PRIu64 " ms gives %" PRIu64 " frames, more than %d: choose a "
		                "longer --every", p->every_us / 1000, n, EXPORT_MAX_PNG_FRAMES);
	for (uint64_t i = 0; i < n; i++) {
		png_frame_path(p->png_dir, src, png_frame_time(src, p->every_us, i), path, sizeof path);
		if (refuse_existing(path) != CLI_OK)
			return CLI_FAIL;
	}
	return CLI_OK;
}

/* The picture of a sample, or a "no picture" card of the screen's size in
 * `card` (width x height, the caller's buffer). */
static const uint32_t *picture_or_card(const struct sampled_frame *f, const struct screen_source *src,
                                       uint32_t *card, unsigned *w, unsigned *h)
{
	if (f->has_picture) {
		*w = f->width;
		*h = f->height;
		return f->pixels;
	}
	*w = src->width;
	*h = src->height;
	frame_image_no_picture(card, src->width, (struct frame_rect){ 0, 0, src->width, src->height });
	return card;
}

static int export_png(const struct export_plan *p, struct screen_source *src)
{
	struct frame_sampler *sampler = frame_sampler_new(src->replay);
	uint32_t *card = xcalloc((size_t)src->width * src->height, sizeof *card);
	uint64_t n = png_frame_count(src, p->every_us), written = 0;
	struct export_progress progress;
	char path[PATH_MAX], err[512];
	int rc = CLI_OK;

	if (mkdir(p->png_dir, 0700) < 0 && errno != EEXIST) {
		rc = cli_fail("cannot create folder %s: %s", p->png_dir, strerror(errno));
		goto out;
	}
	export_progress_init(&progress, "png", src->duration_us);
	for (uint64_t i = 0; i < n && rc == CLI_OK; i++) {
		uint64_t t = png_frame_time(src, p->every_us, i);
		const struct sampled_frame *f;
		const uint32_t *pixels;
		unsigned w, h;

		export_progress_update(&progress, t);
		if (frame_sampler_at(sampler, t, &f, err, sizeof err) < 0) {
			rc = cli_fail("cannot replay the screen at %" PRIu64 " ms: %s", t / 1000, err);
			break;
		}
		pixels = picture_or_card(f, src, card, &w, &h);
		png_frame_path(p->png_dir, src, t, path, sizeof path);
		if (png_write_frame(path, pixels, w, h, w, -1, EXPORT_FILE_MODE, err, sizeof err) < 0)
			rc = cli_fail("cannot write %s: %s", path, err);
		else
			written++;
	}
	export_progress_end(&progress);
	if (rc == CLI_OK)
		printf("png: %" PRIu64 " frames in %s (every %" PRIu64 ".%03" PRIu64 " s and the end)\n", written,
		       p->png_dir, p->every_us / 1000000, p->every_us / 1000 % 1000);
out:
	free(card);
	frame_sampler_free(sampler);
	return rc;
}

static int export_contact_sheet(const char *path, struct screen_source *src)
{
	struct frame_sampler *sampler = frame_sampler_new(src->replay);
	unsigned tiles, sheet_w, sheet_h;
	uint64_t interval = contact_sheet_interval(src->duration_us, CONTACT_SHEET_MAX_TILES, &tiles);
	struct contact_sheet *cs = contact_sheet_new(tiles, src->width, src->height);
	struct export_progress progress;
	const uint32_t *pixels;
	char err[512];
	int rc = CLI_OK;

	export_progress_init(&progress, "contact sheet", src->duration_us);
	for (unsigned i = 0; i < tiles; i++) {
		uint64_t t = (uint64_t)(i + 1) * interval;
		const struct sampled_frame *f;
		char label[TIME_SPEC_TEXT_MAX];

		if (t > src->duration_us)
			t = src->duration_us;
		export_progress_update(&progress, t);
		if (frame_sampler_at(sampler, t, &f, err, sizeof err) < 0) {
			rc = cli_fail("cannot replay the screen at %" PRIu64 " ms: %s", t / 1000, err);
			break;
		}
		time_spec_clock(t, label);
		contact_sheet_put(cs, i, f->has_picture ? f->pixels : NULL, f->width, f->height, f->width, label);
	}
	export_progress_end(&progress);
	if (rc == CLI_OK) {
		pixels = contact_sheet_pixels(cs, &sheet_w, &sheet_h);
		if (png_write_frame(path, pixels, sheet_w, sheet_h, sheet_w, -1, EXPORT_FILE_MODE, err,
		                    sizeof err) < 0)
			rc = cli_fail("cannot write %s: %s", path, err);
		else
			printf("contact sheet: %s (%u tiles every %" PRIu64 " s, %u columns, %ux%u)\n", path, tiles,
			       interval / 1000000, contact_sheet_columns(tiles), sheet_w, sheet_h);
	}
	contact_sheet_free(cs);
	frame_sampler_free(sampler);
	return rc;
}

static int export_video(const struct export_plan *p, struct screen_source *src)
{
	struct frame_sampler *sampler = frame_sampler_new(src->replay);
	uint32_t *canvas = xcalloc((size_t)src->width * src->height, sizeof *canvas);
	struct frame_rect whole = { 0, 0, src->width, src->height };
	uint64_t frames = src->duration_us * VIDEO_DEFAULT_FPS / 1000000 + 1;
	struct export_progress progress;
	struct video_pipe *vp;
	char err[512];
	int rc = CLI_OK;

	vp = video_pipe_open(p->ffmpeg, p->video, src->width, src->height, VIDEO_DEFAULT_FPS, err, sizeof err);
	if (vp == NULL) {
		rc = cli_fail("--video: %s", err);
		goto out;
	}
	export_progress_init(&progress, "video", src->duration_us);
	for (uint64_t i = 0; i < frames; i++) {
		uint64_t t = i * 1000000 / VIDEO_DEFAULT_FPS;
		const struct sampled_frame *f;
		const uint32_t *pixels = canvas;

		export_progress_update(&progress, t);
		if (frame_sampler_at(sampler, t, &f, err, sizeof err) < 0) {
			rc = cli_fail("cannot replay the screen at %" PRIu64 " ms: %s", t / 1000, err);
			break;
		}
		if (!f->has_picture)
			frame_image_no_picture(canvas, src->width, whole);
		else if (f->width == src->width && f->height == src->height)
			pixels = f->pixels;
		else
			frame_image_fit(canvas, src->width, whole, f->pixels, f->width, f->height, f->width);
		if (video_pipe_frame(vp, pixels, src->width, err, sizeof err) < 0) {
			rc = cli_fail("--video: %s", err);
			break;
		}
	}
	export_progress_end(&progress);
	if (rc != CLI_OK) {
		video_pipe_abort(vp);
		unlink(p->video);
	} else if (video_pipe_close(vp, err, sizeof err) < 0) {
		unlink(p->video);
		rc = cli_fail("--video: %s", err);
	} else {
		printf("video: %s (%" PRIu64 " frames at %d fps, %" PRIu64 ".%03" PRIu64 " s, %ux%u)\n", p->video,
		       frames, VIDEO_DEFAULT_FPS, src->duration_us / 1000000, src->duration_us / 1000 % 1000,
		       src->width, src->height);
	}
out:
	free(canvas);
	frame_sampler_free(sampler);
	return rc;
}

/* ---- the command ------------------------------------------------------------ */

int cli_recording_export(struct cli_ctx *ctx)
{
	struct screen_source screen = { 0 };
	struct export_plan plan;
	struct cli_verified v;
	char details[160];
	int rc;

	if ((rc = plan_export(ctx, &plan)) != CLI_OK)
		return rc;
	signal(SIGPIPE, SIG_IGN); /* a dead ffmpeg is an EPIPE we report */
	snprintf(details, sizeof details, "formats=%s", plan.formats);
	if ((rc = cli_verified_open(ctx, ctx->args.pos[0], "export", details, &v)) != CLI_OK)
		return rc;
	if (plan.png_dir || plan.sheet || plan.video) {
		if ((rc = open_screen(&v, &screen)) != CLI_OK)
			goto out;
		if (plan.png_dir && (rc = check_png_names(&plan, &screen)) != CLI_OK)
			goto out;
	}
	if (plan.cast && (rc = export_asciicast(&v, plan.cast)) != CLI_OK)
		goto out;
	if (plan.fbs && (rc = export_fbs(&v, plan.fbs, plan.stream)) != CLI_OK)
		goto out;
	if (plan.png_dir && (rc = export_png(&plan, &screen)) != CLI_OK)
		goto out;
	if (plan.sheet && (rc = export_contact_sheet(plan.sheet, &screen)) != CLI_OK)
		goto out;
	if (plan.video && (rc = export_video(&plan, &screen)) != CLI_OK)
		goto out;
	if (v.status == RECORDING_TRUNCATED) {
		fprintf(stderr, "concierge: exported the verified part only: the recording is truncated (exit 4)\n");
		rc = CLI_TRUNCATED;
	}
out:
	replay_close(screen.replay);
	cli_verified_done(&v);
	return rc;
}
