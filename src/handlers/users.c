/*
 * users.c - a shopper's preferences, likes and recommendations (issue 5).
 *
 *   GET    /api/v1/users/{id}/preferences
 *   PUT    /api/v1/users/{id}/preferences    {"preferred_categories",
 *          "preferred_colors", "preferred_brands", "min_price", "max_price"}
 *   POST   /api/v1/users/{id}/likes/{product_id}
 *   DELETE /api/v1/users/{id}/likes/{product_id}
 *   GET    /api/v1/users/{id}/recommendations?limit=&restrict_category=
 *          &restrict_price=&restrict_color=
 *
 * Only the signed-in shopper reaches their own (auth_require_self: 401
 * without a session, 403 for another's id); PUT, POST and DELETE also
 * pass auth_check_origin.  Tables come from the active profile:
 * user_features (preferences, base_vector, style_vector) and likes.
 *
 * Style vector, recomputed in the transaction that changes the likes:
 *
 *   style_vector = unit(base_vector + LIKE_WEIGHT * sum of the hybrid
 *                  vectors ("embedding") of the liked products)
 *
 * LIKE_WEIGHT = 0.5.  base_vector is the persona's (NULL for a fresh
 * account: then it is unit(sum of the likes)); no base and no (embedded)
 * likes leaves it NULL.  Liked products without an embedding count for
 * nothing.  Concurrent likes of one shopper serialise on the preferences
 * row (SELECT ... FOR UPDATE), so the last one sees every like.
 *
 * Recommendations:
 *
 *   candidates  Vector Search on the profile's hybrid_index with the style
 *               vector and the restrictions as filters_json, asking for
 *               min(CAND_FACTOR * limit + likes, CAND_MAX) rows; then the
 *               catalog rows of those ids that satisfy the restrictions
 *               and are not liked (so a stale index cannot break them).
 *   rule_score  the mean of 0/1 components: category (sub_category in
 *               preferred_categories), colour (base_color in
 *               preferred_colors), price fit (price within [min_price,
 *               max_price], a missing bound being open; 1 with no range),
 *               and brand (brand in preferred_brands) only when the
 *               profile has_brand and preferred_brands is not empty.  An
 *               empty category or colour list scores 0 for that component.
 *   score       VEC_WEIGHT (0.6) * similarity_score (the Vector Search
 *               score) + RULE_WEIGHT (0.4) * rule_score.
 *   diversity   greedy in score order (ties: candidate order): an item
 *               whose article_type already has MAX_PER_TYPE (3) picks is
 *               skipped.  If that leaves fewer than limit (neighbours are
 *               often all of one type), Vector Search is asked once more,
 *               the same way but with {"article_type NOT": T} for each
 *               full type T (filters_json as an array of objects, ANDed);
 *               if still short, the skipped ones fill up in score order.
 *               Products are listed in pick order.
 *   fallback    no style vector, no Vector Search client, or the query
 *               failed (down, timeout, refused): SQL picks the products
 *               that satisfy the restrictions and are not liked, ordered
 *               by rule score (same rule) then product_id, the first
 *               min(CAND_FACTOR * limit, CAND_MAX), those past
 *               MAX_PER_TYPE of their type last; score = rule_score,
 *               similarity_score null, the same diversity; the response
 *               says "fallback": true and why.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "auth.h"
#include "clip_client.h"
#include "handlers.h"
#include "log.h"
#include "vs_client.h"

#define DIM		CLIP_DIM
#define LIKE_WEIGHT	0.5	/* weight of each liked product's vector */
#define PREF_LIST_MAX	20	/* entries of one preferred_* list */
#define PREF_STR_MAX	100	/* bytes of one entry */
#define PRICE_MAX	99999999.99	/* numeric(10,2) */
#define RESTRICT_MAX	VS_FILTER_STR_MAX	/* bytes of restrict_category/color */
#define RECS_DEFAULT	10
#define RECS_MAX	50
#define CAND_FACTOR	5	/* candidates per recommendation */
#define CAND_MAX	500
#define VEC_WEIGHT	0.6
#define RULE_WEIGHT	0.4
#define MAX_PER_TYPE	3	/* picks of one article_type before relaxing */

/* Columns of CATALOG_COLUMNS[_BRAND] that the rules read. */
#define COL_ID		0
#define COL_SUB		3
#define COL_TYPE	4
#define COL_COLOR	5
#define COL_PRICE	10
#define COL_BRAND	12

/* Columns of the user state query (state_query). */
enum {
	S_CATS_JSON, S_COLORS_JSON, S_BRANDS_JSON, S_MIN, S_MAX, S_HAS_STYLE,
	S_UPDATED, S_LIKES, S_CATS_PG, S_COLORS_PG, S_BRANDS_PG, S_LIKED,
	S_STYLE
};

static const char *const pref_lists[] = {
	"preferred_categories", "preferred_colors", "preferred_brands",
};
#define NLISTS	3

/* "schema"."table" names of the active profile. */
struct tables {
	char	 products[160];
	char	 features[160];
	char	 likes[160];
	char	 vectors[160];	/* where the hybrid "embedding" column lives */
};

static int
tables_init(struct request *r, const struct profile *p, struct tables *t)
{
	if (catalog_products_table(p, t->products, sizeof(t->products)) != 0 ||
	    catalog_table(p, p->user_features, t->features,
	    sizeof(t->features)) != 0 ||
	    catalog_table(p, p->likes, t->likes, sizeof(t->likes)) != 0 ||
	    catalog_table(p, p->embedded ? p->products : p->embeddings,
	    t->vectors, sizeof(t->vectors)) != 0) {
		request_error(r, 500, "internal", "table name too long");
		return -1;
	}
	return 0;
}

/*
 * One row about user $1 (whether or not they have a preferences row yet);
 * columns as enum S_*.  WITH_STYLE selects the style vector (~6 KB).
 */
