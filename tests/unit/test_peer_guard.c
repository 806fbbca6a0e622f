/*
 * peer_guard.h: the per-source and total caps on pending connections
 * (admit up to the cap, refuse beyond it, a release frees exactly one
 * slot), failure windows (refused at the limit, admitted again when the
 * window ends), other addresses unaffected, and a full address table
 * (an idle address is forgotten, busy ones are not).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

#include "peer_guard.h"

static const struct peer_guard_limits small = {
	.max_total = 5, .max_per_source = 3, .failures_per_source = 4, .window_s = 60, .sources_tracked = 8,
};

static void test_per_source_cap(void **state)
{
	struct peer_guard *g = peer_guard_new(&small);

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(peer_guard_admit(g, "10.0.0.1", 100), PEER_ADMIT);
	assert_int_equal(peer_guard_admit(g, "10.0.0.1", 100), PEER_TOO_MANY_FROM_SOURCE);
	assert_int_equal(peer_guard_pending(g, "10.0.0.1"), 3);
	/* Another address still gets in. */
	assert_int_equal(peer_guard_admit(g, "10.0.0.2", 100), PEER_ADMIT);
	peer_guard_release(g, "10.0.0.1");
	assert_int_equal(peer_guard_pending(g, "10.0.0.1"), 2);
	assert_int_equal(peer_guard_admit(g, "10.0.0.1", 100), PEER_ADMIT);
	assert_int_equal(peer_guard_admit(g, "10.0.0.1", 100), PEER_TOO_MANY_FROM_SOURCE);
	peer_guard_free(g);
}

static void test_total_cap(void **state)
{
	struct peer_guard *g = peer_guard_new(&small);
	char source[32];

	(void)state;
	for (int i = 0; i < 5; i++) {
		snprintf(source, sizeof source, "10.0.1.%d", i);
		assert_int_equal(peer_guard_admit(g, source, 100), PEER_ADMIT);
	}
	assert_int_equal(peer_guard_pending(g, NULL), 5);
	assert_int_equal(peer_guard_admit(g, "10.0.1.9", 100), PEER_TOO_MANY);
	peer_guard_release(g, "10.0.1.3");
	assert_int_equal(peer_guard_pending(g, NULL), 4);
	assert_int_equal(peer_guard_admit(g, "10.0.1.9", 100), PEER_ADMIT);
	/* A release for an address with nothing pending changes nothing. */
	peer_guard_release(g, "10.0.1.3");
	peer_guard_release(g, "192.0.2.1");
	assert_int_equal(peer_guard_pending(g, NULL), 5);
	peer_guard_free(g);
}

static void test_failure_window(void **state)
{
	struct peer_guard *g = peer_guard_new(&small);

	(void)state;
	for (int i = 0; i < 3; i++)
		peer_guard_failure(g, "10.0.2.1", 1000 + i);
	assert_int_equal(peer_guard_admit(g, "10.0.2.1", 1010), PEER_ADMIT);
	peer_guard_release(g, "10.0.2.1");
	peer_guard_failure(g, "10.0.2.1", 1020);
	assert_int_equal(peer_guard_admit(g, "10.0.2.1", 1030), PEER_PENALISED);
	assert_int_equal(peer_guard_admit(g, "10.0.2.2", 1030), PEER_ADMIT);
	/* Still inside the window that started at 1000. */
	assert_int_equal(peer_guard_admit(g, "10.0.2.1", 1059), PEER_PENALISED);
	/* The window ended: admitted again, failures start from zero. */
	assert_int_equal(peer_guard_admit(g, "10.0.2.1", 1060), PEER_ADMIT);
	for (int i = 0; i < 3; i++)
		peer_guard_failure(g, "10.0.2.1", 1061);
	assert_int_equal(peer_guard_admit(g, "10.0.2.1", 1062), PEER_ADMIT);
	peer_guard_free(g);
}

