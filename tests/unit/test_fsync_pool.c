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

/* Every test's event base, pool and failure list (cmocka setup/teardown). */
struct fixture {
	struct failures f;
	struct event_base *base;
	struct fsync_pool *pool;   /* NULL once a test freed it itself */
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);

	if (fx == NULL || (fx->base = event_base_new()) == NULL)
		return -1;
	fx->pool = fsync_pool_new(fx->base, record_failure, &fx->f);
	*state = fx;
	return fx->pool ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	fsync_pool_free(fx->pool);
	event_base_free(fx->base);
	free(fx);
	return 0;
}

/* fsync(2) of a pipe fails with EINVAL: a stand-in for a failing disk.
 * Closes the read end; the caller closes the returned write end. */
static int failing_fd(void)
{
	int pipefd[2];

	assert_int_equal(pipe(pipefd), 0);
	close(pipefd[0]);
	return pipefd[1];
}

static void test_files_sync_and_caller_may_close(void **state)
{
	struct fixture *fx = *state;
	char dir[64], path[128];

	assert_int_equal(support_tempdir(dir, sizeof dir, "test_fsync_pool"), 0);
	for (int i = 0; i < 50; i++) {
		int fd;
		snprintf(path, sizeof path, "%s/f%d", dir, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "data", 4), 4);
		assert_int_equal(fsync_pool_submit(fx->pool, fd, (uint64_t)i), 0);
		close(fd); /* the pool holds its own copy */
	}
	wait_settled(fx->base, fx->pool, &fx->f, 0);
	assert_int_equal(fx->f.count, 0);
	assert_int_equal(support_remove_tree(dir), 0);
}

static void test_failure_reaches_the_event_thread_with_its_tag(void **state)
{
	struct fixture *fx = *state;
	int fd = failing_fd();

	assert_int_equal(fsync_pool_submit(fx->pool, fd, 42), 0);
	wait_settled(fx->base, fx->pool, &fx->f, 1);
	assert_int_equal(fx->f.count, 1);
	assert_int_equal(fx->f.tags[0], 42);
	assert_int_equal(fx->f.errors[0], EINVAL);
	close(fd);
}

static void test_free_finishes_queued_work(void **state)
{
	struct fixture *fx = *state;
	int fd = failing_fd();

	for (int i = 0; i < 20; i++)
		assert_int_equal(fsync_pool_submit(fx->pool, fd, (uint64_t)i), 0);
	close(fd);
	fsync_pool_free(fx->pool); /* no loop ran: free itself reports all twenty */
	fx->pool = NULL;
	assert_int_equal(fx->f.count, 20);
}

static void test_bad_descriptor_is_refused(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(fsync_pool_submit(fx->pool, -1, 1), -1); /* dup fails: the caller syncs itself */
	assert_int_equal(fsync_pool_pending(fx->pool), 0);
	fsync_pool_free(fx->pool);
	fx->pool = NULL;
	assert_int_equal(fx->f.count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_files_sync_and_caller_may_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_reaches_the_event_thread_with_its_tag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_finishes_queued_work, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_descriptor_is_refused, setup, teardown),
	};

	if (evthread_use_pthreads() < 0)
		return 1;
	return cmocka_run_group_tests_name("fsync_pool", tests, NULL, NULL);
}