static PGresult *
state_query(struct request *r, struct app *app, const struct tables *t,
    const char *uid, int with_style)
{
	const char *vals[1] = { uid };
	struct buf sql;
	PGresult *res;
	int rc;

	buf_init(&sql);
	buf_printf(&sql, "SELECT "
	    "coalesce(array_to_json(f.preferred_categories)::text, '[]'), "
	    "coalesce(array_to_json(f.preferred_colors)::text, '[]'), "
	    "coalesce(array_to_json(f.preferred_brands)::text, '[]'), "
	    "f.min_price::float8, f.max_price::float8, "
	    "f.style_vector IS NOT NULL, "
	    "to_char(f.updated_at AT TIME ZONE 'UTC', "
	    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	    "(SELECT count(*) FROM %s l WHERE l.user_id = u.id), "
	    "coalesce(f.preferred_categories, '{}')::text, "
	    "coalesce(f.preferred_colors, '{}')::text, "
	    "coalesce(f.preferred_brands, '{}')::text, "
	    "coalesce((SELECT array_agg(l.product_id ORDER BY l.product_id) "
	    "FROM %s l WHERE l.user_id = u.id), '{}')::text, "
	    "%s "
	    "FROM (SELECT $1::bigint AS id) u LEFT JOIN %s f ON f.user_id = u.id",
	    t->likes, t->likes, with_style ? "f.style_vector" : "NULL::real[]",
	    t->features);
	if (buf_failed(&sql)) {
		request_error(r, 500, "internal", "out of memory");
		res = NULL;
	} else if ((res = db_query(&app->db, sql.data, 1, vals, &rc)) == NULL)
		reply_db_error(r, rc);
	else if (PQntuples(res) != 1) {
		PQclear(res);
		res = NULL;
		request_error(r, 500, "internal", "database query failed");
	}
	buf_free(&sql);
	return res;
}

static void
json_or_null(struct buf *b, const PGresult *res, int col)
{
	if (PQgetisnull(res, 0, col))
		buf_puts(b, "null");
	else
		buf_puts(b, PQgetvalue(res, 0, col));
}

/* The preferences response from a state row. */
static void
prefs_json(struct buf *b, long long uid, const PGresult *res)
{
	buf_reset(b);
	buf_printf(b, "{\"user_id\":%lld", uid);
	buf_printf(b, ",\"preferred_categories\":%s",
	    PQgetvalue(res, 0, S_CATS_JSON));
	buf_printf(b, ",\"preferred_colors\":%s",
	    PQgetvalue(res, 0, S_COLORS_JSON));
	buf_printf(b, ",\"preferred_brands\":%s",
	    PQgetvalue(res, 0, S_BRANDS_JSON));
	buf_puts(b, ",\"min_price\":");
	json_or_null(b, res, S_MIN);
	buf_puts(b, ",\"max_price\":");
	json_or_null(b, res, S_MAX);
	buf_printf(b, ",\"has_style_vector\":%s",
	    PQgetvalue(res, 0, S_HAS_STYLE)[0] == 't' ? "true" : "false");
	buf_printf(b, ",\"likes\":%s,\"updated_at\":",
	    PQgetvalue(res, 0, S_LIKES));
	if (PQgetisnull(res, 0, S_UPDATED))
		buf_puts(b, "null");
	else
		buf_json_str(b, PQgetvalue(res, 0, S_UPDATED));
	buf_puts(b, "}");
}

static void
reply_prefs(struct request *r, struct app *app, const struct tables *t,
    long long uid, const char *uidtxt)
{
	PGresult *res;

	if ((res = state_query(r, app, t, uidtxt, 0)) == NULL)
		return;
	prefs_json(&r->body, uid, res);
	if (buf_failed(&r->body))
		request_error(r, 500, "internal", "out of memory");
	else
		r->status = 200;
	PQclear(res);
}

void
h_prefs_get(struct request *r, struct app *app)
{
	struct tables t;
	char uidtxt[24];
	long long uid;

	if (auth_require_self(r, app, &uid) != 0 ||
	    tables_init(r, app->cfg->active, &t) != 0)
		return;
	if (request_unused_param(r) != NULL) {
		request_error(r, 400, "unknown_parameter", "this endpoint takes "
		    "no parameters");
		return;
	}
	snprintf(uidtxt, sizeof(uidtxt), "%lld", uid);
	reply_prefs(r, app, &t, uid, uidtxt);
}

/* A preferences body, validated. */
struct prefs_in {
	const char	*lists[NLISTS];	/* JSON text of each list (owned by the
					   parsed body), NULL = [] */
	char		 price[2][32];	/* min, max as decimal text; "" = null */
};

/* V (member NAME) as a list of 0..PREF_LIST_MAX strings; JSON into *OUT. */
static int
read_list(struct request *r, const char *name, struct json_object *v,
    const char **out)
{
	size_t i, n, len;
	struct json_object *e;
	const char *s;

	if (!json_object_is_type(v, json_type_array) ||
	    (n = json_object_array_length(v)) > PREF_LIST_MAX)
		goto bad;
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string))
			goto bad;
		s = json_object_get_string(e);
		len = (size_t)json_object_get_string_len(e);
		if (len == 0 || len > PREF_STR_MAX || !utf8_valid(s, len))
			goto bad;
	}
	*out = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (*out == NULL) {
		request_error(r, 500, "internal", "out of memory");
		return -1;
	}
	return 0;
bad:
	request_error(r, 400, "invalid_parameter", "%s must be a list of at "
	    "most %d strings, each 1 to %d bytes of UTF-8 text", name,
	    PREF_LIST_MAX, PREF_STR_MAX);
	return -1;
}

/* V (member NAME) as null or a price; "" or its text into OUT, *X. */
static int
read_price(struct request *r, const char *name, struct json_object *v,
    char out[32], double *x)
{
	if (json_object_is_type(v, json_type_null)) {
		out[0] = '\0';
		return 0;
	}
	if (json_object_is_type(v, json_type_int))
		*x = (double)json_object_get_int64(v);
	else if (json_object_is_type(v, json_type_double))
		*x = json_object_get_double(v);
	else
		goto bad;
	if (!isfinite(*x) || *x < 0 || *x > PRICE_MAX)
		goto bad;
	snprintf(out, 32, "%.2f", *x);
	return 0;
bad:
	request_error(r, 400, "invalid_parameter", "%s must be null or a number "
	    "from 0 to %.2f", name, PRICE_MAX);
	return -1;
}

