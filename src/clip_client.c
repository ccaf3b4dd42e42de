/* clip_client.c - see clip_client.h */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "buf.h"
#include "clip_client.h"
#include "config.h"
#include "http_client.h"

#define CLIP_JSON_DEPTH	8	/* {"predictions": [[...]]} needs 3 */

struct clip_client {
	struct http_client *http;
	char		*url;		/* .../serving-endpoints/{name}/invocations */
	char		*describe_url;	/* .../api/2.0/serving-endpoints/{name} */
	size_t		 max_batch;	/* records per invocation */
	size_t		 max_body;	/* bytes per invocation */
	struct buf	 body;		/* request, reused */
	struct buf	 row;		/* one encoded record, reused */
	struct buf	 resp;		/* response, reused */
};

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
clip_base64(struct buf *out, const unsigned char *p, size_t len)
{
	char chunk[1024];
	size_t i, n = 0;
	unsigned v;

	for (i = 0; i + 3 <= len; i += 3) {
		v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
		chunk[n++] = b64[v >> 18];
		chunk[n++] = b64[(v >> 12) & 63];
		chunk[n++] = b64[(v >> 6) & 63];
		chunk[n++] = b64[v & 63];
		if (n == sizeof(chunk)) {
			buf_add(out, chunk, n);
			n = 0;
		}
	}
	if (len - i == 1) {
		v = (unsigned)p[i] << 16;
		chunk[n++] = b64[v >> 18];
		chunk[n++] = b64[(v >> 12) & 63];
		chunk[n++] = '=';
		chunk[n++] = '=';
	} else if (len - i == 2) {
		v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
		chunk[n++] = b64[v >> 18];
		chunk[n++] = b64[(v >> 12) & 63];
		chunk[n++] = b64[(v >> 6) & 63];
		chunk[n++] = '=';
	}
	buf_add(out, chunk, n);
}

/* Endpoint names go into the URL path unescaped: allow the safe ones. */
static int
endpoint_ok(const char *s)
{
	if (s[0] == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		    *s == '.'))
			return 0;
	return 1;
}

