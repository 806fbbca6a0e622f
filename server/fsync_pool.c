#include "fsync_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "concierge_limits.h"
#include "log.h"
#include "xmalloc.h"

struct fsync_job {
	int fd;
	int error_number; /* set by the worker when the fsync failed */
	uint64_t tag;
	struct fsync_job *next;
};

struct fsync_pool {
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct fsync_job *queue, *queue_tail; /* waiting for a worker */
	struct fsync_job *failed;             /* waiting for the event thread */
	unsigned queued, running;
	int stopping;
	pthread_t threads[FSYNC_POOL_THREADS];
	unsigned nthreads;
	struct event *failure_event;
	fsync_failure_fn on_failure;
	void *arg;
};

static void *worker(void *arg)
{
	struct fsync_pool *pool = arg;

	pthread_mutex_lock(&pool->lock);
	for (;;) {
		struct fsync_job *job;
		int rc;

		while (pool->queue == NULL && !pool->stopping)
			pthread_cond_wait(&pool->work, &pool->lock);
		if (pool->queue == NULL)
			break; /* stopping and nothing left */
		job = pool->queue;
		pool->queue = job->next;
		if (pool->queue == NULL)
			pool->queue_tail = NULL;
		pool->queued--;
		pool->running++;
		pthread_mutex_unlock(&pool->lock);

		rc = fsync(job->fd);
		job->error_number = rc < 0 ? errno : 0;
		close(job->fd);

		pthread_mutex_lock(&pool->lock);
		pool->running--;
		if (job->error_number) {
			job->next = pool->failed;
			pool->failed = job;
			event_active(pool->failure_event, EV_READ, 0);
		} else {
			free(job);
		}
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

/* Event thread: report failed fsyncs, outside the lock. */
static void deliver_failures(evutil_socket_t fd, short what, void *arg)
{
	struct fsync_pool *pool = arg;
	struct fsync_job *list;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&pool->lock);
	list = pool->failed;
	pool->failed = NULL;
	pthread_mutex_unlock(&pool->lock);
	while (list) {
		struct fsync_job *next = list->next;
		pool->on_failure(list->tag, list->error_number, pool->arg);
		free(list);
		list = next;
	}
}

struct fsync_pool *fsync_pool_new(struct event_base *base, fsync_failure_fn on_failure, void *arg)
{
	struct fsync_pool *pool = xcalloc(1, sizeof *pool);

	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->work, NULL);
	pool->on_failure = on_failure;
	pool->arg = arg;
	pool->failure_event = event_new(base, -1, 0, deliver_failures, pool);
	if (pool->failure_event == NULL) {
		fsync_pool_free(pool);
		return NULL;
	}
	for (unsigned i = 0; i < FSYNC_POOL_THREADS; i++) {
		if (pthread_create(&pool->threads[i], NULL, worker, pool) != 0) {
			log_error("event=fsync_pool_failed why=\"cannot start a thread\"");
			fsync_pool_free(pool);
			return NULL;
		}
		pool->nthreads++;
	}
	return pool;
}

int fsync_pool_submit(struct fsync_pool *pool, int fd, uint64_t tag)
{
	struct fsync_job *job;
	int copy;

	pthread_mutex_lock(&pool->lock);
	if (pool->queued >= FSYNC_POOL_MAX_QUEUED || pool->stopping) {
		pthread_mutex_unlock(&pool->lock);
		return -1;
	}
	pthread_mutex_unlock(&pool->lock);
	copy = dup(fd);
	if (copy < 0)
		return -1;
	job = xcalloc(1, sizeof *job);
	job->fd = copy;
	job->tag = tag;
	pthread_mutex_lock(&pool->lock);
	if (pool->queue_tail)
		pool->queue_tail->next = job;
	else
		pool->queue = job;
	pool->queue_tail = job;
	pool->queued++;
	pthread_cond_signal(&pool->work);
	pthread_mutex_unlock(&pool->lock);
	return 0;
}

unsigned fsync_pool_pending(struct fsync_pool *pool)
{
	unsigned n;

	pthread_mutex_lock(&pool->lock);
	n = pool->queued + pool->running;
	pthread_mutex_unlock(&pool->lock);
	return n;
}

void fsync_pool_free(struct fsync_pool *pool)
{
	if (pool == NULL)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->stopping = 1;
	pthread_cond_broadcast(&pool->work);
	pthread_mutex_unlock(&pool->lock);
	for (unsigned i = 0; i < pool->nthreads; i++)
		pthread_join(pool->threads[i], NULL);
	/* Workers drained the queue before leaving; report what failed. */
	if (pool->failure_event) {
		deliver_failures(-1, 0, pool);
		event_free(pool->failure_event);
	}
	pthread_cond_destroy(&pool->work);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}