static int
read_prefs(struct request *r, struct json_object *o, struct prefs_in *in)
{
	double x[2] = { 0, 0 };
	char shown[80];
	int i;

	memset(in, 0, sizeof(*in));
	json_object_object_foreach(o, k, v) {
		for (i = 0; i < NLISTS; i++)
			if (strcmp(k, pref_lists[i]) == 0)
				break;
		if (i < NLISTS) {
			if (read_list(r, k, v, &in->lists[i]) != 0)
				return -1;
		} else if (strcmp(k, "min_price") == 0) {
			if (read_price(r, k, v, in->price[0], &x[0]) != 0)
				return -1;
		} else if (strcmp(k, "max_price") == 0) {
			if (read_price(r, k, v, in->price[1], &x[1]) != 0)
				return -1;
		} else {
			str_shown(k, strlen(k), 64, shown, sizeof(shown));
			request_error(r, 400, "unknown_field", "unknown field %s "
			    "(expected preferred_categories, preferred_colors, "
			    "preferred_brands, min_price, max_price)", shown);
			return -1;
		}
	}
	if (in->price[0][0] != '\0' && in->price[1][0] != '\0' && x[0] > x[1]) {
		request_error(r, 400, "invalid_parameter", "min_price is greater "
		    "than max_price");
		return -1;
	}
	return 0;
}

/*
 * PUT: a full replace of the five fields (a missing list is [], a missing
 * price null) in one UPSERT, so a refused update changes nothing.
 */
void
h_prefs_put(struct request *r, struct app *app)
{
	const struct profile *p = app->cfg->active;
	struct json_object *o = NULL;
	struct prefs_in in;
	struct tables t;
	struct buf sql;
	const char *vals[6];
	char uidtxt[24];
	PGresult *res = NULL;
	long long uid;
	int rc, i;

	buf_init(&sql);
	if (auth_require_self(r, app, &uid) != 0 || auth_check_origin(r) != 0 ||
	    tables_init(r, p, &t) != 0)
		goto out;
	if (request_unused_param(r) != NULL) {
		request_error(r, 400, "unknown_parameter", "this endpoint takes "
		    "no parameters");
		goto out;
	}
	if ((o = json_body(r)) == NULL || read_prefs(r, o, &in) != 0)
		goto out;
	snprintf(uidtxt, sizeof(uidtxt), "%lld", uid);
	vals[0] = uidtxt;
	for (i = 0; i < NLISTS; i++)
		vals[1 + i] = in.lists[i] != NULL ? in.lists[i] : "[]";
	vals[4] = in.price[0][0] ? in.price[0] : NULL;
	vals[5] = in.price[1][0] ? in.price[1] : NULL;
#define JSON_LIST(n) "ARRAY(SELECT x FROM json_array_elements_text($" #n \
	"::json) WITH ORDINALITY AS j(x, n) ORDER BY n)"
	buf_printf(&sql, "INSERT INTO %s AS f (user_id, preferred_categories, "
	    "preferred_colors, preferred_brands, min_price, max_price, "
	    "updated_at) VALUES ($1::bigint, " JSON_LIST(2) ", " JSON_LIST(3)
	    ", " JSON_LIST(4) ", $5::numeric, $6::numeric, now()) "
	    "ON CONFLICT (user_id) DO UPDATE SET "
	    "preferred_categories = EXCLUDED.preferred_categories, "
	    "preferred_colors = EXCLUDED.preferred_colors, "
	    "preferred_brands = EXCLUDED.preferred_brands, "
	    "min_price = EXCLUDED.min_price, max_price = EXCLUDED.max_price, "
	    "updated_at = now()", t.features);
#undef JSON_LIST
	if (buf_failed(&sql)) {
		request_error(r, 500, "internal", "out of memory");
		goto out;
	}
	if ((res = db_query(&app->db, sql.data, 6, vals, &rc)) == NULL) {
		reply_db_error(r, rc);
		goto out;
	}
	log_info("preferences: user %lld updated", uid);
	reply_prefs(r, app, &t, uid, uidtxt);
out:
	PQclear(res);
	json_object_put(o);
	buf_free(&sql);
}

/* Run one statement of a transaction; 0, or -1 with the response set. */
static int
tx(struct request *r, struct app *app, const char *sql, int n,
    const char *const *vals, PGresult **out)
{
	PGresult *res;
	int rc;

	if ((res = db_query(&app->db, sql, n, vals, &rc)) == NULL) {
		reply_db_error(r, rc);
		return -1;
	}
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return 0;
}

