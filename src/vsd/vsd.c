/*
 * fashion-vsd - the vector search service: the Databricks Vector Search
 * REST API in front of the exact search of src/vsd/ over snapshot files.
 *
 *   fashion-vsd -c FILE        run the master (vs.listen, vs.workers)
 *   fashion-vsd -t -c FILE     check the configuration
 *   fashion-vsd -s INDEX -c FILE   sync one index from PostgreSQL and exit
 *
 * Indexes are declared in vs.indexes (doc/CONFIG.md).  Each is a snapshot
 * file {vs.data_dir}/{name}.snap, built from its source table by a sync and
 * swapped in by rename(2).  Workers map it read-only (the page cache shares
 * it) and, before each request, stat the path: a new file is opened and
 * the old mapping dropped between requests, so a query sees one snapshot.
 *
 *   GET  /api/2.0/vector-search/indexes/{name}                  describe
 *   POST /api/2.0/vector-search/indexes/{name}/query            query
 *   POST /api/2.0/vector-search/indexes/{name}/query-next-page  next page
 *   POST /api/2.0/vector-search/indexes/{name}/sync             sync
 *
 * Errors are Databricks-shaped {"error_code","message"}; a bearer token is
 * required when the variable vs.token_env names is set.  The page token is
 * the query itself (vector, columns, filter, threshold, offset, snapshot
 * generation) as base64 of a JSON object: stateless, so any worker can
 * serve the next page, and refused once the index has been synced since.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <json-c/json.h>

#include "../clipd/base64.h"
#include "clip_client.h"	/* clip_base64() */
#include "config.h"
#include "db.h"
#include "fcgi_worker.h"
#include "filter.h"
#include "log.h"
#include "pool.h"
#include "request.h"
#include "snapshot.h"
#include "topk.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/usr/local/etc"
#endif

#define PREFIX		"/api/2.0/vector-search/indexes/"
#define MAX_RESULTS	10000		/* Databricks' limit per query */
#define TOKEN_VERSION	1

/* One declared index and the snapshot this worker has open for it. */
struct vindex {
	const struct vs_index_decl *decl;
	char		 path[4096];
	struct snapshot	 snap;
	int		 open;
	dev_t		 dev;
	ino_t		 ino;
};

struct vsd {
	const struct settings	*cfg;
	struct vindex		 idx[CFG_MAX_INDEXES];
	int			 nidx;
	const char		*token;		/* required bearer token, NULL = none */
	struct topk_hit		*hits;		/* [vs_page_size] */
	uint64_t		*bits;		/* filter bitmap, grown as needed */
	size_t			 nbits;
	float			 qbuf[SNAP_MAX_DIM];
};

/* One query, as sent or as carried by a page token. */
struct query {
	float		*vec;		/* dim floats (struct vsd's qbuf) */
	size_t		 dim;
	const char	*cols[SNAP_MAX_COLS + 1];
	int		 ncols;
	const char	*filters;	/* JSON text, NULL = none */
	size_t		 filters_len;
	double		 threshold;
	size_t		 num;		/* results wanted in all */
	size_t		 offset;	/* first rank of this page */
	uint64_t	 generation;	/* snapshot a token belongs to */
};

static void
usage(void)
{
	fprintf(stderr, "usage: fashion-vsd [-t] [-s index] [-c config]\n");
	exit(2);
}

/* mkdir -p */
static int
make_dirs(const char *path, char *err, size_t errlen)
{
	char p[4096];
	size_t i, n = strlen(path);

	if (n == 0 || n >= sizeof(p)) {
		snprintf(err, errlen, "vs.data_dir: bad path");
		return -1;
	}
	memcpy(p, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "mkdir %s: %s", p, strerror(errno));
			return -1;
		}
		p[i] = path[i];
	}
	return 0;
}

static int
index_path(const struct settings *s, const char *name, const char *ext,
    char *out, size_t len)
{
	int n = snprintf(out, len, "%s/%s.%s", s->vs_data_dir, name, ext);

	return n > 0 && (size_t)n < len ? 0 : -1;
}

