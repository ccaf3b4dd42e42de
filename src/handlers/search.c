/*
 * search.c - search by text, by photo, by both, and similar products.
 *
 *   POST /api/v1/search/text         {"query", "limit", "filters"}
 *   POST /api/v1/search/image        multipart: image, [limit], [filters]
 *   POST /api/v1/search/cross-modal  multipart: [query], [image], [limit],
 *                                    [filters], [text_weight]; or the
 *                                    JSON of search/text
 *   GET  /api/v1/products/{id}/similar?limit=
 *
 * A query becomes a 512-d vector (the CLIP endpoint; texts go through the
 * worker's LRU cache first), the active profile names the Vector Search
 * index (text_index, image_index, hybrid_index: under fashion_sota one
 * unified index), the index answers product ids and scores, and the
 * products come from the catalog tables in the index's order.
 * Upstream trouble is a JSON 503 (down) or 504 (too slow), never a hang:
 * each call is bounded by clip.timeout / vs.timeout.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json.h>

#include "clip_client.h"
#include "embcache.h"
#include "handlers.h"
#include "log.h"
#include "multipart.h"
#include "vs_client.h"

#define LIMIT_DEFAULT	20
#define LIMIT_MAX	100
#define QUERY_MAX	500		/* bytes of a text query */
#define DIM		CLIP_DIM

struct search {
	const char	*type;		/* "text", "image", "cross-modal", "similar" */
	const char	*index;
	char		 query[QUERY_MAX + 1];	/* "" when none */
	size_t		 query_len;
	long long	 limit;
	struct buf	 filters;	/* filters_json, "" for none */
	float		 vec[DIM];
	int		 cached;	/* the text vector came from the cache */
	long long	 exclude;	/* product id left out (similar), or -1 */
};

static void
search_init(struct search *s, const char *type, const char *index)
{
	memset(s, 0, sizeof(*s));
	s->type = type;
	s->index = index;
	s->limit = LIMIT_DEFAULT;
	s->exclude = -1;
	buf_init(&s->filters);
}

/* An upstream's failure as the API's JSON error. */
static void
upstream_error(struct request *r, const char *what, int down, int timeout,
    const char *detail)
{
	log_warn("%s: %s", what, detail);
	if (timeout)
		request_error(r, 504, "upstream_timeout", "the %s did not "
		    "answer in time; retry shortly", what);
	else if (down)
		request_error(r, 503, "upstream_unavailable", "the %s is "
		    "unavailable; retry shortly", what);
	else
		request_error(r, 502, "upstream_error", "the %s failed: %s",
		    what, detail);
}

static void
clip_error(struct request *r, int rc, const char *err)
{
	upstream_error(r, "embedding service", rc == CLIP_DOWN ||
	    rc == CLIP_ERROR, rc == CLIP_TIMEOUT, err);
}

/*
 * The cache key of a query: ASCII letters folded to lower case, runs of
 * white space as one space, none at the ends.  The model tokenises the
 * same way, so equal keys embed equally.
 */
static size_t
query_key(const char *q, size_t len, char *out)
{
	size_t i, n = 0;
	int space = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)q[i];

		if (isspace(c)) {
			space = n > 0;
			continue;
		}
		if (space)
			out[n++] = ' ';
		space = 0;
		out[n++] = (char)tolower(c);
	}
	out[n] = '\0';
	return n;
}

/* The text query of S as a vector into OUT: the cache, else CLIP. */
static int
embed_text(struct request *r, struct app *app, struct search *s, float *out)
{
	struct clip_input in;
	char key[QUERY_MAX + 1], err[512];
	const float *hit;
	size_t n = query_key(s->query, s->query_len, key);
	int rc;

	if (app->emb != NULL && (hit = embcache_get(app->emb, key, n)) != NULL) {
		memcpy(out, hit, sizeof(float) * DIM);
		s->cached = 1;
		return 0;
	}
	memset(&in, 0, sizeof(in));
	in.text = key;
	in.text_len = n;
	if ((rc = clip_embed(app->clip, &in, 1, out, err, sizeof(err))) !=
	    CLIP_OK) {
		clip_error(r, rc, err);
		return -1;
	}
	if (app->emb != NULL)
		(void)embcache_put(app->emb, key, n, out);
	return 0;
}