static void test_full_table(void **state)
{
	struct peer_guard_limits limits = small;
	struct peer_guard *g;
	char source[32];

	(void)state;
	limits.max_total = 100;
	limits.sources_tracked = 3;
	g = peer_guard_new(&limits);
	/* Three busy addresses fill the table: a fourth is refused as busy. */
	for (int i = 0; i < 3; i++) {
		snprintf(source, sizeof source, "10.0.3.%d", i);
		assert_int_equal(peer_guard_admit(g, source, 100 + i), PEER_ADMIT);
	}
	assert_int_equal(peer_guard_admit(g, "10.0.3.9", 110), PEER_BUSY);
	/* Once one is idle, it is forgotten for the newcomer ... */
	peer_guard_release(g, "10.0.3.1");
	assert_int_equal(peer_guard_admit(g, "10.0.3.9", 111), PEER_ADMIT);
	/* ... and the busy ones keep their counts. */
	assert_int_equal(peer_guard_pending(g, "10.0.3.0"), 1);
	assert_int_equal(peer_guard_pending(g, "10.0.3.2"), 1);
	assert_int_equal(peer_guard_pending(g, "10.0.3.1"), 0);
	assert_int_equal(peer_guard_pending(g, NULL), 3);
	peer_guard_free(g);
}

/* Far more addresses than the table holds go through it (each forgotten
 * address leaves its hash chain): the remembered ones are still found with
 * their own counts, the forgotten ones start afresh. */
static void test_churn_through_a_small_table(void **state)
{
	struct peer_guard_limits limits = small;
	struct peer_guard *g;
	char source[32];

	(void)state;
	limits.sources_tracked = 4;
	limits.failures_per_source = 1000;
	g = peer_guard_new(&limits);
	for (int i = 0; i < 1000; i++) {
		snprintf(source, sizeof source, "10.0.5.%d", i);
		peer_guard_failure(g, source, 100 + i);
		peer_guard_failure(g, source, 100 + i);
		assert_int_equal(peer_guard_admit(g, source, 100 + i), PEER_ADMIT);
		peer_guard_release(g, source);
	}
	/* Failures stay with their address: the last four remembered keep
	 * their two each, the first one was forgotten. */
	limits.failures_per_source = 2;
	peer_guard_free(g);
	g = peer_guard_new(&limits);
	for (int i = 0; i < 1000; i++) {
		snprintf(source, sizeof source, "10.0.6.%d", i);
		peer_guard_failure(g, source, 100 + i);
		peer_guard_failure(g, source, 100 + i);
	}
	for (int i = 996; i < 1000; i++) {
		snprintf(source, sizeof source, "10.0.6.%d", i);
		assert_int_equal(peer_guard_admit(g, source, 1100), PEER_PENALISED);
	}
	assert_int_equal(peer_guard_admit(g, "10.0.6.0", 1100), PEER_ADMIT); /* forgotten */
	assert_int_equal(peer_guard_pending(g, NULL), 1);
	peer_guard_free(g);
}

/* peer_guard_penalised answers what admit would refuse, without admitting,
 * and a new window forgives. */
static void test_penalised_query(void **state)
{
	struct peer_guard *g = peer_guard_new(&small);

	(void)state;
	assert_int_equal(peer_guard_penalised(g, "10.0.7.1", 100), 0);
	for (int i = 0; i < 3; i++)
		peer_guard_failure(g, "10.0.7.1", 100);
	assert_int_equal(peer_guard_penalised(g, "10.0.7.1", 100), 0);
	peer_guard_failure(g, "10.0.7.1", 100);
	assert_int_equal(peer_guard_penalised(g, "10.0.7.1", 100), 1);
	assert_int_equal(peer_guard_penalised(g, "10.0.7.2", 100), 0);
	assert_int_equal(peer_guard_pending(g, NULL), 0);
	assert_int_equal(peer_guard_penalised(g, "10.0.7.1", 160), 0);
	peer_guard_free(g);
}

static void test_verdict_names(void **state)
{
	(void)state;
	assert_string_equal(peer_verdict_name(PEER_TOO_MANY), "too_many_preauth");
	assert_string_equal(peer_verdict_name(PEER_TOO_MANY_FROM_SOURCE), "too_many_preauth_from_source");
	assert_string_equal(peer_verdict_name(PEER_PENALISED), "too_many_failures_from_source");
	assert_string_equal(peer_verdict_name(PEER_BUSY), "source_table_full");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_source_cap),
		cmocka_unit_test(test_total_cap),
		cmocka_unit_test(test_failure_window),
		cmocka_unit_test(test_full_table),
		cmocka_unit_test(test_churn_through_a_small_table),
		cmocka_unit_test(test_penalised_query),
		cmocka_unit_test(test_verdict_names),
	};

	return cmocka_run_group_tests_name("peer_guard", tests, NULL, NULL);
}