/* Put vs.* where the pool reads its socket, workers and pid file. */
static int
adapt(struct settings *s, char *err, size_t errlen)
{
	if (make_dirs(s->vs_data_dir, err, errlen) != 0)
		return POOL_ERROR;
	return pool_serve_as(s, s->vs_listen, s->vs_pidfile, s->vs_workers,
	    s->vs_max_body, err, errlen);
}

/*
 * The snapshot of X as it is on disk now: reopened when the file was
 * replaced since.  0 with X->snap usable, -1 when there is none (never
 * synced, or the new file does not open: then the old one is kept).
 */
static int
refresh(struct vindex *x)
{
	struct snapshot s;
	struct stat st;
	char err[512];

	if (stat(x->path, &st) != 0)
		return x->open ? 0 : -1;	/* removed: keep serving the old */
	if (x->open && st.st_dev == x->dev && st.st_ino == x->ino)
		return 0;
	if (snapshot_open(x->path, &s, err, sizeof(err)) != SNAP_OK) {
		log_warn("index %s: %s", x->decl->name, err);
		return x->open ? 0 : -1;
	}
	if (x->open)
		snapshot_close(&x->snap);
	x->snap = s;
	x->open = 1;
	x->dev = st.st_dev;
	x->ino = st.st_ino;
	log_info("index %s: snapshot %llu, %zu rows", x->decl->name,
	    (unsigned long long)snapshot_generation(&s), snapshot_rows(&s));
	return 0;
}

static struct vindex *
find_index(struct vsd *v, const char *name)
{
	int i;

	for (i = 0; i < v->nidx; i++)
		if (strcmp(v->idx[i].decl->name, name) == 0)
			return &v->idx[i];
	return NULL;
}

static void
not_found(struct request *r, const char *name)
{
	request_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "Index %.200s does "
	    "not exist.", name);
}

static void
describe(struct vsd *v, struct vindex *x, struct request *r)
{
	const struct vs_index_decl *d = x->decl;
	int i, ready = refresh(x) == 0;

	(void)v;
	buf_reset(&r->body);
	buf_puts(&r->body, "{\"name\":");
	buf_json_str(&r->body, d->name);
	buf_puts(&r->body, ",\"endpoint_name\":\"fashion-vsd\","
	    "\"primary_key\":");
	buf_json_str(&r->body, d->primary_key);
	buf_puts(&r->body, ",\"index_type\":\"DELTA_SYNC\","
	    "\"delta_sync_index_spec\":{\"source_table\":");
	buf_json_str(&r->body, d->source);
	buf_puts(&r->body, ",\"embedding_vector_columns\":[{\"name\":");
	buf_json_str(&r->body, d->embedding_column);
	buf_printf(&r->body, ",\"embedding_dimension\":%u}],"
	    "\"columns_to_sync\":[", ready ? snapshot_dim(&x->snap) : SNAP_DIM);
	buf_json_str(&r->body, d->primary_key);
	for (i = 0; i < d->ncolumns; i++) {
		buf_puts(&r->body, ",");
		buf_json_str(&r->body, d->columns[i]);
	}
	buf_puts(&r->body, "],\"pipeline_type\":\"TRIGGERED\"},\"status\":{");
	if (ready)
		buf_printf(&r->body, "\"ready\":true,\"indexed_row_count\":%zu,"
		    "\"detailed_state\":\"ONLINE_NO_PENDING_UPDATE\","
		    "\"message\":\"snapshot %llu, %llu source rows without a "
		    "vector left out\"", snapshot_rows(&x->snap),
		    (unsigned long long)snapshot_generation(&x->snap),
		    (unsigned long long)x->snap.nskipped);
	else
		buf_puts(&r->body, "\"ready\":false,\"indexed_row_count\":0,"
		    "\"detailed_state\":\"OFFLINE\",\"message\":\"no snapshot "
		    "yet: sync the index\"");
	buf_puts(&r->body, "}}");
	r->status = 200;
}

