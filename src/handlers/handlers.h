/*
 * handlers.h - per-worker application state and the route table.
 *
 *   URL                                  handler              file
 *   GET /api/v1/products                 h_products_list      handlers/products.c
 *   GET /api/v1/products/filters/options h_filter_options     handlers/products.c
 *   GET /api/v1/products/{id}            h_product_get        handlers/products.c
 *   GET /api/v1/products/{id}/similar    h_product_similar    handlers/search.c
 *   POST /api/v1/search/text             h_search_text        handlers/search.c
 *   POST /api/v1/search/image            h_search_image       handlers/search.c
 *   POST /api/v1/search/cross-modal      h_search_cross_modal handlers/search.c
 *   GET /api/v1/health                   h_health             handlers/health.c
 *   POST /api/v1/auth/signup|login|logout h_signup, h_login, h_logout  handlers/auth.c
 *   GET /api/v1/me                       h_me                 handlers/auth.c
 *   GET|PUT /api/v1/users/{id}/preferences  h_prefs_get, h_prefs_put  handlers/users.c
 *   GET /api/v1/users/{id}/recommendations  h_recommendations    handlers/users.c
 *   POST|DELETE /api/v1/users/{id}/likes/{product_id}  h_like_add, h_like_delete  handlers/users.c
 */
#ifndef FASHION_HANDLERS_H
#define FASHION_HANDLERS_H

#include "catalog.h"
#include "config.h"
#include "db.h"
#include "router.h"

#define HEALTH_TIMEOUT_MS	2000	/* longest an upstream probe waits */

struct app {
	const struct settings	*cfg;	/* this worker's configuration */
	struct db		 db;	/* persistent connection */
	struct catalog_cache	 cache;	/* counts and facets per data version */
	struct vs_client	*vs;	/* Vector Search, NULL if it failed to set up */
	struct clip_client	*clip;	/* the CLIP endpoint, likewise */
	struct embcache		*emb;	/* query text -> vector, NULL = off */
	struct vs_client	*vs_probe;	/* for /health: no retries, */
	struct clip_client	*clip_probe;	/* at most HEALTH_TIMEOUT_MS */
};

extern const struct route fashiond_routes[];

void	h_products_list(struct request *, struct app *);
void	h_product_get(struct request *, struct app *);
void	h_filter_options(struct request *, struct app *);
void	h_health(struct request *, struct app *);
void	h_product_similar(struct request *, struct app *);
void	h_search_text(struct request *, struct app *);
void	h_search_image(struct request *, struct app *);
void	h_search_cross_modal(struct request *, struct app *);
void	h_signup(struct request *, struct app *);
void	h_login(struct request *, struct app *);
void	h_logout(struct request *, struct app *);
void	h_me(struct request *, struct app *);
void	h_prefs_get(struct request *, struct app *);
void	h_prefs_put(struct request *, struct app *);
void	h_recommendations(struct request *, struct app *);
void	h_like_add(struct request *, struct app *);
void	h_like_delete(struct request *, struct app *);

/*
 * The body of R as a JSON object (json-c; the caller puts it), or NULL
 * with 415 (not application/json) or 400 "invalid_json" set.
 */
struct json_object;
struct json_object *json_body(struct request *r);

/* Map a db.h error to the JSON response (503 down, 500 failed). */
void	reply_db_error(struct request *, int rc);

#endif
