/* vs_client.c - see vs_client.h */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "buf.h"
#include "config.h"
#include "http_client.h"
#include "vs_client.h"

#define VS_JSON_DEPTH	32	/* a page needs 4; leave room for extra members */
#define VS_NAME_SHOWN	40	/* bytes of a client's filter key shown */
#define VS_PATH		"/api/2.0/vector-search/indexes/"

struct vs_client {
	struct http_client *http;
	char		*base;		/* vs.url without trailing '/' */
	struct buf	 url;		/* URL of the current call, reused */
	struct buf	 body;		/* request, reused */
	struct buf	 resp;		/* response, reused */
	char		 token[VS_TOKEN_MAX + 1]; /* next_page_token */
};

struct vs_client *
vs_client_new(const struct settings *cfg, char *err, size_t errlen)
{
	struct vs_client *c;
	struct http_auth auth;
	size_t ulen;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	buf_init(&c->url);
	buf_init(&c->body);
	buf_init(&c->resp);
	ulen = cfg->vs_url != NULL ? strlen(cfg->vs_url) : 0;
	while (ulen > 0 && cfg->vs_url[ulen - 1] == '/')
		ulen--;
	if (ulen == 0) {
		snprintf(err, errlen, "vs.url is empty");
		goto fail;
	}
	if ((c->base = strndup(cfg->vs_url, ulen)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	auth.base_url = cfg->vs_url;	/* the workspace: {url}/oidc/v1/token */
	auth.token_env = cfg->vs_token_env;
	auth.client_id_env = cfg->vs_client_id_env;
	auth.client_secret_env = cfg->vs_client_secret_env;
	if ((c->http = http_client_new_auth(cfg->vs_connect_timeout,
	    cfg->vs_timeout, cfg->vs_retries, &auth)) == NULL) {
		snprintf(err, errlen, "cannot set up an HTTP client (libcurl)");
		goto fail;
	}
	return c;
fail:
	vs_client_free(c);
	return NULL;
}

void
vs_client_free(struct vs_client *c)
{
	if (c == NULL)
		return;
	http_client_free(c->http);
	free(c->base);
	buf_free(&c->url);
	buf_free(&c->body);
	buf_free(&c->resp);
	free(c);
}

/* c->url = {base}/api/2.0/vector-search/indexes/{INDEX, encoded}{SUFFIX} */
static int
index_url(struct vs_client *c, const char *index, const char *suffix,
    char *err, size_t errlen)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s;
	char pct[3];

	if (index == NULL || index[0] == '\0') {
		snprintf(err, errlen, "no Vector Search index name");
		return VS_ERROR;
	}
	buf_reset(&c->url);
	buf_puts(&c->url, c->base);
	buf_puts(&c->url, VS_PATH);
	for (s = (const unsigned char *)index; *s != '\0'; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		    *s == '-') {
			buf_add(&c->url, s, 1);
			continue;
		}
		pct[0] = '%';
		pct[1] = hex[*s >> 4];
		pct[2] = hex[*s & 15];
		buf_add(&c->url, pct, 3);
	}
	buf_puts(&c->url, suffix);
	if (buf_failed(&c->url)) {
		snprintf(err, errlen, "out of memory");
		return VS_ERROR;
	}
	return VS_OK;
}

/*
 * Parse JSON (LEN bytes) into *OP, which must be an object with nothing
 * but whitespace after it.  VS_OK, VS_BAD or VS_ERROR; *OP is NULL unless
 * VS_OK (then the caller puts it).
 */