/* P[0..LEN) as one whole JSON value (depth <= 16), or NULL. */
static struct json_object *
parse_json(const char *p, size_t len)
{
	struct json_tokener *tok;
	struct json_object *o = NULL;

	if (len == 0 || len > INT32_MAX ||
	    (tok = json_tokener_new_ex(16)) == NULL)
		return NULL;
	o = json_tokener_parse_ex(tok, p, (int)len);
	if (o != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* JSON body of R as an object, or NULL with a 400 set. */
static struct json_object *
parse_body(struct request *r)
{
	struct json_object *o = parse_json(r->input.data, r->input.len);

	if (o == NULL) {
		request_error(r, 400, "MALFORMED_REQUEST", "Request body is not "
		    "valid JSON%s", r->input.len == 0 ? " (empty)" : "");
		return NULL;
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		request_error(r, 400, "MALFORMED_REQUEST", "Request body must be "
		    "a JSON object");
		return NULL;
	}
	return o;
}

static int
get_number(struct json_object *o, double *out)
{
	if (!json_object_is_type(o, json_type_double) &&
	    !json_object_is_type(o, json_type_int))
		return -1;
	*out = json_object_get_double(o);
	return isfinite(*out) ? 0 : -1;
}

#define BAD(...) do {							\
	request_error(r, 400, "INVALID_PARAMETER_VALUE", __VA_ARGS__);	\
	return -1;							\
} while (0)

/* query_vector (array of DIM finite numbers) into Q->vec. */
static int
read_vector(struct request *r, struct json_object *a, size_t dim,
    struct query *q)
{
	size_t i, n;
	double d;

	if (a == NULL)
		BAD("query_vector is required: this index has self-managed "
		    "embeddings (query_text needs a model endpoint)");
	if (!json_object_is_type(a, json_type_array))
		BAD("query_vector must be an array of numbers");
	n = json_object_array_length(a);
	if (n != dim)
		BAD("query_vector has %zu dimensions, the index has %zu", n, dim);
	for (i = 0; i < n; i++) {
		if (get_number(json_object_array_get_idx(a, i), &d) != 0 ||
		    fabs(d) > 1e30)
			BAD("query_vector[%zu] is not a finite number", i);
		q->vec[i] = (float)d;
	}
	q->dim = dim;
	return 0;
}

/* columns: each the primary key or a kept column. */
static int
read_columns(struct request *r, struct json_object *a, struct vindex *x,
    struct query *q)
{
	char missing[512];
	size_t i, n, ml = 0;

	q->ncols = 0;
	if (a == NULL) {
		q->cols[q->ncols++] = x->decl->primary_key;
		return 0;
	}
	if (!json_object_is_type(a, json_type_array))
		BAD("columns must be an array of column names");
	n = json_object_array_length(a);
	if (n > SNAP_MAX_COLS + 1)
		BAD("columns: at most %d names", SNAP_MAX_COLS + 1);
	missing[0] = '\0';
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		const char *c;

		if (!json_object_is_type(e, json_type_string))
			BAD("columns[%zu] is not a string", i);
		c = json_object_get_string(e);
		if (strcmp(c, x->decl->primary_key) != 0 &&
		    snapshot_column(&x->snap, c) < 0) {
			char shown[80];

			str_shown(c, strlen(c), 64, shown, sizeof(shown));
			if (ml < sizeof(missing))
				ml += (size_t)snprintf(missing + ml,
				    sizeof(missing) - ml, "%s%s", ml ? ", " : "",
				    shown);
			continue;
		}
		q->cols[q->ncols++] = c;
	}
	if (missing[0] != '\0')
		BAD("Requested columns to fetch are not present in index: %s",
		    missing);
	return 0;
}

