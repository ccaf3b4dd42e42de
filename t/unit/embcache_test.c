/* embcache_test.c - the query-embedding LRU cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embcache.h"
#include "tap.h"

static float v[EMBCACHE_DIM];

static const float *
vec(float x)
{
	int i;

	for (i = 0; i < EMBCACHE_DIM; i++)
		v[i] = x + (float)i;
	return v;
}

static int
has(struct embcache *c, const char *k, float x)
{
	const float *p = embcache_get(c, k, strlen(k));

	return p != NULL && p[0] == x && p[EMBCACHE_DIM - 1] == x + EMBCACHE_DIM - 1;
}

int
main(void)
{
	struct embcache *c = embcache_new(3);
	unsigned long hits, misses;
	char key[64], *big;
	int i, all;

	ok(c != NULL, "cache of 3");
	ok(embcache_new(0) == NULL, "capacity 0 refused");
	ok(embcache_get(c, "red dress", 9) == NULL, "empty cache: miss");
	ok(embcache_put(c, "red dress", 9, vec(1)) == EMBCACHE_OK, "put");
	ok(has(c, "red dress", 1), "get returns the vector");
	ok(embcache_get(c, "Red dress", 9) == NULL, "keys are exact bytes");
	ok(embcache_get(c, "red dres", 8) == NULL, "a prefix is another key");
	embcache_put(c, "blue jeans", 10, vec(2));
	embcache_put(c, "black watch", 11, vec(3));
	ok(embcache_count(c) == 3, "three entries");
	ok(has(c, "red dress", 1), "red dress used again: most recent");
	embcache_put(c, "pink top", 8, vec(4));	/* evicts blue jeans */
	ok(embcache_count(c) == 3, "still three entries after a fourth put");
	ok(embcache_get(c, "blue jeans", 10) == NULL,
	    "the least recently used entry was evicted");
	ok(has(c, "red dress", 1) && has(c, "black watch", 3) &&
	    has(c, "pink top", 4), "the others stay");
	embcache_put(c, "pink top", 8, vec(9));
	ok(has(c, "pink top", 9) && embcache_count(c) == 3,
	    "put on an existing key replaces its vector");
	ok(embcache_put(c, "x", 1, vec(5)) == EMBCACHE_OK &&
	    embcache_get(c, "red dress", 9) == NULL,
	    "red dress (least recent after the reads) goes next");

	if ((big = malloc(EMBCACHE_MAX_KEY + 2)) != NULL) {
		memset(big, 'a', EMBCACHE_MAX_KEY + 1);
		ok(embcache_put(c, big, EMBCACHE_MAX_KEY + 1, vec(6)) ==
		    EMBCACHE_ERROR, "a key over the limit is not cached");
		ok(embcache_put(c, big, EMBCACHE_MAX_KEY, vec(7)) ==
		    EMBCACHE_OK && embcache_get(c, big, EMBCACHE_MAX_KEY) !=
		    NULL, "a key at the limit is");
		free(big);
	}
	ok(embcache_put(c, "", 0, vec(8)) == EMBCACHE_OK && has(c, "", 8),
	    "the empty key works");

	embcache_clear(c);
	ok(embcache_count(c) == 0 && embcache_get(c, "x", 1) == NULL,
	    "clear empties it");
	embcache_stats(c, &hits, &misses);
	ok(hits > 0 && misses > 0, "hit/miss counters (%lu/%lu)", hits, misses);
	embcache_free(c);

	/* Many keys through a small cache: only the last CAP remain. */
	c = embcache_new(100);
	for (i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "query %d", i);
		embcache_put(c, key, strlen(key), vec((float)i));
	}
	all = embcache_count(c) == 100;
	for (i = 9900; i < 10000 && all; i++) {
		snprintf(key, sizeof(key), "query %d", i);
		all = has(c, key, (float)i);
	}
	ok(all, "after 10,000 puts the last 100 are all there");
	snprintf(key, sizeof(key), "query %d", 9899);
	ok(embcache_get(c, key, strlen(key)) == NULL, "and the one before is not");
	embcache_free(c);
	embcache_free(NULL);
	return done_testing();
}
