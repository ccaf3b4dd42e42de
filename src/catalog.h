/*
 * catalog.h - the products tables: qualified names, the column list every
 * product response uses, row -> JSON, and the per-worker caches of totals
 * and facets.  The catalog only changes when fashionctl loads, migrates or
 * syncs it; those NOTIFY, which bumps db.generation and so invalidates
 * every cache entry at once.
 */
#ifndef FASHION_CATALOG_H
#define FASHION_CATALOG_H

#include <stddef.h>

#include <libpq-fe.h>

#include "buf.h"
#include "config.h"

/* Never the embedding columns: they are ~6 KB each as text. */
#define CATALOG_COLUMNS "product_id, gender, master_category, sub_category, " \
	"article_type, base_color, season, year, usage, product_display_name, " \
	"price, image_path"
#define CATALOG_COLUMNS_BRAND CATALOG_COLUMNS ", brand"

#define CACHE_SLOTS 1024

struct count_entry {
	char		*key;		/* profile + SQL + parameter values */
	unsigned long	 gen;		/* db generation it was computed in */
	long long	 count;
};

struct catalog_cache {
	struct count_entry counts[CACHE_SLOTS];
	char		*options[2];	/* filters/options JSON per profile */
	unsigned long	 options_gen[2];
};

/* "schema"."table" for P's products, into BUF.  0 or -1 when too long. */
int	catalog_products_table(const struct profile *p, char *buf, size_t len);

/* "schema"."NAME" for any of P's tables (p->users, p->likes...), into
 * BUF.  0 or -1 when too long. */
int	catalog_table(const struct profile *p, const char *name, char *buf,
	    size_t len);

/*
 * A real[] as PostgreSQL prints it ("{0.1,-2e-05,...}") into V: 0 when it
 * holds exactly DIM finite numbers, else -1.
 */
int	catalog_parse_vector(const char *text, float *v, size_t dim);

/* CATALOG_COLUMNS or CATALOG_COLUMNS_BRAND, as P has a brand column. */
const char *catalog_columns(const struct profile *p);

/*
 * Append row ROW of RES (selected with CATALOG_COLUMNS[_BRAND]) as a JSON
 * object; catalog_product_fields appends its members only ("k":v,...), for
 * callers that add their own (scores) before the closing brace.
 */
void	catalog_product_fields(struct buf *b, const PGresult *res, int row,
	    const struct profile *p);
void	catalog_product_json(struct buf *b, const PGresult *res, int row,
	    const struct profile *p);

int	count_cache_get(struct catalog_cache *, unsigned long gen,
	    const char *key, long long *count);
void	count_cache_put(struct catalog_cache *, unsigned long gen,
	    const char *key, long long count);
void	catalog_cache_free(struct catalog_cache *);

#endif
