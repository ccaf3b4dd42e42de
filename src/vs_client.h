/*
 * vs_client.h - the Databricks Vector Search REST API (2.0), as fashiond
 * speaks it to the product indexes (fashion-vsd locally):
 *
 *   POST {vs.url}/api/2.0/vector-search/indexes/{index}/query
 *   {"query_vector": [floats], "columns": ["product_id"],
 *    "num_results": N, "filters_json": "{\"gender\": \"Men\"}",
 *    "query_type": "ANN"}
 *   -> 200 {"manifest": {"column_count": 2, "columns": [{"name":
 *          "product_id"}, {"name": "score"}]}, "result": {"row_count": N,
 *          "data_array": [[15970, 0.93], ...]}, "next_page_token": "..."}
 *
 *   POST .../indexes/{index}/query-next-page
 *   {"endpoint_name": "...", "page_token": "..."}  -> the same shape
 *
 *   GET  .../indexes/{index}       -> {"status": {"ready", "indexed_row_count",
 *                                      "detailed_state", "message"}, ...}
 *   POST .../indexes/{index}/sync  {} -> {}
 *
 *   -> 4xx/5xx {"error_code": "...", "message": "..."}
 *
 * The score is the last element of each row.  Index names are
 * percent-encoded in the path (outside [A-Za-z0-9._-]).  Uses
 * http_client.h (timeouts, retries on 429/503/504, bearer token from
 * vs.token_env); one client per thread.
 */
#ifndef FASHION_VS_CLIENT_H
#define FASHION_VS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Results of the vs_* calls. */
#define VS_OK		 0
#define VS_DOWN		-1	/* unreachable, or 429/5xx still there after the retries */
#define VS_TIMEOUT	-2	/* no answer in time (or 504/408) */
#define VS_BAD		-3	/* 400-class refusal (bad filter/column...) or malformed answer */
#define VS_NOTFOUND	-4	/* 404: no such index */
#define VS_ERROR	-5	/* local failure: out of memory, bad URL */

#define VS_MAX_RESULTS	10000	/* most results one query may ask for */
#define VS_TOKEN_MAX	65536	/* longest next_page_token accepted, bytes */

/* One result row: the primary key and its similarity score. */
struct vs_hit {
	int64_t		 id;
	double		 score;
};

struct vs_client;

/* A client for the service at cfg->vs_url; NULL with a reason in ERR. */
struct vs_client *vs_client_new(const struct settings *cfg, char *err,
	    size_t errlen);
void	vs_client_free(struct vs_client *);

/*
 * Query INDEX with VEC (DIM floats, all finite) for up to NUM
 * (1..VS_MAX_RESULTS) nearest rows, asking only for column KEY (the
 * primary key, e.g. "product_id").  FILTERS_JSON is NULL/"" or the text
 * of a JSON object, sent as the filters_json string.  Follows
 * next_page_token pages (query-next-page on ENDPOINT, the Vector Search
 * endpoint name) until NUM hits or no more pages.  Hits best first into
 * OUT[NUM], their count into *NOUT.  VS_OK, or another VS_* with a message
 * in ERR (the server's "message" when it sent one); invalid arguments are
 * VS_ERROR.
 */
int	vs_query(struct vs_client *, const char *endpoint, const char *index,
	    const float *vec, size_t dim, const char *key,
	    const char *filters_json, size_t num, struct vs_hit *out,
	    size_t *nout, char *err, size_t errlen);

/*
 * GET the index: *READY (status.ready, 0 if absent), *ROWS
 * (status.indexed_row_count, -1 if absent), STATE (status.detailed_state,
 * "" if absent; cut to STATELEN - 1 bytes, non-printable bytes as ' ').
 */
int	vs_describe(struct vs_client *, const char *index, int *ready,
	    long long *rows, char *state, size_t statelen, char *err,
	    size_t errlen);

/* Ask for a sync of a Delta Sync index (POST .../sync). */
int	vs_sync(struct vs_client *, const char *index, char *err,
	    size_t errlen);

/*
 * Pure parser, exposed for tests: one query response page JSON (LEN
 * bytes).  Up to MAX rows into OUT (more is VS_BAD), their count into
 * *NOUT; the KEY column of each row as an integer (a JSON integer, an
 * integral double or a decimal string), the last element as the score.
 * TOKEN (TOKENLEN bytes) receives next_page_token, "" when there is none;
 * one that does not fit is VS_BAD.  VS_OK, VS_BAD or VS_ERROR (out of
 * memory) with a message in ERR.
 */
int	vs_parse_page(const char *json, size_t len, const char *key,
	    struct vs_hit *out, size_t max, size_t *nout, char *token,
	    size_t tokenlen, char *err, size_t errlen);

/*
 * API filters -> Databricks filters_json.  FILTERS is the "filters"
 * member of a fashiond search request (a JSON object, or NULL / json null
 * = none).  Keys:
 *
 *   gender, master_category, sub_category, article_type, base_color,
 *   season, usage, brand     a string (1..VS_FILTER_STR_MAX bytes of UTF-8)
 *                            -> {"col": "v"}, or a list of 1..
 *                            VS_FILTER_LIST_MAX of them -> {"col": [...]};
 *                            brand only when P->has_brand
 *   year                     an integer in VS_YEAR_MIN..VS_YEAR_MAX, or a
 *                            list of them
 *   min_price, max_price     a finite number >= 0 -> {"price >=": x},
 *                            {"price <=": y}; min_price <= max_price
 *
 * OUT is reset and receives the filters_json text, keys in the order
 * above, "" when there is no condition.  VS_OK; VS_BAD with a short
 * message naming the key in MSG, suitable for a JSON 400; VS_ERROR when
 * out of memory.
 */
#define VS_FILTER_STR_MAX	200
#define VS_FILTER_LIST_MAX	50
#define VS_YEAR_MIN		1900
#define VS_YEAR_MAX		2100

struct json_object;
struct profile;
struct buf;
int	vs_filters_from_api(struct json_object *filters,
	    const struct profile *p, struct buf *out, char *msg,
	    size_t msglen);

#endif
