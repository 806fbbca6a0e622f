/* Unit tests for server/key_index: keys are found in their slots, removed
 * slots are forgotten and reusable, many keys share few buckets, and long
 * keys are cut to KEY_INDEX_KEY_MAX - 1 bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "key_index.h"

static void test_put_find_remove(void **state)
{
	struct key_index *index = key_index_new(4);

	(void)state;
	assert_int_equal(key_index_find(index, "10.0.0.1"), -1);
	key_index_put(index, 2, "10.0.0.1");
	key_index_put(index, 0, "10.0.0.2");
	assert_int_equal(key_index_find(index, "10.0.0.1"), 2);
	assert_int_equal(key_index_find(index, "10.0.0.2"), 0);
	assert_int_equal(key_index_find(index, "10.0.0.3"), -1);
	key_index_remove(index, 2);
	key_index_remove(index, 2); /* already empty: nothing */
	assert_int_equal(key_index_find(index, "10.0.0.1"), -1);
	assert_int_equal(key_index_find(index, "10.0.0.2"), 0);
	key_index_put(index, 2, "10.0.0.3"); /* the slot is reused */
	assert_int_equal(key_index_find(index, "10.0.0.3"), 2);
	key_index_free(index);
}

/* A full index churned through many keys: every filed key is found in its
 * slot and no removed one lingers, whichever bucket chains they share. */
static void test_churn(void **state)
{
	enum { SLOTS = 64, KEYS = 5000 };
	struct key_index *index = key_index_new(SLOTS);
	char key[32];

	(void)state;
	for (int i = 0; i < KEYS; i++) {
		snprintf(key, sizeof key, "192.0.2.%d", i);
		if (i >= SLOTS) {
			char old[32];
			snprintf(old, sizeof old, "192.0.2.%d", i - SLOTS);
			assert_int_equal(key_index_find(index, old), (i - SLOTS) % SLOTS);
			key_index_remove(index, i % SLOTS);
			assert_int_equal(key_index_find(index, old), -1);
		}
		key_index_put(index, i % SLOTS, key);
	}
	for (int i = KEYS - SLOTS; i < KEYS; i++) {
		snprintf(key, sizeof key, "192.0.2.%d", i);
		assert_int_equal(key_index_find(index, key), i % SLOTS);
	}
	key_index_free(index);
}

static void test_long_keys_are_cut(void **state)
{
	struct key_index *index = key_index_new(2);
	char a[KEY_INDEX_KEY_MAX + 20], b[KEY_INDEX_KEY_MAX + 20];

	(void)state;
	memset(a, 'a', sizeof a - 1);
	a[sizeof a - 1] = '\0';
	memcpy(b, a, sizeof b);
	b[KEY_INDEX_KEY_MAX + 5] = 'b'; /* differs only past the cut */
	key_index_put(index, 1, a);
	assert_int_equal(key_index_find(index, b), 1);
	b[KEY_INDEX_KEY_MAX - 2] = 'b'; /* differs inside the kept part */
	assert_int_equal(key_index_find(index, b), -1);
	key_index_free(index);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_find_remove),
		cmocka_unit_test(test_churn),
		cmocka_unit_test(test_long_keys_are_cut),
	};

	return cmocka_run_group_tests_name("key_index", tests, NULL, NULL);
}