static int
embed_image(struct request *r, struct app *app, const struct mp_part *img,
    float *out)
{
	struct clip_input in;
	char err[512];
	int rc;

	memset(&in, 0, sizeof(in));
	in.image = img->data;
	in.image_len = img->len;
	rc = clip_embed(app->clip, &in, 1, out, err, sizeof(err));
	if (rc == CLIP_BAD) {
		/* The endpoint refused the photo itself (truncated, corrupt). */
		request_error(r, 400, "invalid_image", "the image could not be "
		    "read: %s", err);
		return -1;
	}
	if (rc != CLIP_OK) {
		clip_error(r, rc, err);
		return -1;
	}
	return 0;
}

/* PG "{1,2,3}" of the hit ids. */
static void
id_array(struct buf *b, const struct vs_hit *hits, size_t n)
{
	size_t i;

	buf_puts(b, "{");
	for (i = 0; i < n; i++)
		buf_printf(b, i ? ",%lld" : "%lld", (long long)hits[i].id);
	buf_puts(b, "}");
}

/* S->vec through the index, then the products, as the response. */
static void
run_search(struct request *r, struct app *app, struct search *s)
{
	const struct profile *p = app->cfg->active;
	struct vs_hit hits[LIMIT_MAX + 1];
	char err[1024], table[160];
	const char *vals[1];
	struct buf ids, sql;
	PGresult *res = NULL;
	size_t nhits = 0, i, shown = 0;
	int rc, row;

	buf_init(&ids);
	buf_init(&sql);
	rc = vs_query(app->vs, p->vs_endpoint, s->index, s->vec, DIM,
	    "product_id", s->filters.len ? s->filters.data : NULL,
	    (size_t)s->limit + (s->exclude >= 0), hits, &nhits, err,
	    sizeof(err));
	if (rc != VS_OK) {
		upstream_error(r, "vector search service", rc == VS_DOWN ||
		    rc == VS_ERROR || rc == VS_NOTFOUND, rc == VS_TIMEOUT, err);
		goto out;
	}
	if (catalog_products_table(p, table, sizeof(table)) != 0) {
		request_error(r, 500, "internal", "table name too long");
		goto out;
	}
	id_array(&ids, hits, nhits);
	vals[0] = ids.data;
	buf_printf(&sql, "SELECT %s FROM %s WHERE product_id = ANY($1::int[])",
	    catalog_columns(p), table);
	if ((res = db_query(&app->db, sql.data, 1, vals, &rc)) == NULL) {
		reply_db_error(r, rc);
		goto out;
	}
	buf_reset(&r->body);
	buf_puts(&r->body, "{\"products\":[");
	for (i = 0; i < nhits && shown < (size_t)s->limit; i++) {
		if (hits[i].id == s->exclude)
			continue;
		for (row = 0; row < PQntuples(res); row++)
			if (strtoll(PQgetvalue(res, row, 0), NULL, 10) ==
			    hits[i].id)
				break;
		if (row == PQntuples(res))
			continue;	/* gone from the catalog since the sync */
		if (shown++ > 0)
			buf_puts(&r->body, ",");
		buf_puts(&r->body, "{");
		catalog_product_fields(&r->body, res, row, p);
		buf_printf(&r->body, ",\"similarity_score\":%.6f}",
		    hits[i].score);
	}
	buf_printf(&r->body, "],\"total\":%zu,\"query\":", shown);
	if (s->query_len > 0)
		buf_json_strn(&r->body, s->query, s->query_len);
	else
		buf_puts(&r->body, "null");
	buf_puts(&r->body, ",\"search_type\":");
	buf_json_str(&r->body, s->type);
	buf_printf(&r->body, ",\"limit\":%lld,\"index\":", s->limit);
	buf_json_str(&r->body, s->index);
	buf_puts(&r->body, ",\"profile\":");
	buf_json_str(&r->body, p->name);
	buf_printf(&r->body, ",\"embedding_cached\":%s}",
	    s->cached ? "true" : "false");
	r->status = 200;
	log_debug("search %s: index %s, %zu products%s", s->type, s->index,
	    shown, s->cached ? ", cached embedding" : "");
out:
	PQclear(res);
	buf_free(&ids);
	buf_free(&sql);
}

