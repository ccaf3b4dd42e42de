/* embcache.c - see embcache.h */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "embcache.h"

#define NIL	SIZE_MAX

struct entry {
	char	*key;		/* NULL: free slot */
	size_t	 len;
	uint32_t hash;
	size_t	 next_hash;	/* bucket chain */
	size_t	 prev, next;	/* LRU list: head = most recent */
	float	 vec[EMBCACHE_DIM];
};

struct embcache {
	struct entry	*e;		/* [cap] */
	size_t		 cap, n;
	size_t		*bucket;	/* [nbuckets] first entry, NIL */
	size_t		 nbuckets;	/* power of two >= 2 * cap */
	size_t		 head, tail;	/* LRU ends */
	unsigned long	 hits, misses;
};

static uint32_t
hash(const char *s, size_t n)
{
	uint32_t h = 0x811c9dc5u;

	while (n-- > 0) {
		h ^= (unsigned char)*s++;
		h *= 0x01000193u;
	}
	return h;
}

struct embcache *
embcache_new(size_t cap)
{
	struct embcache *c;

	if (cap == 0 || cap > (SIZE_MAX / 4) / sizeof(struct entry) ||
	    (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->cap = cap;
	for (c->nbuckets = 2; c->nbuckets < 2 * cap; c->nbuckets *= 2)
		;
	c->e = calloc(cap, sizeof(*c->e));
	c->bucket = malloc(c->nbuckets * sizeof(*c->bucket));
	if (c->e == NULL || c->bucket == NULL) {
		embcache_free(c);
		return NULL;
	}
	embcache_clear(c);
	return c;
}

void
embcache_free(struct embcache *c)
{
	size_t i;

	if (c == NULL)
		return;
	if (c->e != NULL)
		for (i = 0; i < c->cap; i++)
			free(c->e[i].key);
	free(c->e);
	free(c->bucket);
	free(c);
}

void
embcache_clear(struct embcache *c)
{
	size_t i;

	for (i = 0; i < c->cap; i++) {
		free(c->e[i].key);
		c->e[i].key = NULL;
	}
	for (i = 0; i < c->nbuckets; i++)
		c->bucket[i] = NIL;
	c->n = 0;
	c->head = c->tail = NIL;
}

static void
lru_unlink(struct embcache *c, size_t i)
{
	struct entry *x = &c->e[i];

	if (x->prev != NIL)
		c->e[x->prev].next = x->next;
	else
		c->head = x->next;
	if (x->next != NIL)
		c->e[x->next].prev = x->prev;
	else
		c->tail = x->prev;
}

static void
lru_push_front(struct embcache *c, size_t i)
{
	c->e[i].prev = NIL;
	c->e[i].next = c->head;
	if (c->head != NIL)
		c->e[c->head].prev = i;
	c->head = i;
	if (c->tail == NIL)
		c->tail = i;
}

static size_t
find(const struct embcache *c, const char *key, size_t len, uint32_t h)
{
	size_t i;

	for (i = c->bucket[h & (c->nbuckets - 1)]; i != NIL;
	    i = c->e[i].next_hash)
		if (c->e[i].hash == h && c->e[i].len == len &&
		    memcmp(c->e[i].key, key, len) == 0)
			return i;
	return NIL;
}

/* Take entry I out of its hash chain. */
static void
unchain(struct embcache *c, size_t i)
{
	size_t *p = &c->bucket[c->e[i].hash & (c->nbuckets - 1)];

	while (*p != i)
		p = &c->e[*p].next_hash;
	*p = c->e[i].next_hash;
}

const float *
embcache_get(struct embcache *c, const char *key, size_t len)
{
	size_t i;

	if (len > EMBCACHE_MAX_KEY ||
	    (i = find(c, key, len, hash(key, len))) == NIL) {
		c->misses++;
		return NULL;
	}
	c->hits++;
	lru_unlink(c, i);
	lru_push_front(c, i);
	return c->e[i].vec;
}

int
embcache_put(struct embcache *c, const char *key, size_t len,
    const float *vec)
{
	uint32_t h = hash(key, len);
	size_t i, b;
	char *k;

	if (len > EMBCACHE_MAX_KEY)
		return EMBCACHE_ERROR;
	if ((i = find(c, key, len, h)) != NIL) {	/* refresh */
		memcpy(c->e[i].vec, vec, sizeof(c->e[i].vec));
		lru_unlink(c, i);
		lru_push_front(c, i);
		return EMBCACHE_OK;
	}
	if ((k = malloc(len + 1)) == NULL)
		return EMBCACHE_ERROR;
	memcpy(k, key, len);
	k[len] = '\0';
	if (c->n < c->cap)
		i = c->n++;
	else {				/* evict the least recently used */
		i = c->tail;
		lru_unlink(c, i);
		unchain(c, i);
		free(c->e[i].key);
	}
	c->e[i].key = k;
	c->e[i].len = len;
	c->e[i].hash = h;
	memcpy(c->e[i].vec, vec, sizeof(c->e[i].vec));
	b = h & (c->nbuckets - 1);
	c->e[i].next_hash = c->bucket[b];
	c->bucket[b] = i;
	lru_push_front(c, i);
	return EMBCACHE_OK;
}

size_t
embcache_count(const struct embcache *c)
{
	return c->n;
}

void
embcache_stats(const struct embcache *c, unsigned long *hits,
    unsigned long *misses)
{
	*hits = c->hits;
	*misses = c->misses;
}