/* The bitmap of rows passing Q's filter into V->bits; count into *N. */
static int
run_filter(struct vsd *v, struct request *r, struct vindex *x,
    const struct query *q, const uint64_t **allow, size_t *n)
{
	struct filter *f = NULL;
	char msg[512];
	size_t words;
	int rc;

	*allow = NULL;
	*n = snapshot_rows(&x->snap);
	if (q->filters == NULL)
		return 0;
	rc = filter_parse(&x->snap, q->filters, q->filters_len, &f, msg,
	    sizeof(msg));
	if (rc == FILTER_BAD)
		BAD("%s", msg);
	if (rc != FILTER_OK) {
		request_error(r, 500, "INTERNAL_ERROR", "out of memory");
		return -1;
	}
	if (filter_empty(f)) {
		filter_free(f);
		return 0;
	}
	words = filter_words(snapshot_rows(&x->snap));
	if (words > v->nbits) {
		uint64_t *b = realloc(v->bits, words * sizeof(*b));

		if (b == NULL) {
			filter_free(f);
			request_error(r, 500, "INTERNAL_ERROR", "out of memory");
			return -1;
		}
		v->bits = b;
		v->nbits = words;
	}
	*n = filter_eval(f, v->bits);
	*allow = v->bits;
	filter_free(f);
	return 0;
}

static void
put_value(struct buf *b, const struct snapshot *s, size_t row, int col)
{
	struct snap_value val;

	snapshot_get(s, row, col, &val);
	if (val.null)
		buf_puts(b, "null");
	else if (snapshot_column_type(s, col) == SNAP_TEXT)
		buf_json_strn(b, val.s, val.len);
	else if (snapshot_column_type(s, col) == SNAP_INT)
		buf_printf(b, "%lld", (long long)val.i);
	else
		buf_printf(b, "%.15g", val.d);
}

/* The page token carrying Q from rank OFFSET on (base64 of JSON). */
static void
put_token(struct buf *out, const char *index, const struct query *q,
    size_t offset)
{
	struct buf t;
	size_t i;

	buf_init(&t);
	buf_printf(&t, "{\"v\":%d,\"i\":", TOKEN_VERSION);
	buf_json_str(&t, index);
	buf_printf(&t, ",\"g\":%llu,\"o\":%zu,\"n\":%zu,\"t\":%.17g,\"c\":[",
	    (unsigned long long)q->generation, offset, q->num, q->threshold);
	for (i = 0; i < (size_t)q->ncols; i++) {
		buf_puts(&t, i ? "," : "");
		buf_json_str(&t, q->cols[i]);
	}
	buf_puts(&t, "],\"f\":");
	if (q->filters != NULL)
		buf_json_strn(&t, q->filters, q->filters_len);
	else
		buf_puts(&t, "null");
	buf_puts(&t, ",\"q\":[");
	for (i = 0; i < q->dim; i++)
		buf_printf(&t, i ? ",%.9g" : "%.9g", (double)q->vec[i]);
	buf_puts(&t, "]}");
	buf_puts(out, ",\"next_page_token\":\"");
	clip_base64(out, (const unsigned char *)t.data, t.len);
	buf_puts(out, "\"");
	buf_free(&t);
}

/* Rank, fetch and write one page of Q over X. */
static void
answer(struct vsd *v, struct request *r, struct vindex *x, struct query *q)
{
	const struct snapshot *s = &x->snap;
	const uint64_t *allow;
	size_t matching, want, nout = 0, i;
	int c, k, more;

	if (run_filter(v, r, x, q, &allow, &matching) != 0)
		return;
	if (q->num > matching)
		q->num = matching;
	want = q->offset < q->num ? q->num - q->offset : 0;
	if (want > (size_t)v->cfg->vs_page_size)
		want = (size_t)v->cfg->vs_page_size;
	if (want > 0 && topk_search(s, q->vec, allow, q->offset, want,
	    v->hits, &nout) != TOPK_OK) {
		request_error(r, 400, "INVALID_PARAMETER_VALUE", "query_vector "
		    "is out of range");
		return;
	}
	for (i = 0; i < nout && v->hits[i].score >= q->threshold; i++)
		;
	more = i == nout && q->offset + nout < q->num;
	nout = i;

	buf_reset(&r->body);
	buf_printf(&r->body, "{\"manifest\":{\"column_count\":%d,\"columns\":[",
	    q->ncols + 1);
	for (k = 0; k < q->ncols; k++) {
		buf_puts(&r->body, "{\"name\":");
		buf_json_str(&r->body, q->cols[k]);
		buf_puts(&r->body, "},");
	}
	buf_printf(&r->body, "{\"name\":\"score\"}]},\"result\":{\"row_count\":"
	    "%zu,\"data_array\":[", nout);
	for (i = 0; i < nout; i++) {
		size_t row = v->hits[i].row;

		buf_puts(&r->body, i ? ",[" : "[");
		for (k = 0; k < q->ncols; k++) {
			c = snapshot_column(s, q->cols[k]);
			if (c < 0)	/* the primary key */
				buf_printf(&r->body, "%lld",
				    (long long)snapshot_id(s, row));
			else
				put_value(&r->body, s, row, c);
			buf_puts(&r->body, ",");
		}
		buf_printf(&r->body, "%.17g]", v->hits[i].score);
	}
	buf_puts(&r->body, "]}");
	if (more)
		put_token(&r->body, x->decl->name, q, q->offset + nout);
	buf_puts(&r->body, "}");
	r->status = 200;
	log_debug("query %s: %zu of %zu matching rows from rank %zu",
	    x->decl->name, nout, matching, q->offset);
}