/* Upstream clients exist (they are made at worker start). */
static int
clients_ready(struct request *r, struct app *app)
{
	if (app->vs != NULL && app->clip != NULL)
		return 1;
	request_error(r, 503, "upstream_unavailable", "search is not "
	    "configured in this worker (see the log)");
	return 0;
}

static int
set_query(struct request *r, struct search *s, const char *q, size_t len)
{
	size_t i;
	int blank = 1;

	for (i = 0; i < len; i++)
		if (!isspace((unsigned char)q[i]))
			blank = 0;
	if (len > QUERY_MAX || !utf8_valid(q, len) || memchr(q, '\0', len)) {
		request_error(r, 400, "invalid_query", "query must be valid "
		    "UTF-8 text of at most %d bytes", QUERY_MAX);
		return -1;
	}
	if (blank) {
		request_error(r, 400, "invalid_query", "query is empty");
		return -1;
	}
	memcpy(s->query, q, len);
	s->query[len] = '\0';
	s->query_len = len;
	return 0;
}

static int
set_filters(struct request *r, struct app *app, struct search *s,
    struct json_object *f)
{
	char msg[256];
	int rc = vs_filters_from_api(f, app->cfg->active, &s->filters, msg,
	    sizeof(msg));

	if (rc == VS_OK)
		return 0;
	if (rc == VS_BAD)
		request_error(r, 400, "invalid_filter", "%s", msg);
	else
		request_error(r, 500, "internal", "out of memory");
	return -1;
}