static void
like_change(struct request *r, struct app *app, int add)
{
	const struct profile *p = app->cfg->active;
	struct tables t;
	struct buf sql;
	const char *vals[2];
	char uidtxt[24], pidtxt[16], wtxt[32];
	PGresult *res = NULL;
	long long uid, pid, likes;
	int open = 0, rc;

	buf_init(&sql);
	if (auth_require_self(r, app, &uid) != 0 || auth_check_origin(r) != 0 ||
	    tables_init(r, p, &t) != 0)
		goto out;
	if (parse_int(r->captures[1], 0, 2147483647LL, &pid) != REQ_OK) {
		request_error(r, 400, "invalid_id", "product id must be a "
		    "non-negative integer below 2^31");
		goto out;
	}
	if (request_unused_param(r) != NULL) {
		request_error(r, 400, "unknown_parameter", "this endpoint takes "
		    "no parameters");
		goto out;
	}
	snprintf(uidtxt, sizeof(uidtxt), "%lld", uid);
	snprintf(pidtxt, sizeof(pidtxt), "%lld", pid);
	snprintf(wtxt, sizeof(wtxt), "%.17g", LIKE_WEIGHT);
	vals[0] = uidtxt;

	if (tx(r, app, "BEGIN", 0, NULL, NULL) != 0)
		goto out;
	open = 1;
	/* The preferences row exists and is ours until COMMIT. */
	buf_printf(&sql, "INSERT INTO %s (user_id) VALUES ($1::bigint) "
	    "ON CONFLICT (user_id) DO NOTHING", t.features);
	if (buf_failed(&sql) || tx(r, app, sql.data, 1, vals, NULL) != 0)
		goto fail;
	buf_reset(&sql);
	buf_printf(&sql, "SELECT 1 FROM %s WHERE user_id = $1::bigint FOR "
	    "UPDATE", t.features);
	if (buf_failed(&sql) || tx(r, app, sql.data, 1, vals, NULL) != 0)
		goto fail;

	vals[1] = pidtxt;
	buf_reset(&sql);
	buf_printf(&sql, "SELECT 1 FROM %s WHERE product_id = $1::int",
	    t.products);
	if (buf_failed(&sql) || tx(r, app, sql.data, 1, vals + 1, &res) != 0)
		goto fail;
	if (PQntuples(res) == 0) {
		request_error(r, 404, "not_found", "no product with id %lld",
		    pid);
		goto fail;
	}
	PQclear(res);
	res = NULL;

	buf_reset(&sql);
	if (add)
		buf_printf(&sql, "INSERT INTO %s (user_id, product_id) VALUES "
		    "($1::bigint, $2::int) ON CONFLICT DO NOTHING", t.likes);
	else
		buf_printf(&sql, "DELETE FROM %s WHERE user_id = $1::bigint AND "
		    "product_id = $2::int", t.likes);
	if (buf_failed(&sql) || tx(r, app, sql.data, 2, vals, NULL) != 0)
		goto fail;

	/* The update rule of the file header, in float8, stored as real. */
	vals[1] = wtxt;
	buf_reset(&sql);
	buf_printf(&sql, "WITH v AS ("
	    "SELECT 1::float8 AS w, f.base_vector AS vec FROM %s f "
	    "WHERE f.user_id = $1::bigint AND f.base_vector IS NOT NULL "
	    "UNION ALL "
	    "SELECT $2::float8, e.embedding FROM %s l JOIN %s e "
	    "USING (product_id) WHERE l.user_id = $1::bigint AND "
	    "e.embedding IS NOT NULL), "
	    "s AS (SELECT u.i, sum(v.w * u.x) AS x FROM v, "
	    "unnest(v.vec) WITH ORDINALITY AS u(x, i) GROUP BY u.i), "
	    "n AS (SELECT sqrt(sum(s.x * s.x)) AS n FROM s) "
	    "UPDATE %s SET style_vector = (SELECT array_agg((s.x / n.n)::real "
	    "ORDER BY s.i) FROM s, n WHERE n.n > 0), updated_at = now() "
	    "WHERE user_id = $1::bigint",
	    t.features, t.likes, t.vectors, t.features);
	if (buf_failed(&sql) || tx(r, app, sql.data, 2, vals, NULL) != 0)
		goto fail;

	buf_reset(&sql);
	buf_printf(&sql, "SELECT count(*) FROM %s WHERE user_id = $1::bigint",
	    t.likes);
	if (buf_failed(&sql) || tx(r, app, sql.data, 1, vals, &res) != 0)
		goto fail;
	likes = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	if (tx(r, app, "COMMIT", 0, NULL, NULL) != 0) {
		open = 0;	/* a failed COMMIT has rolled back */
		goto fail;
	}
	open = 0;
	buf_reset(&r->body);
	buf_printf(&r->body, "{\"product_id\":%lld,\"liked\":%s,\"likes\":%lld}",
	    pid, add ? "true" : "false", likes);
	r->status = 200;
	log_info("likes: user %lld %s product %lld (%lld likes)", uid,
	    add ? "likes" : "no longer likes", pid, likes);
	goto out;
fail:
	if (buf_failed(&sql))
		request_error(r, 500, "internal", "out of memory");
out:
	if (open) {
		PGresult *rb;

		if ((rb = db_query(&app->db, "ROLLBACK", 0, NULL, &rc)) != NULL)
			PQclear(rb);
	}
	PQclear(res);
	buf_free(&sql);
}

void
h_like_add(struct request *r, struct app *app)
{
	like_change(r, app, 1);
}

void
h_like_delete(struct request *r, struct app *app)
{
	like_change(r, app, 0);
}

/* ---- recommendations ---------------------------------------------------- */

/* The shopper's preferences, as the rules read them. */
struct prefs {
	struct json_object *lists[NLISTS];	/* arrays of strings */
	const char	*price_txt[2];	/* min, max as text; NULL = open */
	double		 price[2];
	int		 use_brand;	/* brand counts in the rule score */
};

/* Restrictions of the request. */
struct restriction {
	const char	*category;	/* NULL = any */
	const char	*color;
	char		 price_txt[2][32];	/* "" = open */
	double		 price[2];
};

struct cand {
	const PGresult	*res;		/* its catalog row is RES, ROW */
	int		 row;
	int		 rank;		/* arrival order (VS rank, SQL order) */
	long long	 id;
	double		 sim;		/* Vector Search score, < 0 = none */
	double		 rule;
	double		 score;
	unsigned	 match;		/* M_* bits for the reason */
};

#define M_CAT	0x1
#define M_COLOR	0x2
#define M_PRICE	0x4	/* inside a range the shopper set */
#define M_BRAND	0x8

#define NQUERIES 2	/* the style query, then one for other article types */

/* The candidates of one request and the results they point into. */
struct cands {
	struct cand	 c[NQUERIES * CAND_MAX];
	int		 n;
	PGresult	*res[NQUERIES];
	int		 nres;
};

static const char *
cand_type(const struct cand *c)
{
	return PQgetvalue(c->res, c->row, COL_TYPE);
}

static int
in_list(struct json_object *a, const char *s)
{
	size_t i, n = a != NULL ? json_object_array_length(a) : 0;

	for (i = 0; i < n; i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(a,
		    i)), s) == 0)
			return 1;
	return 0;
}

