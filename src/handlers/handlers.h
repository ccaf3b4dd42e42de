/*
 * handlers.h - per-worker application state and the route table.
 *
 *   URL                                  handler              file
 *   GET /api/v1/products                 h_products_list      handlers/products.c
 *   GET /api/v1/products/filters/options h_filter_options     handlers/products.c
 *   GET /api/v1/products/{id}            h_product_get        handlers/products.c
 *   GET /api/v1/health                   h_health             handlers/health.c
 */
#ifndef FASHION_HANDLERS_H
#define FASHION_HANDLERS_H

#include "catalog.h"
#include "config.h"
#include "db.h"
#include "router.h"

struct app {
	const struct settings	*cfg;	/* this worker's configuration */
	struct db		 db;	/* persistent connection */
	struct catalog_cache	 cache;	/* counts and facets per data version */
};

extern const struct route fashiond_routes[];

void	h_products_list(struct request *, struct app *);
void	h_product_get(struct request *, struct app *);
void	h_filter_options(struct request *, struct app *);
void	h_health(struct request *, struct app *);

/* Map a db.h error to the JSON response (503 down, 500 failed). */
void	reply_db_error(struct request *, int rc);

#endif