/* {"query", "limit", "filters"}; QUERY required unless OPTIONAL. */
static int
read_json(struct request *r, struct app *app, struct search *s)
{
	struct json_object *o;
	int rc = -1;

	if ((o = json_body(r)) == NULL)
		return -1;
	json_object_object_foreach(o, k, v) {
		if (strcmp(k, "query") == 0) {
			if (!json_object_is_type(v, json_type_string)) {
				request_error(r, 400, "invalid_query", "query "
				    "must be a string");
				goto out;
			}
			if (set_query(r, s, json_object_get_string(v),
			    (size_t)json_object_get_string_len(v)) != 0)
				goto out;
		} else if (strcmp(k, "limit") == 0) {
			if (!json_object_is_type(v, json_type_int) ||
			    json_object_get_int64(v) < 1 ||
			    json_object_get_int64(v) > LIMIT_MAX) {
				request_error(r, 400, "invalid_parameter",
				    "limit must be an integer from 1 to %d",
				    LIMIT_MAX);
				goto out;
			}
			s->limit = json_object_get_int64(v);
		} else if (strcmp(k, "filters") == 0) {
			if (set_filters(r, app, s, v) != 0)
				goto out;
		} else {
			char shown[80];

			str_shown(k, strlen(k), 64, shown, sizeof(shown));
			request_error(r, 400, "unknown_field", "unknown field "
			    "%s (expected query, limit, filters)", shown);
			goto out;
		}
	}
	if (s->query_len == 0) {
		request_error(r, 400, "invalid_query", "query is required");
		goto out;
	}
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

static int
is_json(struct request *r)
{
	const char *ct = request_env(r, "CONTENT_TYPE");

	return ct != NULL && strncasecmp(ct, "application/json", 16) == 0;
}

void
h_search_text(struct request *r, struct app *app)
{
	struct search s;

	search_init(&s, "text", app->cfg->active->text_index);
	if (clients_ready(r, app) && read_json(r, app, &s) == 0 &&
	    embed_text(r, app, &s, s.vec) == 0)
		run_search(r, app, &s);
	buf_free(&s.filters);
}

/* A text field of a form as a C string (at most LEN - 1 bytes). */
static int
field_text(struct request *r, const struct mp_part *f, char *out, size_t len)
{
	if (f->len >= len || memchr(f->data, '\0', f->len) != NULL ||
	    !utf8_valid((const char *)f->data, f->len)) {
		request_error(r, 400, "invalid_parameter", "form field %s is "
		    "too long or not text", f->name);
		return -1;
	}
	memcpy(out, f->data, f->len);
	out[f->len] = '\0';
	return 0;
}

/* JPEG or PNG by their first bytes. */
static int
is_image(const struct mp_part *p)
{
	return (p->len >= 3 && memcmp(p->data, "\xff\xd8\xff", 3) == 0) ||
	    (p->len >= 8 && memcmp(p->data, "\x89PNG\r\n\x1a\n", 8) == 0);
}

/*
 * The form of an image / cross-modal search: fields image, query, limit,
 * filters (the JSON of search/text's "filters"), text_weight.  *IMG is the
 * image part or NULL; *WEIGHT the text's share when both are given.
 */
static int
read_form(struct request *r, struct app *app, struct search *s,
    struct mp_form *form, const struct mp_part **img, double *weight)
{
	const char *ct = request_env(r, "CONTENT_TYPE");
	char boundary[MP_BOUNDARY_MAX + 1], msg[256], val[8192], *end;
	int i;

	*img = NULL;
	if (ct == NULL || multipart_boundary(ct, boundary, sizeof(boundary),
	    msg, sizeof(msg)) != MP_OK) {
		request_error(r, 415, "unsupported_media_type", "send "
		    "multipart/form-data with the photo in a field named image");
		return -1;
	}
	if (multipart_parse((const unsigned char *)r->input.data, r->input.len,
	    boundary, form, msg, sizeof(msg)) != MP_OK) {
		request_error(r, 400, "invalid_form", "%s", msg);
		return -1;
	}
	for (i = 0; i < form->nparts; i++) {
		const struct mp_part *f = &form->parts[i];

		if (strcmp(f->name, "image") == 0) {
			if (*img != NULL) {
				request_error(r, 400, "invalid_form", "one image "
				    "per search");
				return -1;
			}
			*img = f;
			continue;
		}
		if (strcmp(f->name, "query") == 0) {
			if (f->len > 0 && set_query(r, s, (const char *)f->data,
			    f->len) != 0)
				return -1;
			continue;
		}
		if (strcmp(f->name, "limit") != 0 &&
		    strcmp(f->name, "filters") != 0 &&
		    strcmp(f->name, "text_weight") != 0) {
			request_error(r, 400, "unknown_field", "unknown form "
			    "field %s (expected image, query, limit, filters, "
			    "text_weight)", f->name);
			return -1;
		}
		if (field_text(r, f, val, sizeof(val)) != 0)
			return -1;
		if (strcmp(f->name, "limit") == 0) {
			if (parse_int(val, 1, LIMIT_MAX, &s->limit) != REQ_OK) {
				request_error(r, 400, "invalid_parameter", "limit "
				    "must be an integer from 1 to %d", LIMIT_MAX);
				return -1;
			}
		} else if (strcmp(f->name, "text_weight") == 0) {
			*weight = strtod(val, &end);
			if (end == val || *end != '\0' || !(*weight >= 0 &&
			    *weight <= 1)) {
				request_error(r, 400, "invalid_parameter",
				    "text_weight must be a number from 0 to 1");
				return -1;
			}
		} else {
			struct json_object *fo = json_tokener_parse(val);
			int rc;

			if (fo == NULL || !json_object_is_type(fo,
			    json_type_object)) {
				json_object_put(fo);
				request_error(r, 400, "invalid_filter", "filters "
				    "must be a JSON object");
				return -1;
			}
			rc = set_filters(r, app, s, fo);
			json_object_put(fo);
			if (rc != 0)
				return -1;
		}
	}
	if (*img != NULL && (*img)->len == 0) {
		request_error(r, 400, "invalid_image", "the image is empty");
		return -1;
	}
	if (*img != NULL && !is_image(*img)) {
		request_error(r, 415, "unsupported_media_type", "the image must "
		    "be a JPEG or PNG");
		return -1;
	}
	return 0;
}

void
h_search_image(struct request *r, struct app *app)
{
	struct mp_form form;
	const struct mp_part *img;
	struct search s;
	double w = 0.5;

	search_init(&s, "image", app->cfg->active->image_index);
	if (clients_ready(r, app) && read_form(r, app, &s, &form, &img,
	    &w) == 0) {
		if (img == NULL)
			request_error(r, 400, "invalid_form", "the photo goes in "
			    "a form field named image");
		else if (s.query_len > 0)
			request_error(r, 400, "invalid_form", "image search "
			    "takes no query: use search/cross-modal");
		else if (embed_image(r, app, img, s.vec) == 0)
			run_search(r, app, &s);
	}
	buf_free(&s.filters);
}

void
h_search_cross_modal(struct request *r, struct app *app)
{
	struct mp_form form;
	const struct mp_part *img = NULL;
	struct search s;
	float iv[DIM];
	double w = 0.5;
	int i;

	search_init(&s, "cross-modal", app->cfg->active->hybrid_index);
	if (!clients_ready(r, app))
		goto out;
	if (is_json(r)) {
		if (read_json(r, app, &s) != 0)
			goto out;
	} else if (read_form(r, app, &s, &form, &img, &w) != 0)
		goto out;
	if (s.query_len == 0 && img == NULL) {
		request_error(r, 400, "invalid_form", "give a query, an image "
		    "or both");
		goto out;
	}
	if (s.query_len > 0 && embed_text(r, app, &s, s.vec) != 0)
		goto out;
	if (img != NULL) {
		if (embed_image(r, app, img, s.query_len > 0 ? iv : s.vec) != 0)
			goto out;
		/* Both: the weighted sum of the unit vectors, made unit. */
		if (s.query_len > 0)
			for (i = 0; i < DIM; i++)
				s.vec[i] = (float)(w * s.vec[i] + (1 - w) * iv[i]);
	}
	clip_unit(s.vec);
	run_search(r, app, &s);
out:
	buf_free(&s.filters);
}

void
h_product_similar(struct request *r, struct app *app)
{
	const struct profile *p = app->cfg->active;
	const char *v, *vals[1];
	char idbuf[16];
	struct search s;
	struct buf sql;
	PGresult *res = NULL;
	long long id;
	int rc;

	search_init(&s, "similar", p->hybrid_index);
	buf_init(&sql);
	if (parse_int(r->captures[0], 0, 2147483647LL, &id) != REQ_OK) {
		request_error(r, 400, "invalid_id",
		    "product id must be a non-negative integer below 2^31");
		goto out;
	}
	if ((v = request_param(r, "limit")) != NULL &&
	    parse_int(v, 1, LIMIT_MAX, &s.limit) != REQ_OK) {
		request_error(r, 400, "invalid_parameter",
		    "limit must be an integer from 1 to %d", LIMIT_MAX);
		goto out;
	}
	if (request_unused_param(r) != NULL) {
		request_error(r, 400, "unknown_parameter",
		    "this endpoint takes only limit");
		goto out;
	}
	if (!clients_ready(r, app))
		goto out;
	/* The product's hybrid vector, from wherever the layout keeps it. */
	if (p->embedded)
		buf_printf(&sql, "SELECT embedding FROM \"%s\".\"%s\" WHERE "
		    "product_id = $1", p->schema, p->products);
	else
		buf_printf(&sql, "SELECT e.embedding FROM \"%s\".\"%s\" p LEFT "
		    "JOIN \"%s\".\"%s\" e USING (product_id) WHERE "
		    "p.product_id = $1", p->schema, p->products, p->schema,
		    p->embeddings);
	snprintf(idbuf, sizeof(idbuf), "%lld", id);
	vals[0] = idbuf;
	if ((res = db_query(&app->db, sql.data, 1, vals, &rc)) == NULL) {
		reply_db_error(r, rc);
		goto out;
	}
	if (PQntuples(res) == 0) {
		request_error(r, 404, "not_found", "no product with id %lld", id);
		goto out;
	}
	if (PQgetisnull(res, 0, 0)) {
		request_error(r, 409, "not_embedded", "product %lld has no "
		    "embedding yet (fashionctl embed)", id);
		goto out;
	}
	if (catalog_parse_vector(PQgetvalue(res, 0, 0), s.vec, DIM) != 0) {
		request_error(r, 500, "internal", "product %lld has a malformed "
		    "embedding", id);
		goto out;
	}
	s.exclude = id;
	run_search(r, app, &s);
out:
	PQclear(res);
	buf_free(&sql);
	buf_free(&s.filters);
}