/* The rule score of C's product for PF (see the file header). */
static double
rule_score(struct cand *c, const struct prefs *pf)
{
	const PGresult *res = c->res;
	double price = strtod(PQgetvalue(res, c->row, COL_PRICE), NULL);
	int n = 3, hit = 0;

	c->match = 0;
	if (in_list(pf->lists[0], PQgetvalue(res, c->row, COL_SUB))) {
		c->match |= M_CAT;
		hit++;
	}
	if (!PQgetisnull(res, c->row, COL_COLOR) &&
	    in_list(pf->lists[1], PQgetvalue(res, c->row, COL_COLOR))) {
		c->match |= M_COLOR;
		hit++;
	}
	if ((pf->price_txt[0] == NULL || price >= pf->price[0]) &&
	    (pf->price_txt[1] == NULL || price <= pf->price[1])) {
		hit++;
		if (pf->price_txt[0] != NULL || pf->price_txt[1] != NULL)
			c->match |= M_PRICE;
	}
	if (pf->use_brand) {
		n++;
		if (!PQgetisnull(res, c->row, COL_BRAND) &&
		    in_list(pf->lists[2], PQgetvalue(res, c->row, COL_BRAND))) {
			c->match |= M_BRAND;
			hit++;
		}
	}
	return (double)hit / n;
}

/* personalization_reason of C into B (plain text). */
static void
reason(struct buf *b, const struct cand *c, const struct prefs *pf)
{
	size_t start = b->len;
	const char *sep = "";

	if (c->sim >= 0) {
		buf_puts(b, "close to your style");
		sep = "; ";
	}
	if (c->match & M_CAT) {
		buf_printf(b, "%sin your category %s", sep,
		    PQgetvalue(c->res, c->row, COL_SUB));
		sep = "; ";
	}
	if (c->match & M_COLOR) {
		buf_printf(b, "%sin your colour %s", sep,
		    PQgetvalue(c->res, c->row, COL_COLOR));
		sep = "; ";
	}
	if (c->match & M_BRAND) {
		buf_printf(b, "%sfrom your brand %s", sep,
		    PQgetvalue(c->res, c->row, COL_BRAND));
		sep = "; ";
	}
	if (c->match & M_PRICE) {
		if (pf->price_txt[0] != NULL && pf->price_txt[1] != NULL)
			buf_printf(b, "%swithin your price range %s\xe2\x80\x93%s",
			    sep, pf->price_txt[0], pf->price_txt[1]);
		else if (pf->price_txt[0] != NULL)
			buf_printf(b, "%swithin your price range (from %s)", sep,
			    pf->price_txt[0]);
		else
			buf_printf(b, "%swithin your price range (up to %s)", sep,
			    pf->price_txt[1]);
		sep = "; ";
	}
	if (*sep == '\0')
		buf_puts(b, "a pick from the catalog while we learn your style");
	if (!buf_failed(b) && b->len > start && b->data[start] >= 'a' &&
	    b->data[start] <= 'z')
		b->data[start] -= 'a' - 'A';
}

static int
cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return (x->rank > y->rank) - (x->rank < y->rank);
}

/* Rule scores and scores of every candidate, then best first. */
static void
rank_cands(struct cands *cs, const struct prefs *pf)
{
	struct cand *c;
	int i;

	for (i = 0; i < cs->n; i++) {
		c = &cs->c[i];
		c->rule = rule_score(c, pf);
		c->score = c->sim >= 0 ? VEC_WEIGHT * c->sim +
		    RULE_WEIGHT * c->rule : c->rule;
	}
	qsort(cs->c, (size_t)cs->n, sizeof(cs->c[0]), cand_cmp);
}

/* Picks of article_type TYPE among PICK[0..N). */
static int
type_count(const struct cands *cs, const int *pick, int n, const char *type)
{
	int j, same = 0;

	for (j = 0; j < n; j++)
		if (strcmp(cand_type(&cs->c[pick[j]]), type) == 0)
			same++;
	return same;
}

/*
 * Greedy diversity over the ranked candidates: indexes into PICK, their
 * count returned.  At most MAX_PER_TYPE of an article_type; with RELAX,
 * the skipped ones then fill up to LIMIT in score order.
 */
static int
diversify(const struct cands *cs, int limit, int *pick, int relax)
{
	char *taken;
	int i, shown = 0;

	if ((taken = calloc((size_t)cs->n + 1, 1)) == NULL)
		return -1;
	for (i = 0; i < cs->n && shown < limit; i++)
		if (type_count(cs, pick, shown, cand_type(&cs->c[i])) <
		    MAX_PER_TYPE) {
			pick[shown++] = i;
			taken[i] = 1;
		}
	for (i = 0; relax && i < cs->n && shown < limit; i++)
		if (!taken[i])
			pick[shown++] = i;
	free(taken);
	return shown;
}

/* restrict_price "MIN-MAX", "-MAX" or "MIN-" into RS. */
static int
parse_range(const char *s, struct restriction *rs)
{
	const char *dash = strchr(s, '-');
	size_t n;

	if (dash == NULL || strchr(dash + 1, '-') != NULL ||
	    (dash == s && dash[1] == '\0'))
		return -1;
	n = (size_t)(dash - s);
	if (n > 0) {
		if (n >= sizeof(rs->price_txt[0]))
			return -1;
		memcpy(rs->price_txt[0], s, n);
		rs->price_txt[0][n] = '\0';
		if (parse_price(rs->price_txt[0], &rs->price[0]) != REQ_OK)
			return -1;
	}
	if (dash[1] != '\0') {
		if (strlen(dash + 1) >= sizeof(rs->price_txt[1]))
			return -1;
		strcpy(rs->price_txt[1], dash + 1);
		if (parse_price(rs->price_txt[1], &rs->price[1]) != REQ_OK)
			return -1;
	}
	if (n > 0 && dash[1] != '\0' && rs->price[0] > rs->price[1])
		return -1;
	return 0;
}

/* The query parameters; 0 or -1 with a 400 set. */
static int
read_recs_params(struct request *r, long long *limit,
    struct restriction *rs)
{
	const char *v;
	int i;

