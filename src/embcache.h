/*
 * embcache.h - a bounded LRU cache of text -> embedding, one per worker,
 * so a repeated search query skips the call to the CLIP endpoint.
 *
 * Keys are the exact bytes of the query (callers normalise first if they
 * want "Red Dress" and "red dress" to share an entry); values are
 * EMBCACHE_DIM floats.  Not thread-safe: workers are single-threaded.
 */
#ifndef FASHION_EMBCACHE_H
#define FASHION_EMBCACHE_H

#include <stddef.h>

#define EMBCACHE_OK	 0
#define EMBCACHE_ERROR	-1	/* out of memory, or key too long to cache */

#define EMBCACHE_DIM	 512
#define EMBCACHE_MAX_KEY 2048	/* longer keys are never cached */

struct embcache;

/* A cache of at most CAP entries (>= 1); NULL when out of memory. */
struct embcache	*embcache_new(size_t cap);
void		 embcache_free(struct embcache *);	/* NULL is ok */

/*
 * The vector cached for KEY (LEN bytes), now the most recently used, or
 * NULL.  Valid until the next embcache_put or embcache_clear.
 */
const float	*embcache_get(struct embcache *, const char *key, size_t len);

/* Cache VEC under KEY, evicting the least recently used entry if full. */
int		 embcache_put(struct embcache *, const char *key, size_t len,
		    const float *vec);

/* Drop every entry (the model behind the vectors changed). */
void		 embcache_clear(struct embcache *);

size_t		 embcache_count(const struct embcache *);
/* Lookups that found / did not find their key, since creation. */
void		 embcache_stats(const struct embcache *, unsigned long *hits,
		    unsigned long *misses);

#endif