static int
parse_object(const char *json, size_t len, struct json_object **op,
    char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error jerr;
	size_t k;

	*op = NULL;
	if (json == NULL || len == 0) {
		snprintf(err, errlen, "empty answer");
		return VS_BAD;
	}
	if (len > (size_t)INT_MAX) {
		snprintf(err, errlen, "answer too large (%zu bytes)", len);
		return VS_BAD;
	}
	if ((tok = json_tokener_new_ex(VS_JSON_DEPTH)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return VS_ERROR;
	}
	o = json_tokener_parse_ex(tok, json, (int)len);
	jerr = json_tokener_get_error(tok);
	/* nothing but whitespace may follow the value */
	for (k = json_tokener_get_parse_end(tok); o != NULL && k < len; k++)
		if (json[k] != ' ' && json[k] != '\n' && json[k] != '\r' &&
		    json[k] != '\t')
			break;
	json_tokener_free(tok);
	if (o == NULL || jerr != json_tokener_success) {
		json_object_put(o);
		snprintf(err, errlen, "answer is not JSON (%s)",
		    jerr == json_tokener_success || jerr ==
		    json_tokener_continue ? "incomplete" :
		    json_tokener_error_desc(jerr));
		return VS_BAD;
	}
	if (k < len) {
		json_object_put(o);
		snprintf(err, errlen, "answer has text after the JSON value");
		return VS_BAD;
	}
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		snprintf(err, errlen, "answer is not a JSON object");
		return VS_BAD;
	}
	*op = o;
	return VS_OK;
}

/*
 * One request to c->url: POST c->body when POST, else GET.  VS_OK with a
 * 2xx answer in c->resp, else the VS_* its outcome maps to.
 */
static int
call(struct vs_client *c, int post, char *err, size_t errlen)
{
	char why[512], msg[HTTP_MSG_MAX + 80];
	long status = 0;
	int r;

	if (post)
		r = http_post_json(c->http, c->url.data, c->body.data,
		    c->body.len, &status, &c->resp, why, sizeof(why));
	else
		r = http_get(c->http, c->url.data, &status, &c->resp, why,
		    sizeof(why));
	switch (r) {
	case HTTP_OK:
		break;
	case HTTP_DOWN:
		snprintf(err, errlen, "Vector Search unreachable: %s", why);
		return VS_DOWN;
	case HTTP_TIMEOUT:
		snprintf(err, errlen, "Vector Search timed out: %s", why);
		return VS_TIMEOUT;
	case HTTP_AUTH_FAILED:
		snprintf(err, errlen, "Vector Search %s: %s", c->url.data, why);
		return VS_BAD;
	default:
		snprintf(err, errlen, "Vector Search: %s", why);
		return VS_ERROR;
	}
	if (status >= 200 && status <= 299)
		return VS_OK;
	http_error_message(&c->resp, msg, sizeof(msg));
	snprintf(err, errlen, "Vector Search %s answered %ld%s%s", c->url.data,
	    status, msg[0] ? ": " : "", msg);
	if (status == 404)
		return VS_NOTFOUND;
	if (status == 504 || status == 408)
		return VS_TIMEOUT;
	if (status == 429 || status >= 500)
		return VS_DOWN;
	return VS_BAD;
}