	memset(rs, 0, sizeof(*rs));
	*limit = RECS_DEFAULT;
	if ((v = request_param(r, "limit")) != NULL &&
	    parse_int(v, 1, RECS_MAX, limit) != REQ_OK) {
		request_error(r, 400, "invalid_parameter", "limit must be an "
		    "integer from 1 to %d", RECS_MAX);
		return -1;
	}
	for (i = 0; i < 2; i++) {
		const char *name = i ? "restrict_color" : "restrict_category";

		if ((v = request_param(r, name)) == NULL)
			continue;
		if (v[0] == '\0' || strlen(v) > RESTRICT_MAX) {
			request_error(r, 400, "invalid_parameter", "%s must be "
			    "1 to %d bytes", name, RESTRICT_MAX);
			return -1;
		}
		if (i)
			rs->color = v;
		else
			rs->category = v;
	}
	if ((v = request_param(r, "restrict_price")) != NULL &&
	    parse_range(v, rs) != 0) {
		request_error(r, 400, "invalid_parameter", "restrict_price must "
		    "be MIN-MAX, MIN- or -MAX with decimal numbers >= 0 and "
		    "MIN <= MAX");
		return -1;
	}
	if ((v = request_unused_param(r)) != NULL) {
		request_error(r, 400, "unknown_parameter", "unknown query "
		    "parameter \"%.64s\" (expected limit, restrict_category, "
		    "restrict_price, restrict_color)", v);
		return -1;
	}
	return 0;
}

/* The restrictions as Databricks filters_json into OUT. */
static int
restrict_filters(struct request *r, const struct profile *p,
    const struct restriction *rs, struct buf *out)
{
	struct json_object *f = json_object_new_object();
	char msg[256];
	int rc;

	if (f == NULL)
		goto fail;
	if (rs->category != NULL && json_object_object_add(f, "sub_category",
	    json_object_new_string(rs->category)) != 0)
		goto fail;
	if (rs->color != NULL && json_object_object_add(f, "base_color",
	    json_object_new_string(rs->color)) != 0)
		goto fail;
	if (rs->price_txt[0][0] && json_object_object_add(f, "min_price",
	    json_object_new_double(rs->price[0])) != 0)
		goto fail;
	if (rs->price_txt[1][0] && json_object_object_add(f, "max_price",
	    json_object_new_double(rs->price[1])) != 0)
		goto fail;
	rc = vs_filters_from_api(f, p, out, msg, sizeof(msg));
	json_object_put(f);
	if (rc == VS_OK)
		return 0;
	if (rc == VS_BAD) {
		request_error(r, 400, "invalid_parameter", "%s", msg);
		return -1;
	}
	request_error(r, 500, "internal", "out of memory");
	return -1;
fail:
	json_object_put(f);
	request_error(r, 500, "internal", "out of memory");
	return -1;
}

/*
 * FILTERS (an object's text or "") ANDed with "not this article_type"
 * for each type with MAX_PER_TYPE of the N picks, as a filters_json
 * array: [FILTERS, {"article_type NOT": "T1"}, ...].  0 when there is
 * such a type.
 */
static int
other_types_filters(const struct cands *cs, const int *pick, int n,
    const char *filters, struct buf *out)
{
	int i, j, found = 0;

	buf_puts(out, "[");
	if (filters[0] != '\0')
		buf_puts(out, filters);
	for (i = 0; i < n; i++) {
		const char *type = cand_type(&cs->c[pick[i]]);

		for (j = 0; j < i; j++)
			if (strcmp(cand_type(&cs->c[pick[j]]), type) == 0)
				break;
		if (j < i || type_count(cs, pick, n, type) < MAX_PER_TYPE)
			continue;	/* seen, or not full */
		if (found++ > 0 || filters[0] != '\0')
			buf_puts(out, ",");
		buf_puts(out, "{\"article_type NOT\":");
		buf_json_str(out, type);
		buf_puts(out, "}");
	}
	buf_puts(out, "]");
	return found > 0 && !buf_failed(out) ? 0 : -1;
}

/* The preferences of state row RES into PF. */
static int
load_prefs(struct request *r, const struct profile *p, const PGresult *res,
    struct prefs *pf)
{
	int i;

	memset(pf, 0, sizeof(*pf));
	for (i = 0; i < NLISTS; i++) {
		pf->lists[i] = json_tokener_parse(PQgetvalue(res, 0,
		    S_CATS_JSON + i));
		if (pf->lists[i] == NULL ||
		    !json_object_is_type(pf->lists[i], json_type_array)) {
			request_error(r, 500, "internal", "unreadable "
			    "preferences");
			return -1;
		}
	}
	for (i = 0; i < 2; i++)
		if (!PQgetisnull(res, 0, S_MIN + i)) {
			pf->price_txt[i] = PQgetvalue(res, 0, S_MIN + i);
			pf->price[i] = strtod(pf->price_txt[i], NULL);
		}
	pf->use_brand = p->has_brand &&
	    json_object_array_length(pf->lists[2]) > 0;
	return 0;
}

static void
prefs_free(struct prefs *pf)
{
	int i;

	for (i = 0; i < NLISTS; i++)
		json_object_put(pf->lists[i]);
}

/* Restrictions ($1..$4) and liked products ($5) as SQL. */
#define RESTRICT_SQL "($1::text IS NULL OR sub_category = $1::text) AND " \
	"($2::text IS NULL OR base_color = $2::text) AND " \
	"($3::numeric IS NULL OR price >= $3::numeric) AND " \
	"($4::numeric IS NULL OR price <= $4::numeric) AND " \
	"product_id <> ALL($5::int[])"

/*
 * Vector path: NUM nearest products of VEC under FILTERS, then their
 * catalog rows that satisfy the restrictions (RVALS: $1..$5 of
 * RESTRICT_SQL) and are not candidates yet, appended to CS.  0; 1 when
 * Vector Search failed, with a reason for the response in *WHY (the
 * detail is logged); -1 with the response set (database trouble).
 */