static void
query(struct vsd *v, struct vindex *x, struct request *r)
{
	struct json_object *o, *m;
	struct query q;
	double d;

	if ((o = parse_body(r)) == NULL)
		return;
	memset(&q, 0, sizeof(q));
	q.vec = v->qbuf;
	q.num = 10;
	if (json_object_object_get_ex(o, "query_text", &m) &&
	    !json_object_is_type(m, json_type_null)) {
		request_error(r, 400, "INVALID_PARAMETER_VALUE", "query_text "
		    "needs an index with a model endpoint; %s has self-managed "
		    "embeddings: send query_vector", x->decl->name);
		goto done;
	}
	if (json_object_object_get_ex(o, "query_type", &m) &&
	    !json_object_is_type(m, json_type_null) &&
	    (!json_object_is_type(m, json_type_string) ||
	    strcasecmp(json_object_get_string(m), "ANN") != 0)) {
		request_error(r, 400, "INVALID_PARAMETER_VALUE", "query_type: "
		    "only ANN is supported by this index (no text columns are "
		    "indexed for HYBRID or FULL_TEXT)");
		goto done;
	}
	if (json_object_object_get_ex(o, "num_results", &m) &&
	    !json_object_is_type(m, json_type_null)) {
		if (!json_object_is_type(m, json_type_int) ||
		    json_object_get_int64(m) < 1 ||
		    json_object_get_int64(m) > MAX_RESULTS) {
			request_error(r, 400, "INVALID_PARAMETER_VALUE",
			    "num_results must be an integer from 1 to %d",
			    MAX_RESULTS);
			goto done;
		}
		q.num = (size_t)json_object_get_int64(m);
	}
	if (json_object_object_get_ex(o, "score_threshold", &m) &&
	    !json_object_is_type(m, json_type_null)) {
		if (get_number(m, &d) != 0) {
			request_error(r, 400, "INVALID_PARAMETER_VALUE",
			    "score_threshold must be a number");
			goto done;
		}
		q.threshold = d;
	}
	if (json_object_object_get_ex(o, "filters_json", &m) &&
	    !json_object_is_type(m, json_type_null)) {
		if (!json_object_is_type(m, json_type_string)) {
			request_error(r, 400, "INVALID_PARAMETER_VALUE",
			    "filters_json must be a string holding a JSON "
			    "object");
			goto done;
		}
		q.filters = json_object_get_string(m);
		q.filters_len = (size_t)json_object_get_string_len(m);
		if (q.filters_len == 0)
			q.filters = NULL;
	}
	if (refresh(x) != 0) {
		request_error(r, 400, "FAILED_PRECONDITION", "Index %s is not "
		    "ready: it has not been synced yet", x->decl->name);
		goto done;
	}
	q.generation = snapshot_generation(&x->snap);
	if (read_vector(r, json_object_object_get(o, "query_vector"),
	    snapshot_dim(&x->snap), &q) != 0 ||
	    read_columns(r, json_object_object_get(o, "columns"), x, &q) != 0)
		goto done;
	answer(v, r, x, &q);
done:
	json_object_put(o);
}

