/* Unit tests for server/fsync_pool: queued fsyncs run on worker threads, the
 * caller may close its descriptor at once, failures come back on the event
 * thread with their tag, and free waits for what was queued. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsync_pool.h"
#include "support.h"

#define WAIT_LIMIT_MS 5000

struct failures {
	int count;
	uint64_t tags[8];
	int errors[8];
};

static void record_failure(uint64_t tag, int error_number, void *arg)
{
	struct failures *f = arg;

	if (f->count < 8) {
		f->tags[f->count] = tag;
		f->errors[f->count] = error_number;
	}
	f->count++;
}

/* Runs the loop until the pool is idle and `want` failures arrived, or the limit. */
static void wait_settled(struct event_base *base, struct fsync_pool *pool, struct failures *f, int want)
{
	for (int ms = 0; ms < WAIT_LIMIT_MS; ms += 5) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (fsync_pool_pending(pool) == 0 && f->count >= want)
			return;
		usleep(5000);
	}
	fail_msg("the pool did not settle: %u pending, %d failures", fsync_pool_pending(pool), f->count);
}

static void test_files_sync_and_caller_may_close(void **state)
{
	char dir[64], path[128];
	struct failures f = { 0 };
	struct event_base *base = event_base_new();
	struct fsync_pool *pool = fsync_pool_new(base, record_failure, &f);

	(void)state;
	assert_non_null(pool);
	assert_int_equal(support_tempdir(dir, sizeof dir, "test_fsync_pool"), 0);
	for (int i = 0; i < 50; i++) {
		int fd;
		snprintf(path, sizeof path, "%s/f%d", dir, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "data", 4), 4);
		assert_int_equal(fsync_pool_submit(pool, fd, (uint64_t)i), 0);
		close(fd); /* the pool holds its own copy */
	}
	wait_settled(base, pool, &f, 0);
	assert_int_equal(f.count, 0);
	fsync_pool_free(pool);
	event_base_free(base);
	assert_int_equal(support_remove_tree(dir), 0);
}

static void test_failure_reaches_the_event_thread_with_its_tag(void **state)
{
	int pipefd[2];
	struct failures f = { 0 };
	struct event_base *base = event_base_new();
	struct fsync_pool *pool = fsync_pool_new(base, record_failure, &f);

	(void)state;
	assert_non_null(pool);
	assert_int_equal(pipe(pipefd), 0);
	/* fsync(2) of a pipe fails with EINVAL: a stand-in for a failing disk. */
	assert_int_equal(fsync_pool_submit(pool, pipefd[1], 42), 0);
	wait_settled(base, pool, &f, 1);
	assert_int_equal(f.count, 1);
	assert_int_equal(f.tags[0], 42);
	assert_int_equal(f.errors[0], EINVAL);
	close(pipefd[0]);
	close(pipefd[1]);
	fsync_pool_free(pool);
	event_base_free(base);
}

static void test_free_finishes_queued_work(void **state)
{
	int pipefd[2];
	struct failures f = { 0 };
	struct event_base *base = event_base_new();
	struct fsync_pool *pool = fsync_pool_new(base, record_failure, &f);

	(void)state;
	assert_non_null(pool);
	assert_int_equal(pipe(pipefd), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(fsync_pool_submit(pool, pipefd[1], (uint64_t)i), 0);
	close(pipefd[0]);
	close(pipefd[1]);
	fsync_pool_free(pool); /* no loop ran: free itself reports all twenty */
	assert_int_equal(f.count, 20);
	event_base_free(base);
}

static void test_bad_descriptor_is_refused(void **state)
{
	struct failures f = { 0 };
	struct event_base *base = event_base_new();
	struct fsync_pool *pool = fsync_pool_new(base, record_failure, &f);

	(void)state;
	assert_int_equal(fsync_pool_submit(pool, -1, 1), -1); /* dup fails: the caller syncs itself */
	assert_int_equal(fsync_pool_pending(pool), 0);
	fsync_pool_free(pool);
	assert_int_equal(f.count, 0);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files_sync_and_caller_may_close),
		cmocka_unit_test(test_failure_reaches_the_event_thread_with_its_tag),
		cmocka_unit_test(test_free_finishes_queued_work),
		cmocka_unit_test(test_bad_descriptor_is_refused),
	};

	if (evthread_use_pthreads() < 0)
		return 1;
	return cmocka_run_group_tests_name("fsync_pool", tests, NULL, NULL);
}