static int
vector_candidates(struct request *r, struct app *app, const struct tables *t,
    const char *const *rvals, const float *vec, const char *filters,
    size_t num, struct cands *cs, const char **why)
{
	const struct profile *p = app->cfg->active;
	struct vs_hit hits[CAND_MAX];
	const char *vals[6];
	char err[1024];
	struct buf ids, sql;
	PGresult *res;
	long long *rowid = NULL;
	size_t nhits = 0, i;
	int rc, row, n, k, ret = -1, base = cs->nres * CAND_MAX;

	buf_init(&ids);
	buf_init(&sql);
	if (cs->nres == NQUERIES) {
		request_error(r, 500, "internal", "too many queries");
		goto out;
	}
	rc = vs_query(app->vs, p->vs_endpoint, p->hybrid_index, vec, DIM,
	    "product_id", filters[0] ? filters : NULL, num, hits, &nhits, err,
	    sizeof(err));
	if (rc != VS_OK) {
		log_warn("recommendations: vector search failed: %s", err);
		*why = rc == VS_TIMEOUT ? "the vector search service did not "
		    "answer in time" : rc == VS_DOWN ? "the vector search "
		    "service is unavailable" : "the vector search service "
		    "failed";
		ret = 1;
		goto out;
	}
	buf_puts(&ids, "{");
	for (i = 0; i < nhits; i++)
		buf_printf(&ids, i ? ",%lld" : "%lld", (long long)hits[i].id);
	buf_puts(&ids, "}");
	buf_printf(&sql, "SELECT %s FROM %s WHERE product_id = ANY($6::int[]) "
	    "AND " RESTRICT_SQL, catalog_columns(p), t->products);
	if (buf_failed(&ids) || buf_failed(&sql)) {
		request_error(r, 500, "internal", "out of memory");
		goto out;
	}
	memcpy(vals, rvals, 5 * sizeof(*vals));
	vals[5] = ids.data;
	if ((res = db_query(&app->db, sql.data, 6, vals, &rc)) == NULL) {
		reply_db_error(r, rc);
		goto out;
	}
	cs->res[cs->nres++] = res;
	n = PQntuples(res);
	if (n > 0 && (rowid = calloc((size_t)n, sizeof(*rowid))) == NULL) {
		request_error(r, 500, "internal", "out of memory");
		goto out;
	}
	for (row = 0; row < n; row++)
		rowid[row] = strtoll(PQgetvalue(res, row, COL_ID), NULL, 10);
	for (i = 0; i < nhits && cs->n < NQUERIES * CAND_MAX; i++) {
		for (row = 0; row < n; row++)
			if (rowid[row] == hits[i].id)
				break;
		if (row == n)
			continue;	/* liked, restricted, or gone */
		rowid[row] = -1;	/* an id listed twice counts once */
		for (k = 0; k < cs->n; k++)
			if (cs->c[k].id == hits[i].id)
				break;
		if (k < cs->n)
			continue;	/* from the first query */
		memset(&cs->c[cs->n], 0, sizeof(cs->c[0]));
		cs->c[cs->n].res = res;
		cs->c[cs->n].row = row;
		cs->c[cs->n].rank = base + (int)i;
		cs->c[cs->n].id = hits[i].id;
		cs->c[cs->n].sim = hits[i].score;
		cs->n++;
	}
	ret = 0;
out:
	free(rowid);
	buf_free(&ids);
	buf_free(&sql);
	return ret;
}

/*
 * Fallback: the products that satisfy the restrictions and are not liked,
 * by rule score (the same rule, as SQL) then product_id, those past
 * MAX_PER_TYPE of their article_type after the others (what diversify()
 * does with them), the first NUM into CS.  0, or -1 with the response set.
 */
static int
sql_candidates(struct request *r, struct app *app, const struct tables *t,
    const char *const *rvals, const PGresult *st, const struct prefs *pf,
    size_t num, struct cands *cs)
{
	const struct profile *p = app->cfg->active;
	const char *vals[11];
	char numtxt[16];
	struct buf sql;
	PGresult *res;
	int rc, row, nv = 5, ret = -1;

	buf_init(&sql);
	memcpy(vals, rvals, 5 * sizeof(*vals));
	vals[nv++] = PQgetvalue(st, 0, S_CATS_PG);
	vals[nv++] = PQgetvalue(st, 0, S_COLORS_PG);
	vals[nv++] = pf->price_txt[0];
	vals[nv++] = pf->price_txt[1];
	if (pf->use_brand)
		vals[nv++] = PQgetvalue(st, 0, S_BRANDS_PG);
	snprintf(numtxt, sizeof(numtxt), "%zu", num);
	vals[nv++] = numtxt;
	buf_printf(&sql, "SELECT * FROM (SELECT %s, rule, row_number() OVER "
	    "(PARTITION BY article_type ORDER BY rule DESC, product_id) AS nth "
	    "FROM (SELECT %s, "
	    "(sub_category = ANY($6::text[]))::int + "
	    "coalesce((base_color = ANY($7::text[]))::int, 0) + "
	    "(($8::numeric IS NULL OR price >= $8::numeric) AND "
	    "($9::numeric IS NULL OR price <= $9::numeric))::int%s AS rule "
	    "FROM %s WHERE " RESTRICT_SQL ") c) d "
	    "ORDER BY nth > %d, rule DESC, product_id LIMIT $%d::int",
	    catalog_columns(p), catalog_columns(p),
	    pf->use_brand ? " + coalesce((brand = ANY($10::text[]))::int, 0)" :
	    "", t->products, MAX_PER_TYPE, nv);
	if (buf_failed(&sql)) {
		request_error(r, 500, "internal", "out of memory");
		goto out;
	}
	if ((res = db_query(&app->db, sql.data, nv, vals, &rc)) == NULL) {
		reply_db_error(r, rc);
		goto out;
	}
	cs->res[cs->nres++] = res;
	for (row = 0; row < PQntuples(res) && cs->n < CAND_MAX; row++) {
		memset(&cs->c[cs->n], 0, sizeof(cs->c[0]));
		cs->c[cs->n].res = res;
		cs->c[cs->n].row = row;
		cs->c[cs->n].rank = row;
		cs->c[cs->n].id = strtoll(PQgetvalue(res, row, COL_ID), NULL,
		    10);
		cs->c[cs->n].sim = -1;
		cs->n++;
	}
	ret = 0;
out:
	buf_free(&sql);
	return ret;
}