/* Q from the page token T (fields point into the parsed object J). */
static int
read_token(struct request *r, struct vindex *x, const char *t, size_t tlen,
    struct query *q, struct json_object **j)
{
	struct json_object *o = NULL, *m;
	unsigned char *raw = NULL;
	size_t rawlen;
	int64_t off, num;

	*j = NULL;
	if (base64_decode(t, tlen, &raw, &rawlen) != BASE64_OK ||
	    (o = parse_json((const char *)raw, rawlen)) == NULL ||
	    !json_object_is_type(o, json_type_object)) {
		free(raw);
		json_object_put(o);
		BAD("page_token is not a token this service issued");
	}
	free(raw);
	*j = o;
	if (!json_object_object_get_ex(o, "v", &m) ||
	    json_object_get_int(m) != TOKEN_VERSION ||
	    !json_object_object_get_ex(o, "i", &m) ||
	    !json_object_is_type(m, json_type_string) ||
	    strcmp(json_object_get_string(m), x->decl->name) != 0)
		BAD("page_token belongs to another index or version");
	if (!json_object_object_get_ex(o, "g", &m) ||
	    (uint64_t)json_object_get_uint64(m) !=
	    snapshot_generation(&x->snap))
		BAD("page_token has expired: index %s was synced since the "
		    "first page", x->decl->name);
	q->generation = snapshot_generation(&x->snap);
	if (!json_object_object_get_ex(o, "o", &m) ||
	    !json_object_is_type(m, json_type_int) ||
	    (off = json_object_get_int64(m)) < 1 || off >= MAX_RESULTS ||
	    !json_object_object_get_ex(o, "n", &m) ||
	    !json_object_is_type(m, json_type_int) ||
	    (num = json_object_get_int64(m)) <= off || num > MAX_RESULTS ||
	    !json_object_object_get_ex(o, "t", &m) ||
	    get_number(m, &q->threshold) != 0)
		BAD("page_token is damaged");
	q->offset = (size_t)off;
	q->num = (size_t)num;
	if (json_object_object_get_ex(o, "f", &m) &&
	    json_object_is_type(m, json_type_string)) {
		q->filters = json_object_get_string(m);
		q->filters_len = (size_t)json_object_get_string_len(m);
	}
	if (read_vector(r, json_object_object_get(o, "q"),
	    snapshot_dim(&x->snap), q) != 0 ||
	    read_columns(r, json_object_object_get(o, "c"), x, q) != 0)
		return -1;
	return 0;
}

static void
next_page(struct vsd *v, struct vindex *x, struct request *r)
{
	struct json_object *o, *m, *j = NULL;
	struct query q;

	if ((o = parse_body(r)) == NULL)
		return;
	memset(&q, 0, sizeof(q));
	q.vec = v->qbuf;
	if (!json_object_object_get_ex(o, "page_token", &m) ||
	    !json_object_is_type(m, json_type_string) ||
	    json_object_get_string_len(m) == 0)
		request_error(r, 400, "INVALID_PARAMETER_VALUE", "page_token "
		    "is required");
	else if (refresh(x) != 0)
		request_error(r, 400, "FAILED_PRECONDITION", "Index %s is not "
		    "ready: it has not been synced yet", x->decl->name);
	else if (read_token(r, x, json_object_get_string(m),
	    (size_t)json_object_get_string_len(m), &q, &j) == 0)
		answer(v, r, x, &q);
	json_object_put(j);
	json_object_put(o);
}

/* "schema"."table" */
static void
put_qualified(struct buf *b, const char *name)
{
	const char *dot = strchr(name, '.');

	buf_printf(b, "\"%.*s\".\"%s\"", (int)(dot - name), name, dot + 1);
}

/*
 * Build the snapshot of D from PostgreSQL and rename it into place; one
 * sync per index at a time (a lock file), the others wait for it.
 */