struct clip_client *
clip_client_new(const struct settings *cfg, char *err, size_t errlen)
{
	struct clip_client *c;
	struct http_auth auth;
	struct buf url;
	size_t ulen;

	buf_init(&url);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	buf_init(&c->body);
	buf_init(&c->row);
	buf_init(&c->resp);
	if (!endpoint_ok(cfg->clip_endpoint)) {
		snprintf(err, errlen, "clip.endpoint \"%s\": only letters, "
		    "digits, '-', '_' and '.' are allowed", cfg->clip_endpoint);
		goto fail;
	}
	ulen = strlen(cfg->clip_url);
	while (ulen > 0 && cfg->clip_url[ulen - 1] == '/')
		ulen--;
	if (ulen == 0) {
		snprintf(err, errlen, "clip.url is empty");
		goto fail;
	}
	buf_add(&url, cfg->clip_url, ulen);
	buf_printf(&url, "/serving-endpoints/%s/invocations",
	    cfg->clip_endpoint);
	if (buf_failed(&url)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	c->url = url.data;
	buf_init(&url);
	buf_add(&url, cfg->clip_url, ulen);
	buf_printf(&url, "/api/2.0/serving-endpoints/%s", cfg->clip_endpoint);
	if (buf_failed(&url)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	c->describe_url = url.data;
	buf_init(&url);
	c->max_batch = cfg->clip_max_batch > 0 ? (size_t)cfg->clip_max_batch : 1;
	c->max_body = cfg->clip_max_body > 0 ? (size_t)cfg->clip_max_body :
	    (size_t)HTTP_MAX_RESPONSE;
	auth.base_url = cfg->clip_url;	/* the workspace: {url}/oidc/v1/token */
	auth.token_env = cfg->clip_token_env;
	auth.client_id_env = cfg->clip_client_id_env;
	auth.client_secret_env = cfg->clip_client_secret_env;
	if ((c->http = http_client_new_auth(cfg->clip_connect_timeout,
	    cfg->clip_timeout, cfg->clip_retries, &auth)) == NULL) {
		snprintf(err, errlen, "cannot set up an HTTP client (libcurl; "
		    "or a CR/LF in the token variable %s)", cfg->clip_token_env);
		goto fail;
	}
	return c;
fail:
	buf_free(&url);
	clip_client_free(c);
	return NULL;
}

void
clip_client_free(struct clip_client *c)
{
	if (c == NULL)
		return;
	http_client_free(c->http);
	free(c->url);
	free(c->describe_url);
	buf_free(&c->body);
	buf_free(&c->row);
	buf_free(&c->resp);
	free(c);
}

const char *
clip_client_url(const struct clip_client *c)
{
	return c->url;
}

/* Record I as JSON into c->row.  CLIP_OK or CLIP_BAD. */
static int
encode_row(struct clip_client *c, const struct clip_input *r, size_t i,
    char *err, size_t errlen)
{
	buf_reset(&c->row);
	if ((r->text != NULL) == (r->image != NULL)) {
		snprintf(err, errlen, "row %zu: needs exactly one of text and "
		    "image", i);
		return CLIP_BAD;
	}
	if (r->text != NULL) {
		if (!utf8_valid(r->text, r->text_len)) {
			snprintf(err, errlen, "row %zu: text is not valid UTF-8 "
			    "(or holds a NUL byte)", i);
			return CLIP_BAD;
		}
		buf_puts(&c->row, "{\"text\":");
		buf_json_strn(&c->row, r->text, r->text_len);
	} else {
		if (r->image_len == 0) {
			snprintf(err, errlen, "row %zu: empty image", i);
			return CLIP_BAD;
		}
		buf_puts(&c->row, "{\"image\":\"");
		clip_base64(&c->row, r->image, r->image_len);
		buf_puts(&c->row, "\"");
	}
	buf_puts(&c->row, "}");
	return CLIP_OK;
}

/* Parse {"predictions": [[CLIP_DIM numbers] x N]} into OUT. */
static int
parse_predictions(const struct buf *resp, size_t n, float *out, char *err,
    size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *o = NULL, *preds, *row, *x;
	enum json_tokener_error jerr;
	size_t i, j, k;
	double d;
	int rc = CLIP_BAD;

	if (resp->len == 0 || resp->len > (size_t)HTTP_MAX_RESPONSE) {
		snprintf(err, errlen, "empty answer");
		return CLIP_BAD;
	}
	if ((tok = json_tokener_new_ex(CLIP_JSON_DEPTH)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return CLIP_ERROR;
	}
	o = json_tokener_parse_ex(tok, resp->data, (int)resp->len);
	jerr = json_tokener_get_error(tok);
	/* nothing but whitespace may follow the value */
	for (k = json_tokener_get_parse_end(tok); o != NULL && k < resp->len;
	    k++)
		if (resp->data[k] != ' ' && resp->data[k] != '\n' &&
		    resp->data[k] != '\r' && resp->data[k] != '\t')
			break;
	json_tokener_free(tok);
	if (o == NULL || jerr != json_tokener_success) {
		snprintf(err, errlen, "answer is not JSON (%s)",
		    json_tokener_error_desc(jerr));
		goto out;
	}
	if (k < resp->len) {
		snprintf(err, errlen, "answer has text after the JSON value");
		goto out;
	}
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "predictions", &preds) ||
	    !json_object_is_type(preds, json_type_array)) {
		snprintf(err, errlen, "answer has no \"predictions\" array");
		goto out;
	}
	if (json_object_array_length(preds) != n) {
		snprintf(err, errlen, "%zu predictions for %zu records",
		    json_object_array_length(preds), n);
		goto out;
	}
	for (i = 0; i < n; i++) {
		row = json_object_array_get_idx(preds, i);
		if (!json_object_is_type(row, json_type_array) ||
		    json_object_array_length(row) != CLIP_DIM) {
			snprintf(err, errlen, "prediction %zu is not an array "
			    "of %d numbers", i, CLIP_DIM);
			goto out;
		}
		for (j = 0; j < CLIP_DIM; j++) {
			x = json_object_array_get_idx(row, j);
			if (!json_object_is_type(x, json_type_double) &&
			    !json_object_is_type(x, json_type_int)) {
				snprintf(err, errlen, "prediction %zu[%zu] is not "
				    "a number", i, j);
				goto out;
			}
			d = json_object_get_double(x);
			if (!isfinite(d) || fabs(d) > 3.4e38) {
				snprintf(err, errlen, "prediction %zu[%zu] is out "
				    "of range", i, j);
				goto out;
			}
			out[i * CLIP_DIM + j] = (float)d;
		}
	}
	rc = CLIP_OK;
out:
	json_object_put(o);
	return rc;
}

/* One invocation: c->body holds the records ROWS..ROWS+N. */
static int
invoke(struct clip_client *c, size_t first, size_t n, float *out, char *err,
    size_t errlen)
{
	char why[512], msg[HTTP_MSG_MAX + 80];
	long status;
	int r;

	r = http_post_json(c->http, c->url, c->body.data, c->body.len, &status,
	    &c->resp, why, sizeof(why));
	switch (r) {
	case HTTP_OK:
		break;
	case HTTP_DOWN:
		snprintf(err, errlen, "CLIP endpoint unreachable: %s", why);
		return CLIP_DOWN;
	case HTTP_TIMEOUT:
		snprintf(err, errlen, "CLIP endpoint timed out: %s", why);
		return CLIP_TIMEOUT;
	case HTTP_AUTH_FAILED:
		snprintf(err, errlen, "CLIP endpoint %s: %s", c->url, why);
		return CLIP_UPSTREAM;
	default:
		snprintf(err, errlen, "CLIP endpoint: %s", why);
		return CLIP_ERROR;
	}
	if (status >= 200 && status <= 299) {
		r = parse_predictions(&c->resp, n, out, why, sizeof(why));
		if (r != CLIP_OK) {
			snprintf(err, errlen, "CLIP endpoint %s: records %zu..%zu: "
			    "%s", c->url, first, first + n - 1, why);
			return r == CLIP_BAD ? CLIP_UPSTREAM : r;
		}
		return CLIP_OK;
	}
	http_error_message(&c->resp, msg, sizeof(msg));
	snprintf(err, errlen, "CLIP endpoint %s answered %ld%s%s", c->url,
	    status, msg[0] ? ": " : "", msg);
	if (status == 504 || status == 408)
		return CLIP_TIMEOUT;
	if (status == 429 || status >= 500)
		return CLIP_DOWN;
	if (status == 401 || status == 403)
		return CLIP_UPSTREAM;
	return CLIP_BAD;
}

int
clip_embed(struct clip_client *c, const struct clip_input *rows, size_t n,
    float *out, char *err, size_t errlen)
{
	static const char head[] = "{\"dataframe_records\":[";
	static const char tail[] = "]}";
	size_t i, first = 0, inbody = 0;
	int r;

	err[0] = '\0';
	buf_reset(&c->body);
	buf_add(&c->body, head, sizeof(head) - 1);
	for (i = 0; i < n; i++) {
		if ((r = encode_row(c, &rows[i], i, err, errlen)) != CLIP_OK)
			return r;
		if (buf_failed(&c->row))
			goto nomem;
		/* +1 for the comma */
		if (c->row.len > c->max_body - (sizeof(head) + sizeof(tail))) {
			snprintf(err, errlen, "row %zu: %zu bytes encoded, more "
			    "than clip.max_body (%zu)", i, c->row.len,
			    c->max_body);
			return CLIP_BAD;
		}
		if (inbody > 0 && (inbody == c->max_batch || c->body.len + 1 +
		    c->row.len + sizeof(tail) - 1 > c->max_body)) {
			buf_add(&c->body, tail, sizeof(tail) - 1);
			if (buf_failed(&c->body))
				goto nomem;
			r = invoke(c, first, inbody, out + first * CLIP_DIM, err,
			    errlen);
			if (r != CLIP_OK)
				return r;
			first = i;
			inbody = 0;
			buf_reset(&c->body);
			buf_add(&c->body, head, sizeof(head) - 1);
		}
		if (inbody > 0)
			buf_add(&c->body, ",", 1);
		buf_add(&c->body, c->row.data, c->row.len);
		inbody++;
	}
	if (inbody == 0)
		return CLIP_OK;
	buf_add(&c->body, tail, sizeof(tail) - 1);
	if (buf_failed(&c->body))
		goto nomem;
	return invoke(c, first, inbody, out + first * CLIP_DIM, err, errlen);
nomem:
	snprintf(err, errlen, "out of memory");
	return CLIP_ERROR;
}

int
clip_ready(struct clip_client *c, char *err, size_t errlen)
{
	struct json_object *o = NULL, *st, *ready;
	char why[512], msg[HTTP_MSG_MAX + 80];
	long status;
	int r;

	r = http_get(c->http, c->describe_url, &status, &c->resp, why,
	    sizeof(why));
	if (r == HTTP_DOWN || r == HTTP_TIMEOUT || r != HTTP_OK) {
		snprintf(err, errlen, "CLIP endpoint %s: %s", c->describe_url,
		    why);
		return r == HTTP_DOWN ? CLIP_DOWN : r == HTTP_TIMEOUT ?
		    CLIP_TIMEOUT : CLIP_ERROR;
	}
	if (status != 200) {
		http_error_message(&c->resp, msg, sizeof(msg));
		snprintf(err, errlen, "CLIP endpoint %s answered %ld%s%s",
		    c->describe_url, status, msg[0] ? ": " : "", msg);
		return status >= 500 || status == 429 ? CLIP_DOWN : CLIP_BAD;
	}
	r = CLIP_BAD;
	if (c->resp.data != NULL && c->resp.len < (size_t)HTTP_MAX_RESPONSE &&
	    (o = json_tokener_parse(c->resp.data)) != NULL &&
	    json_object_object_get_ex(o, "state", &st) &&
	    json_object_object_get_ex(st, "ready", &ready) &&
	    json_object_is_type(ready, json_type_string) &&
	    strcmp(json_object_get_string(ready), "READY") == 0)
		r = CLIP_OK;
	else
		snprintf(err, errlen, "CLIP endpoint %s is not READY",
		    c->describe_url);
	json_object_put(o);
	return r;
}

int
clip_unit(float *v)
{
	double s = 0.0;
	size_t j;

	for (j = 0; j < CLIP_DIM; j++)
		s += (double)v[j] * v[j];
	if (!isfinite(s) || s <= 0.0)
		return -1;
	s = sqrt(s);
	for (j = 0; j < CLIP_DIM; j++)
		v[j] = (float)(v[j] / s);
	return 0;
}