/* The response: the picked products, best first, and how. */
static void
recs_json(struct request *r, long long uid, const struct cands *cs,
    const int *pick, int shown, const struct prefs *pf, const char *why,
    long long limit, const struct profile *p)
{
	struct buf b = { 0 };
	int j;

	buf_init(&b);
	buf_reset(&r->body);
	buf_printf(&r->body, "{\"user_id\":%lld,\"products\":[", uid);
	for (j = 0; j < shown; j++) {
		const struct cand *c = &cs->c[pick[j]];

		if (j > 0)
			buf_puts(&r->body, ",");
		buf_puts(&r->body, "{");
		catalog_product_fields(&r->body, c->res, c->row, p);
		if (c->sim >= 0)
			buf_printf(&r->body, ",\"similarity_score\":%.6f",
			    c->sim);
		else
			buf_puts(&r->body, ",\"similarity_score\":null");
		buf_printf(&r->body, ",\"rule_score\":%.4f,\"score\":%.6f,"
		    "\"personalization_reason\":", c->rule, c->score);
		buf_reset(&b);
		reason(&b, c, pf);
		buf_json_strn(&r->body, b.data ? b.data : "", b.len);
		buf_puts(&r->body, "}");
	}
	buf_printf(&r->body, "],\"total\":%d,\"fallback\":%s,"
	    "\"fallback_reason\":", shown, why ? "true" : "false");
	if (why != NULL)
		buf_json_str(&r->body, why);
	else
		buf_puts(&r->body, "null");
	buf_printf(&r->body, ",\"limit\":%lld,\"index\":", limit);
	buf_json_str(&r->body, p->hybrid_index);
	buf_puts(&r->body, ",\"profile\":");
	buf_json_str(&r->body, p->name);
	buf_puts(&r->body, "}");
	if (buf_failed(&r->body) || buf_failed(&b))
		request_error(r, 500, "internal", "out of memory");
	else
		r->status = 200;
	buf_free(&b);
}

void
h_recommendations(struct request *r, struct app *app)
{
	const struct profile *p = app->cfg->active;
	struct cands *cs = NULL;
	struct restriction rs;
	struct prefs pf;
	struct tables t;
	struct buf filters, other;
	const char *rvals[5], *why = NULL, *why2, *style;
	char uidtxt[24];
	float vec[DIM];
	PGresult *st = NULL;
	long long uid, limit, nlikes;
	size_t num;
	int i, shown = 0, pick[RECS_MAX], rc;

	memset(&pf, 0, sizeof(pf));
	buf_init(&filters);
	buf_init(&other);
	if (auth_require_self(r, app, &uid) != 0 ||
	    tables_init(r, p, &t) != 0 ||
	    read_recs_params(r, &limit, &rs) != 0 ||
	    restrict_filters(r, p, &rs, &filters) != 0)
		goto out;
	snprintf(uidtxt, sizeof(uidtxt), "%lld", uid);
	if ((st = state_query(r, app, &t, uidtxt, 1)) == NULL ||
	    load_prefs(r, p, st, &pf) != 0)
		goto out;
	if ((cs = calloc(1, sizeof(*cs))) == NULL) {
		request_error(r, 500, "internal", "out of memory");
		goto out;
	}
	nlikes = strtoll(PQgetvalue(st, 0, S_LIKES), NULL, 10);
	rvals[0] = rs.category;
	rvals[1] = rs.color;
	rvals[2] = rs.price_txt[0][0] ? rs.price_txt[0] : NULL;
	rvals[3] = rs.price_txt[1][0] ? rs.price_txt[1] : NULL;
	rvals[4] = PQgetvalue(st, 0, S_LIKED);

	style = PQgetisnull(st, 0, S_STYLE) ? NULL : PQgetvalue(st, 0, S_STYLE);
	num = (size_t)(CAND_FACTOR * limit + nlikes);
	if (num > CAND_MAX)
		num = CAND_MAX;
	if (style == NULL)
		why = "no style vector yet: like a few products";
	else if (catalog_parse_vector(style, vec, DIM) != 0) {
		log_warn("recommendations: user %lld has a malformed style "
		    "vector", uid);
		why = "the style vector is unreadable";
	} else if (app->vs == NULL)
		why = "vector search is not configured in this worker";
	else if ((rc = vector_candidates(r, app, &t, rvals, vec, filters.len ?
	    filters.data : "", num, cs, &why)) < 0)
		goto out;
	else if (rc == 0) {
		/*
		 * Neighbours are often of one article type: when that leaves
		 * diversity short, ask once more for the other types.
		 */
		rank_cands(cs, &pf);
		shown = diversify(cs, (int)limit, pick, 0);
		if (shown >= 0 && shown < limit && cs->n > shown &&
		    other_types_filters(cs, pick, shown, filters.len ?
		    filters.data : "", &other) == 0 &&
		    vector_candidates(r, app, &t, rvals, vec, other.data, num,
		    cs, &why2) < 0)
			goto out;
	}
	if (why != NULL) {
		num = (size_t)(CAND_FACTOR * limit);
		if (num > CAND_MAX)
			num = CAND_MAX;
		if (sql_candidates(r, app, &t, rvals, st, &pf, num, cs) != 0)
			goto out;
		log_info("recommendations: user %lld: SQL fallback (%s)", uid,
		    why);
	}
	rank_cands(cs, &pf);
	if ((shown = diversify(cs, (int)limit, pick, 1)) < 0) {
		request_error(r, 500, "internal", "out of memory");
		goto out;
	}
	recs_json(r, uid, cs, pick, shown, &pf, why, limit, p);
	log_debug("recommendations: user %lld, %d of %d candidates%s", uid,
	    shown, cs->n, why ? " (fallback)" : "");
out:
	prefs_free(&pf);
	PQclear(st);
	if (cs != NULL)
		for (i = 0; i < cs->nres; i++)
			PQclear(cs->res[i]);
	free(cs);
	buf_free(&filters);
	buf_free(&other);
}