static int
sync_index(const struct settings *cfg, const struct vs_index_decl *d,
    char *err, size_t errlen, int *down)
{
	char path[4096], lock[4096];
	struct buf sql;
	PGconn *conn;
	int fd, i, rc = -1;

	*down = 0;
	if (index_path(cfg, d->name, "snap", path, sizeof(path)) != 0 ||
	    index_path(cfg, d->name, "lock", lock, sizeof(lock)) != 0) {
		snprintf(err, errlen, "vs.data_dir is too long");
		return -1;
	}
	if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0 ||
	    flock(fd, LOCK_EX) != 0) {
		snprintf(err, errlen, "%.512s: %s", lock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if ((conn = db_connect_simple(cfg, err, errlen)) == NULL) {
		*down = 1;
		close(fd);
		return -1;
	}
	buf_init(&sql);
	buf_printf(&sql, "SELECT \"%s\", \"%s\"", d->primary_key,
	    d->embedding_column);
	for (i = 0; i < d->ncolumns; i++)
		buf_printf(&sql, ", \"%s\"", d->columns[i]);
	buf_puts(&sql, " FROM ");
	put_qualified(&sql, d->source);
	if (d->join[0] != '\0') {
		buf_puts(&sql, " JOIN ");
		put_qualified(&sql, d->join);
		buf_printf(&sql, " USING (\"%s\")", d->primary_key);
	}
	buf_printf(&sql, " ORDER BY \"%s\"", d->primary_key);
	if (buf_failed(&sql))
		snprintf(err, errlen, "out of memory");
	else if (snapshot_build(conn, sql.data, d->primary_key,
	    d->embedding_column, (const char *const *)d->columns, d->ncolumns,
	    path, err, errlen) == SNAP_OK)
		rc = 0;
	buf_free(&sql);
	PQfinish(conn);
	close(fd);	/* releases the lock */
	return rc;
}

static void
do_sync(struct vsd *v, struct vindex *x, struct request *r)
{
	char err[1024];
	int down;

	if (sync_index(v->cfg, x->decl, err, sizeof(err), &down) != 0) {
		log_warn("sync %s: %s", x->decl->name, err);
		if (down)
			request_error(r, 503, "TEMPORARILY_UNAVAILABLE", "sync "
			    "of %s: source database unavailable", x->decl->name);
		else
			request_error(r, 400, "INVALID_PARAMETER_VALUE", "sync "
			    "of %s failed: %s", x->decl->name, err);
		return;
	}
	(void)refresh(x);
	log_info("synced %s: %zu rows", x->decl->name,
	    x->open ? snapshot_rows(&x->snap) : 0);
	buf_reset(&r->body);
	buf_puts(&r->body, "{}");
	r->status = 200;
}

static void
route(struct vsd *v, struct request *r)
{
	char name[256];
	const char *rest, *slash, *verb = "";
	struct vindex *x;
	size_t n;

	if (!request_bearer_ok(r, v->token)) {
		request_error(r, 401, "UNAUTHENTICATED", "missing or wrong bearer "
		    "token");
		return;
	}
	if (strncmp(r->path, PREFIX, strlen(PREFIX)) != 0)
		goto nope;
	rest = r->path + strlen(PREFIX);
	slash = strchr(rest, '/');
	n = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
	if (n == 0 || n >= sizeof(name))
		goto nope;
	memcpy(name, rest, n);
	name[n] = '\0';
	if (slash != NULL) {
		verb = slash + 1;
		if (strcmp(verb, "query") && strcmp(verb, "query-next-page") &&
		    strcmp(verb, "sync"))
			goto nope;
	}
	if ((x = find_index(v, name)) == NULL) {
		not_found(r, name);
		return;
	}
	if (strcmp(r->method, verb[0] ? "POST" : "GET") != 0) {
		r->allow = verb[0] ? "POST" : "GET";
		request_error(r, 405, "BAD_REQUEST", "method %s not allowed",
		    r->method);
		return;
	}
	if (verb[0] == '\0')
		describe(v, x, r);
	else if (strcmp(verb, "query") == 0)
		query(v, x, r);
	else if (strcmp(verb, "query-next-page") == 0)
		next_page(v, x, r);
	else
		do_sync(v, x, r);
	return;
nope:
	request_error(r, 404, "ENDPOINT_NOT_FOUND", "No API found for '%s "
	    "%.200s'", r->method, r->path);
}

static void
serve(void *ctx, FCGX_Request *fcgx)
{
	struct vsd *v = ctx;
	struct request r;
	int close_conn = 0;

	if (request_begin(&r, fcgx) == REQ_OK &&
	    request_read_body(&r, v->cfg->vs_max_body, &close_conn) == REQ_OK)
		route(v, &r);
	if (close_conn && fcgx != NULL)
		fcgx->keepConnection = 0;	/* unread body: don't reuse */
	request_send(&r);
	request_end(&r);
}

static int
vsd_init(struct vsd *v, const struct settings *s)
{
	const char *tok;
	int i;

	memset(v, 0, sizeof(*v));
	v->cfg = s;
	for (i = 0; i < s->vs_nindexes; i++) {
		v->nidx = i + 1;
		v->idx[i].decl = &s->vs_indexes[i];
		if (index_path(s, s->vs_indexes[i].name, "snap", v->idx[i].path,
		    sizeof(v->idx[i].path)) != 0) {
			log_crit("vs.data_dir is too long");
			return -1;
		}
		(void)refresh(&v->idx[i]);	/* map now, not on a query */
	}
	if ((v->hits = calloc((size_t)s->vs_page_size, sizeof(*v->hits))) ==
	    NULL) {
		log_crit("out of memory");
		return -1;
	}
	tok = getenv(s->vs_token_env);
	v->token = tok != NULL && tok[0] != '\0' ? tok : NULL;
	return 0;
}

static void
vsd_free(struct vsd *v)
{
	int i;

	for (i = 0; i < v->nidx; i++)
		if (v->idx[i].open)
			snapshot_close(&v->idx[i].snap);
	free(v->hits);
	free(v->bits);
}

static int
worker_main(const struct settings *s, int listen_fd)
{
	struct vsd v;
	int rc = 1;

	log_init("fashion-vsd", s->log_debug);
	if (vsd_init(&v, s) == 0)
		rc = fcgi_worker_loop(listen_fd, serve, &v);
	vsd_free(&v);
	return rc;
}

int
main(int argc, char *argv[])
{
	const char *file = getenv("FASHION_CONFIG"), *sync_name = NULL;
	const struct vs_index_decl *d;
	struct settings *s;
	char err[1024];
	int ch, test = 0, down;

	if (file == NULL)
		file = SYSCONFDIR "/fashion.cfg";
	while ((ch = getopt(argc, argv, "c:s:th")) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 's':
			sync_name = optarg;
			break;
		case 't':
			test = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("fashion-vsd", 0);
	if ((s = config_load(file, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fashion-vsd: configuration invalid: %s\n", err);
		return 1;
	}
	if (adapt(s, err, sizeof(err)) != POOL_OK) {
		fprintf(stderr, "fashion-vsd: %s\n", err);
		config_free(s);
		return 1;
	}
	if (test) {
		printf("fashion-vsd: configuration %s is valid (%d indexes)\n",
		    file, s->vs_nindexes);
		config_free(s);
		return 0;
	}
	if (sync_name != NULL) {
		if ((d = config_vs_index(s, sync_name)) == NULL) {
			fprintf(stderr, "fashion-vsd: no index %s in vs.indexes\n",
			    sync_name);
			config_free(s);
			return 1;
		}
		if (sync_index(s, d, err, sizeof(err), &down) != 0) {
			fprintf(stderr, "fashion-vsd: sync %s: %s\n", sync_name,
			    err);
			config_free(s);
			return 1;
		}
		config_free(s);
		return 0;
	}
	log_set_debug(s->log_debug);
	request_error_style(REQ_ERRORS_DATABRICKS);
	if (!FCGX_IsCGI()) {
		int rc;

		(void)fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
		rc = worker_main(s, 0);
		config_free(s);
		return rc;
	}
	return pool_run(s, worker_main, adapt);
}