/* A decimal integer string, optional '-', nothing else. */
static int
parse_int_str(const char *s, size_t len, int64_t *v)
{
	char tmp[24], *end;
	long long ll;
	size_t i = 0;

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	if (s[0] == '-')
		i++;
	if (i == len)
		return -1;
	for (; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	errno = 0;
	ll = strtoll(tmp, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*v = (int64_t)ll;
	return 0;
}

/* A key value: a JSON integer, an integral double or a decimal string. */
static int
key_value(struct json_object *x, int64_t *v)
{
	double d;

	switch (json_object_get_type(x)) {
	case json_type_int:
		*v = json_object_get_int64(x);
		/* json-c clamps what does not fit */
		return *v == INT64_MAX || *v == INT64_MIN ? -1 : 0;
	case json_type_double:
		d = json_object_get_double(x);
		if (!isfinite(d) || d != trunc(d) ||
		    d < -9223372036854775807.0 || d >= 9223372036854775807.0)
			return -1;
		*v = (int64_t)d;
		return 0;
	case json_type_string:
		return parse_int_str(json_object_get_string(x),
		    (size_t)json_object_get_string_len(x), v);
	default:
		return -1;
	}
}

int
vs_parse_page(const char *json, size_t len, const char *key,
    struct vs_hit *out, size_t max, size_t *nout, char *token,
    size_t tokenlen, char *err, size_t errlen)
{
	struct json_object *o = NULL, *man, *cols, *col, *name, *cc, *res;
	struct json_object *data = NULL, *rc, *row, *x, *tok;
	size_t ncols, nrows = 0, i, keycol, tlen;
	const char *s;
	double d;
	int r;

	*nout = 0;
	if (tokenlen > 0)
		token[0] = '\0';
	if ((r = parse_object(json, len, &o, err, errlen)) != VS_OK)
		return r;
	r = VS_BAD;

	/* manifest: the columns, KEY among them, "score" last */
	if (!json_object_object_get_ex(o, "manifest", &man) ||
	    !json_object_is_type(man, json_type_object) ||
	    !json_object_object_get_ex(man, "columns", &cols) ||
	    !json_object_is_type(cols, json_type_array)) {
		snprintf(err, errlen, "answer has no \"manifest\" with a "
		    "\"columns\" array");
		goto out;
	}
	ncols = json_object_array_length(cols);
	keycol = ncols;
	for (i = 0; i < ncols; i++) {
		col = json_object_array_get_idx(cols, i);
		if (!json_object_is_type(col, json_type_object) ||
		    !json_object_object_get_ex(col, "name", &name) ||
		    !json_object_is_type(name, json_type_string)) {
			snprintf(err, errlen, "manifest column %zu has no "
			    "name", i);
			goto out;
		}
		s = json_object_get_string(name);
		if (keycol == ncols && i + 1 < ncols && strcmp(s, key) == 0)
			keycol = i;
		if (i + 1 == ncols && strcmp(s, "score") != 0) {
			snprintf(err, errlen, "the last manifest column is not "
			    "\"score\"");
			goto out;
		}
	}
	if (keycol == ncols) {
		snprintf(err, errlen, "manifest has no column \"%.64s\"", key);
		goto out;
	}
	if (json_object_object_get_ex(man, "column_count", &cc) &&
	    (!json_object_is_type(cc, json_type_int) ||
	    json_object_get_int64(cc) != (int64_t)ncols)) {
		snprintf(err, errlen, "manifest column_count is not %zu", ncols);
		goto out;
	}

	/* result: data_array may be left out when there are no rows */
	if (json_object_object_get_ex(o, "result", &res) &&
	    !json_object_is_type(res, json_type_null)) {
		if (!json_object_is_type(res, json_type_object)) {
			snprintf(err, errlen, "\"result\" is not an object");
			goto out;
		}
		if (json_object_object_get_ex(res, "data_array", &data) &&
		    !json_object_is_type(data, json_type_null)) {
			if (!json_object_is_type(data, json_type_array)) {
				snprintf(err, errlen, "\"data_array\" is not an "
				    "array");
				goto out;
			}
			nrows = json_object_array_length(data);
		}
		if (json_object_object_get_ex(res, "row_count", &rc) &&
		    (!json_object_is_type(rc, json_type_int) ||
		    json_object_get_int64(rc) != (int64_t)nrows)) {
			snprintf(err, errlen, "row_count does not match the "
			    "%zu rows of data_array", nrows);
			goto out;
		}
	}
	if (nrows > max) {
		snprintf(err, errlen, "%zu rows, more than the %zu asked for",
		    nrows, max);
		goto out;
	}
	for (i = 0; i < nrows; i++) {
		row = json_object_array_get_idx(data, i);
		if (!json_object_is_type(row, json_type_array) ||
		    json_object_array_length(row) != ncols) {
			snprintf(err, errlen, "row %zu is not an array of %zu "
			    "values", i, ncols);
			goto out;
		}
		if (key_value(json_object_array_get_idx(row, keycol),
		    &out[i].id) != 0) {
			snprintf(err, errlen, "row %zu: %.64s is not an integer",
			    i, key);
			goto out;
		}
		x = json_object_array_get_idx(row, ncols - 1);
		if (!json_object_is_type(x, json_type_double) &&
		    !json_object_is_type(x, json_type_int)) {
			snprintf(err, errlen, "row %zu: score is not a number",
			    i);
			goto out;
		}
		d = json_object_get_double(x);
		if (!isfinite(d)) {
			snprintf(err, errlen, "row %zu: score is not finite", i);
			goto out;
		}
		out[i].score = d;
	}

	/* next_page_token: absent, null or "" when there are no more */
	if (json_object_object_get_ex(o, "next_page_token", &tok) &&
	    !json_object_is_type(tok, json_type_null)) {
		if (!json_object_is_type(tok, json_type_string)) {
			snprintf(err, errlen, "next_page_token is not a string");
			goto out;
		}
		s = json_object_get_string(tok);
		tlen = (size_t)json_object_get_string_len(tok);
		if (strlen(s) != tlen) {
			snprintf(err, errlen, "next_page_token holds a NUL byte");
			goto out;
		}
		if (tlen >= tokenlen) {
			snprintf(err, errlen, "next_page_token longer than %zu "
			    "bytes", tokenlen > 0 ? tokenlen - 1 : 0);
			goto out;
		}
		memcpy(token, s, tlen + 1);
	}
	*nout = nrows;
	r = VS_OK;
out:
	if (r != VS_OK && tokenlen > 0)
		token[0] = '\0';
	json_object_put(o);
	return r;
}

/* Best first; equal scores by id, so the order is the same every time. */
static int
hit_cmp(const void *a, const void *b)
{
	const struct vs_hit *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int
vs_query(struct vs_client *c, const char *endpoint, const char *index,
    const float *vec, size_t dim, const char *key, const char *filters_json,
    size_t num, struct vs_hit *out, size_t *nout, char *err, size_t errlen)
{
	char why[256], num_s[32];
	size_t i, have = 0, n = 0;
	int r, page = 1, n_s;

	err[0] = '\0';
	*nout = 0;
	if (endpoint == NULL || endpoint[0] == '\0' || key == NULL ||
	    key[0] == '\0' || vec == NULL || dim == 0 || num < 1 ||
	    num > VS_MAX_RESULTS || out == NULL) {
		snprintf(err, errlen, "vs_query: bad arguments (endpoint, key, "
		    "vector or num_results %zu out of 1..%d)", num,
		    VS_MAX_RESULTS);
		return VS_ERROR;
	}
	for (i = 0; i < dim; i++)
		if (!isfinite(vec[i])) {
			snprintf(err, errlen, "vs_query: query vector element "
			    "%zu is not finite", i);
			return VS_ERROR;
		}
	if ((r = index_url(c, index, "/query", err, errlen)) != VS_OK)
		return r;

	buf_reset(&c->body);
	buf_puts(&c->body, "{\"query_vector\":[");
	for (i = 0; i < dim; i++) {
		n_s = snprintf(num_s, sizeof(num_s), "%s%.9g", i > 0 ? "," : "",
		    (double)vec[i]);
		if (n_s < 0 || (size_t)n_s >= sizeof(num_s)) {
			snprintf(err, errlen, "vs_query: cannot format the "
			    "vector");
			return VS_ERROR;
		}
		buf_add(&c->body, num_s, (size_t)n_s);
	}
	buf_puts(&c->body, "],\"columns\":[");
	buf_json_str(&c->body, key);
	buf_printf(&c->body, "],\"num_results\":%zu", num);
	if (filters_json != NULL && filters_json[0] != '\0') {
		buf_puts(&c->body, ",\"filters_json\":");
		buf_json_str(&c->body, filters_json);
	}
	buf_puts(&c->body, ",\"query_type\":\"ANN\"}");
	if (buf_failed(&c->body))
		goto nomem;

	for (;;) {
		if ((r = call(c, 1, err, errlen)) != VS_OK)
			return r;
		r = vs_parse_page(c->resp.data, c->resp.len, key, out + have,
		    num - have, &n, c->token, sizeof(c->token), why,
		    sizeof(why));
		if (r != VS_OK) {
			snprintf(err, errlen, "Vector Search %s: page %d: %s",
			    c->url.data, page, why);
			return r;
		}
		have += n;
		/* an empty page ends it too, whatever its token says */
		if (c->token[0] == '\0' || have == num || n == 0)
			break;
		if ((r = index_url(c, index, "/query-next-page", err,
		    errlen)) != VS_OK)
			return r;
		buf_reset(&c->body);
		buf_puts(&c->body, "{\"endpoint_name\":");
		buf_json_str(&c->body, endpoint);
		buf_puts(&c->body, ",\"page_token\":");
		buf_json_str(&c->body, c->token);
		buf_puts(&c->body, "}");
		if (buf_failed(&c->body))
			goto nomem;
		page++;
	}
	for (i = 1; i < have; i++)
		if (hit_cmp(&out[i - 1], &out[i]) > 0) {
			qsort(out, have, sizeof(*out), hit_cmp);
			break;
		}
	*nout = have;
	return VS_OK;
nomem:
	snprintf(err, errlen, "out of memory");
	return VS_ERROR;
}

int
vs_describe(struct vs_client *c, const char *index, int *ready,
    long long *rows, char *state, size_t statelen, char *err, size_t errlen)
{
	struct json_object *o = NULL, *st, *x;
	char why[256];
	int64_t v;
	size_t i;
	int r;

	err[0] = '\0';
	*ready = 0;
	*rows = -1;
	if (statelen > 0)
		state[0] = '\0';
	if ((r = index_url(c, index, "", err, errlen)) != VS_OK)
		return r;
	if ((r = call(c, 0, err, errlen)) != VS_OK)
		return r;
	if ((r = parse_object(c->resp.data, c->resp.len, &o, why,
	    sizeof(why))) != VS_OK) {
		snprintf(err, errlen, "Vector Search %s: %s", c->url.data, why);
		return r;
	}
	r = VS_BAD;
	if (!json_object_object_get_ex(o, "status", &st) ||
	    !json_object_is_type(st, json_type_object)) {
		snprintf(err, errlen, "Vector Search %s: answer has no "
		    "\"status\" object", c->url.data);
		goto out;
	}
	if (json_object_object_get_ex(st, "ready", &x) &&
	    !json_object_is_type(x, json_type_null)) {
		if (!json_object_is_type(x, json_type_boolean)) {
			snprintf(err, errlen, "Vector Search %s: status.ready "
			    "is not a boolean", c->url.data);
			goto out;
		}
		*ready = json_object_get_boolean(x) ? 1 : 0;
	}
	if (json_object_object_get_ex(st, "indexed_row_count", &x) &&
	    !json_object_is_type(x, json_type_null)) {
		if ((!json_object_is_type(x, json_type_int) &&
		    !json_object_is_type(x, json_type_string)) ||
		    key_value(x, &v) != 0 || v < 0) {
			snprintf(err, errlen, "Vector Search %s: "
			    "status.indexed_row_count is not a count",
			    c->url.data);
			goto out;
		}
		*rows = (long long)v;
	}
	if (json_object_object_get_ex(st, "detailed_state", &x) &&
	    json_object_is_type(x, json_type_string) && statelen > 0) {
		snprintf(state, statelen, "%s", json_object_get_string(x));
		for (i = 0; state[i] != '\0'; i++)
			if ((unsigned char)state[i] < 0x20 ||
			    (unsigned char)state[i] >= 0x7f)
				state[i] = ' ';
	}
	r = VS_OK;
out:
	if (r != VS_OK) {
		*ready = 0;
		*rows = -1;
		if (statelen > 0)
			state[0] = '\0';
	}
	json_object_put(o);
	return r;
}

int
vs_sync(struct vs_client *c, const char *index, char *err, size_t errlen)
{
	int r;

	err[0] = '\0';
	if ((r = index_url(c, index, "/sync", err, errlen)) != VS_OK)
		return r;
	buf_reset(&c->body);
	buf_puts(&c->body, "{}");
	if (buf_failed(&c->body)) {
		snprintf(err, errlen, "out of memory");
		return VS_ERROR;
	}
	return call(c, 1, err, errlen);
}

/* ----------------------------------------------------------------------
 * API filters -> filters_json
 */

enum fkind {
	F_TEXT,		/* a string or a list of strings */
	F_BRAND,	/* the same, when the profile has a brand column */
	F_YEAR,		/* an integer or a list of integers */
	F_MIN_PRICE,	/* a number >= 0 */
	F_MAX_PRICE
};

/* In the order they are written out. */
static const struct {
	const char	*name;
	enum fkind	 kind;
} fkeys[] = {
	{ "gender", F_TEXT },
	{ "master_category", F_TEXT },
	{ "sub_category", F_TEXT },
	{ "article_type", F_TEXT },
	{ "base_color", F_TEXT },
	{ "season", F_TEXT },
	{ "usage", F_TEXT },
	{ "brand", F_BRAND },
	{ "year", F_YEAR },
	{ "min_price", F_MIN_PRICE },
	{ "max_price", F_MAX_PRICE }
};
#define NFKEYS	(sizeof(fkeys) / sizeof(fkeys[0]))

/* One string value of filter NAME (element IDX of a list, or -1). */
static int
text_value(const char *name, long idx, struct json_object *x,
    struct buf *out, char *msg, size_t msglen)
{
	const char *s;
	char where[80];
	size_t len;

	if (idx < 0)
		snprintf(where, sizeof(where), "filter %s", name);
	else
		snprintf(where, sizeof(where), "filter %s[%ld]", name, idx);
	if (!json_object_is_type(x, json_type_string)) {
		snprintf(msg, msglen, "%s: expected a string%s", where,
		    idx < 0 ? " or a list of strings" : "");
		return VS_BAD;
	}
	s = json_object_get_string(x);
	len = (size_t)json_object_get_string_len(x);
	if (len == 0) {
		snprintf(msg, msglen, "%s: empty string", where);
		return VS_BAD;
	}
	if (len > VS_FILTER_STR_MAX) {
		snprintf(msg, msglen, "%s: longer than %d bytes", where,
		    VS_FILTER_STR_MAX);
		return VS_BAD;
	}
	if (!utf8_valid(s, len)) {
		snprintf(msg, msglen, "%s: not valid UTF-8 (or holds a NUL "
		    "byte)", where);
		return VS_BAD;
	}
	buf_json_strn(out, s, len);
	return VS_OK;
}

static int
year_value(const char *name, long idx, struct json_object *x,
    struct buf *out, char *msg, size_t msglen)
{
	int64_t y;

	if (!json_object_is_type(x, json_type_int) ||
	    (y = json_object_get_int64(x)) < VS_YEAR_MIN || y > VS_YEAR_MAX) {
		if (idx < 0)
			snprintf(msg, msglen, "filter %s: expected an integer "
			    "in %d..%d or a list of them", name, VS_YEAR_MIN,
			    VS_YEAR_MAX);
		else
			snprintf(msg, msglen, "filter %s[%ld]: expected an "
			    "integer in %d..%d", name, idx, VS_YEAR_MIN,
			    VS_YEAR_MAX);
		return VS_BAD;
	}
	buf_printf(out, "%" PRId64, y);
	return VS_OK;
}

/* A value or a list of 1..VS_FILTER_LIST_MAX values of filter NAME. */
static int
list_or_value(const char *name, struct json_object *v,
    int (*one)(const char *, long, struct json_object *, struct buf *,
    char *, size_t), struct buf *out, char *msg, size_t msglen)
{
	size_t i, n;
	int r;

	if (!json_object_is_type(v, json_type_array))
		return one(name, -1, v, out, msg, msglen);
	n = json_object_array_length(v);
	if (n == 0 || n > VS_FILTER_LIST_MAX) {
		snprintf(msg, msglen, "filter %s: a list needs 1 to %d values",
		    name, VS_FILTER_LIST_MAX);
		return VS_BAD;
	}
	buf_add(out, "[", 1);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_add(out, ",", 1);
		r = one(name, (long)i, json_object_array_get_idx(v, i), out,
		    msg, msglen);
		if (r != VS_OK)
			return r;
	}
	buf_add(out, "]", 1);
	return VS_OK;
}

/* A price bound as the shortest text that reads back as the same value. */
static int
price_value(const char *name, struct json_object *v, double *d,
    struct buf *out, char *msg, size_t msglen)
{
	char s[40];
	int64_t i;
	int prec;

	if (json_object_is_type(v, json_type_int)) {
		i = json_object_get_int64(v);
		if (i < 0 || i == INT64_MAX)	/* clamped by json-c */
			goto bad;
		*d = (double)i;
		buf_printf(out, "%" PRId64, i);
		return VS_OK;
	}
	if (!json_object_is_type(v, json_type_double))
		goto bad;
	*d = json_object_get_double(v);
	if (!isfinite(*d) || *d < 0)
		goto bad;
	if (*d == 0)
		*d = 0;		/* no "-0" */
	for (prec = 15; prec <= 17; prec++) {
		snprintf(s, sizeof(s), "%.*g", prec, *d);
		if (strtod(s, NULL) == *d)
			break;
	}
	buf_puts(out, s);
	return VS_OK;
bad:
	snprintf(msg, msglen, "filter %s: expected a finite number >= 0", name);
	return VS_BAD;
}

int
vs_filters_from_api(struct json_object *filters, const struct profile *p,
    struct buf *out, char *msg, size_t msglen)
{
	struct json_object *v;
	char shown[VS_NAME_SHOWN + 4];
	double minp = 0, maxp = 0;
	int r = VS_BAD, have_min = 0, have_max = 0, nkeys = 0;
	size_t k;

	buf_reset(out);
	if (msglen > 0)
		msg[0] = '\0';
	if (filters == NULL || json_object_is_type(filters, json_type_null))
		return VS_OK;
	if (!json_object_is_type(filters, json_type_object)) {
		snprintf(msg, msglen, "filters must be an object");
		return VS_BAD;
	}
	/* every key known and allowed before anything is written */
	json_object_object_foreach(filters, name, val) {
		(void)val;
		for (k = 0; k < NFKEYS; k++)
			if (strcmp(name, fkeys[k].name) == 0)
				break;
		if (k == NFKEYS) {
			str_shown(name, strlen(name), VS_NAME_SHOWN, shown,
			    sizeof(shown));
			snprintf(msg, msglen, "unknown filter \"%s\"", shown);
			return VS_BAD;
		}
		if (fkeys[k].kind == F_BRAND && !p->has_brand) {
			snprintf(msg, msglen, "filter brand is not available in "
			    "profile %s", p->name);
			return VS_BAD;
		}
	}
	for (k = 0; k < NFKEYS; k++) {
		if (!json_object_object_get_ex(filters, fkeys[k].name, &v))
			continue;
		buf_add(out, nkeys++ == 0 ? "{" : ",", 1);
		switch (fkeys[k].kind) {
		case F_TEXT:
		case F_BRAND:
			buf_json_str(out, fkeys[k].name);
			buf_add(out, ":", 1);
			r = list_or_value(fkeys[k].name, v, text_value, out, msg,
			    msglen);
			break;
		case F_YEAR:
			buf_json_str(out, fkeys[k].name);
			buf_add(out, ":", 1);
			r = list_or_value(fkeys[k].name, v, year_value, out, msg,
			    msglen);
			break;
		case F_MIN_PRICE:
			buf_puts(out, "\"price >=\":");
			r = price_value(fkeys[k].name, v, &minp, out, msg,
			    msglen);
			have_min = 1;
			break;
		case F_MAX_PRICE:
			buf_puts(out, "\"price <=\":");
			r = price_value(fkeys[k].name, v, &maxp, out, msg,
			    msglen);
			have_max = 1;
			break;
		}
		if (r != VS_OK)
			goto fail;
	}
	if (have_min && have_max && minp > maxp) {
		snprintf(msg, msglen, "filter min_price is greater than "
		    "max_price");
		r = VS_BAD;
		goto fail;
	}
	if (nkeys > 0)
		buf_add(out, "}", 1);
	if (buf_failed(out)) {
		snprintf(msg, msglen, "out of memory");
		r = VS_ERROR;
		goto fail;
	}
	return VS_OK;
fail:
	buf_reset(out);
	return r;
}
