/* request.c - see request.h */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "request.h"

/* An error request.c finds itself: CODE is the API's name for it. */
static void
own_error(struct request *r, int status, const char *code, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

extern char **environ;

static const char *
status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default:  return "Unknown";
	}
}

const char *
request_env(const struct request *r, const char *name)
{
	if (r->in == NULL)
		return getenv(name);
	return FCGX_GetParam(name, r->envp);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode N bytes of S into a new NUL-terminated string.  Fails on a bad
 * %-escape, on an encoded NUL and on invalid UTF-8.
 */
int
percent_decode(const char *s, size_t n, char **out, int plus_is_space)
{
	char *d;
	size_t i, j = 0;

	*out = NULL;
	if ((d = malloc(n + 1)) == NULL)
		return REQ_ERROR;
	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;
			if (n - i < 3)
				goto fail;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto fail;
			d[j++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '+' && plus_is_space)
			d[j++] = ' ';
		else
			d[j++] = s[i];
	}
	d[j] = '\0';
	if (!utf8_valid(d, j))
		goto fail;
	*out = d;
	return REQ_OK;
fail:
	free(d);
	return REQ_ERROR;
}

int
query_parse(struct request *r, const char *qs, char *err, size_t errlen)
{
	const char *p = qs;
	size_t qlen = strlen(qs);

	if (qlen > REQ_MAX_QUERY) {
		snprintf(err, errlen, "query string longer than %d bytes",
		    REQ_MAX_QUERY);
		return REQ_ERROR;
	}
	while (*p != '\0') {
		const char *amp = strchr(p, '&'), *eq;
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		struct param *pa;
		int i;

		if (len == 0) {		/* "a=1&&b=2" */
			p += amp ? 1 : 0;
			continue;
		}
		if (r->nparams == REQ_MAX_PARAMS) {
			snprintf(err, errlen, "more than %d query parameters",
			    REQ_MAX_PARAMS);
			return REQ_ERROR;
		}
		pa = &r->params[r->nparams];
		eq = memchr(p, '=', len);
		if (percent_decode(p, eq ? (size_t)(eq - p) : len, &pa->name,
		    1) != REQ_OK ||
		    percent_decode(eq ? eq + 1 : p + len,
		    eq ? len - (size_t)(eq - p) - 1 : 0, &pa->value, 1) != REQ_OK) {
			free(pa->name);
			pa->name = NULL;
			snprintf(err, errlen, "query string is not valid "
			    "percent-encoded UTF-8");
			return REQ_ERROR;
		}
		r->nparams++;
		for (i = 0; i < r->nparams - 1; i++)
			if (strcmp(r->params[i].name, pa->name) == 0) {
				snprintf(err, errlen, "parameter given twice");
				return REQ_ERROR;
			}
		p += len + (amp ? 1 : 0);
	}
	return REQ_OK;
}

int
request_begin(struct request *r, FCGX_Request *fcgx)
{
	static unsigned long counter;
	const char *uri, *q;
	char *path = NULL, err[128];
	size_t plen;

	memset(r, 0, sizeof(*r));
	buf_init(&r->body);
	buf_init(&r->headers);
	buf_init(&r->input);
	r->status = 200;
	if (fcgx != NULL) {
		r->in = fcgx->in;
		r->out = fcgx->out;
		r->envp = fcgx->envp;
	} else
		r->envp = environ;
	snprintf(r->id, sizeof(r->id), "%05lx%06lx", (unsigned long)getpid() & 0xfffff,
	    ++counter & 0xffffff);
	log_set_request(r->id);

	if ((r->method = request_env(r, "REQUEST_METHOD")) == NULL)
		r->method = "GET";
	/* REQUEST_URI is the raw target; fall back to DOCUMENT_URI/PATH_INFO. */
	if ((uri = request_env(r, "REQUEST_URI")) == NULL &&
	    (uri = request_env(r, "DOCUMENT_URI")) == NULL &&
	    (uri = request_env(r, "PATH_INFO")) == NULL)
		uri = "/";
	q = strchr(uri, '?');
	plen = q ? (size_t)(q - uri) : strlen(uri);
	if ((r->query = request_env(r, "QUERY_STRING")) == NULL)
		r->query = q ? q + 1 : "";
	if (plen >= REQ_MAX_PATH) {
		own_error(r, 400, "invalid_path", "path longer than %d bytes",
		    REQ_MAX_PATH - 1);
		return REQ_ERROR;
	}
	if (percent_decode(uri, plen, &path, 0) != REQ_OK) {
		own_error(r, 400, "invalid_path",
		    "path is not valid percent-encoded UTF-8");
		return REQ_ERROR;
	}
	memcpy(r->path, path, strlen(path) + 1);
	free(path);
	if (query_parse(r, r->query, err, sizeof(err)) != REQ_OK) {
		own_error(r, 400, "invalid_parameter", "%s", err);
		return REQ_ERROR;
	}
	return REQ_OK;
}

const char *
request_param(struct request *r, const char *name)
{
	int i;

	for (i = 0; i < r->nparams; i++)
		if (strcmp(r->params[i].name, name) == 0) {
			r->params[i].used = 1;
			return r->params[i].value;
		}
	return NULL;
}

const char *
request_unused_param(const struct request *r)
{
	int i;

	for (i = 0; i < r->nparams; i++)
		if (!r->params[i].used)
			return r->params[i].name;
	return NULL;
}

static int error_style = REQ_ERRORS_API;

void
request_error_style(int style)
{
	error_style = style;
}

/* The Databricks error_code for STATUS. */
static const char *
databricks_code(int status)
{
	switch (status) {
	case 401: return "UNAUTHENTICATED";
	case 404: return "RESOURCE_DOES_NOT_EXIST";
	default: return status >= 500 ? "INTERNAL_ERROR" : "BAD_REQUEST";
	}
}

static void
verror(struct request *r, int status, const char *code, const char *fmt,
    va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	r->status = status;
	buf_reset(&r->body);
	if (error_style == REQ_ERRORS_DATABRICKS) {
		buf_puts(&r->body, "{\"error_code\":");
		buf_json_str(&r->body, code);
		buf_puts(&r->body, ",\"message\":");
		buf_json_str(&r->body, msg);
		buf_puts(&r->body, "}");
	} else {
		buf_puts(&r->body, "{\"error\":{\"code\":");
		buf_json_str(&r->body, code);
		buf_puts(&r->body, ",\"message\":");
		buf_json_str(&r->body, msg);
		buf_puts(&r->body, "}}");
	}
	if (status >= 500)
		log_warn("%s %s: %d %s: %s", r->method, r->path, status, code, msg);
	else
		log_debug("%s %s: %d %s: %s", r->method, r->path, status, code,
		    msg);
}

void
request_error(struct request *r, int status, const char *code,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(r, status, code, fmt, ap);
	va_end(ap);
}

/* An error request.c finds itself: CODE is the API's name for it. */
static void
own_error(struct request *r, int status, const char *code, const char *fmt,
    ...)
{
	va_list ap;

	if (error_style == REQ_ERRORS_DATABRICKS)
		code = databricks_code(status);
	va_start(ap, fmt);
	verror(r, status, code, fmt, ap);
	va_end(ap);
}

int
request_read_body(struct request *r, long max, int *close_conn)
{
	const char *cl = request_env(r, "CONTENT_LENGTH");
	long long len = 0;
	char chunk[8192];
	int n;

	*close_conn = 0;
	if (cl != NULL && *cl != '\0' &&
	    parse_int(cl, 0, (long long)1 << 40, &len) != REQ_OK) {
		*close_conn = 1;
		own_error(r, 400, "invalid_request", "invalid Content-Length");
		return REQ_ERROR;
	}
	if (len > max) {
		*close_conn = 1;
		own_error(r, 413, "payload_too_large",
		    "request body of %lld bytes is over the limit of %ld", len, max);
		return REQ_ERROR;
	}
	while (len > 0) {
		size_t want = len < (long long)sizeof(chunk) ? (size_t)len :
		    sizeof(chunk);

		if (r->in != NULL)
			n = FCGX_GetStr(chunk, (int)want, r->in);
		else
			n = (int)fread(chunk, 1, want, stdin);
		if (n <= 0)
			break;	/* short body: handlers see what came */
		buf_add(&r->input, chunk, (size_t)n);
		len -= n;
	}
	/*
	 * Read on to the end of stdin: the empty FCGI_STDIN record that ends
	 * it may still be in the socket.  Left there, libfcgi would take it
	 * for the start of the next request on this kept connection and close
	 * the connection, and nginx answers a POST sent on it with 502.
	 */
	if (r->in != NULL) {
		long extra = 0;

		while ((n = FCGX_GetStr(chunk, (int)sizeof(chunk), r->in)) > 0)
			if ((extra += n) > (1L << 20)) {
				*close_conn = 1;	/* more than announced */
				break;
			}
	}
	return buf_failed(&r->input) ? REQ_ERROR : REQ_OK;
}

void
request_send(struct request *r)
{
	char head[256];
	int n;

	if (buf_failed(&r->body)) {
		r->status = 500;
		buf_reset(&r->body);
		buf_puts(&r->body, "{\"error\":{\"code\":\"internal\","
		    "\"message\":\"out of memory\"}}");
		if (buf_failed(&r->body))
			return;
	}
	n = snprintf(head, sizeof(head), "Status: %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %zu\r\n"
	    "%s%s%s", r->status, status_text(r->status), r->body.len,
	    r->allow ? "Allow: " : "", r->allow ? r->allow : "",
	    r->allow ? "\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(head) - 2 || buf_failed(&r->headers))
		return;
	buf_add(&r->headers, "\r\n", 2);	/* end of the header */
	if (r->out != NULL) {
		FCGX_PutStr(head, n, r->out);
		FCGX_PutStr(r->headers.data, (int)r->headers.len, r->out);
		FCGX_PutStr(r->body.data ? r->body.data : "", (int)r->body.len,
		    r->out);
	} else {
		fwrite(head, 1, (size_t)n, stdout);
		fwrite(r->headers.data, 1, r->headers.len, stdout);
		fwrite(r->body.data ? r->body.data : "", 1, r->body.len, stdout);
		fflush(stdout);
	}
	log_debug("%s %s -> %d (%zu bytes)", r->method, r->path, r->status,
	    r->body.len);
}

void
request_end(struct request *r)
{
	int i;

	for (i = 0; i < r->nparams; i++) {
		free(r->params[i].name);
		free(r->params[i].value);
	}
	for (i = 0; i < REQ_MAX_CAPTURES; i++)
		free(r->captures[i]);
	buf_free(&r->body);
	buf_free(&r->headers);
	buf_free(&r->input);
	log_set_request(NULL);
	memset(r, 0, sizeof(*r));
}

int
parse_int(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0' || *s == ' ' || *s == '+')
		return REQ_ERROR;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return REQ_ERROR;
	*out = v;
	return REQ_OK;
}

int
parse_price(const char *s, double *out)
{
	size_t i, digits = 0, dots = 0;
	char *end;
	double v;

	if (s == NULL || *s == '\0' || strlen(s) > 16)
		return REQ_ERROR;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if (s[i] == '.' && dots == 0)
			dots++;
		else
			return REQ_ERROR;
	}
	if (digits == 0)
		return REQ_ERROR;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v) || v < 0)
		return REQ_ERROR;
	*out = v;
	return REQ_OK;
}

int
request_bearer_ok(const struct request *r, const char *token)
{
	const char *h = request_env(r, "HTTP_AUTHORIZATION");
	size_t n, i;
	unsigned char d = 0;

	if (token == NULL)
		return 1;
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	n = strlen(token);
	if (strlen(h) != n)
		return 0;
	for (i = 0; i < n; i++)	/* constant time in the token's bytes */
		d |= (unsigned char)(h[i] ^ token[i]);
	return d == 0;
}

void
request_header(struct request *r, const char *name, const char *fmt, ...)
{
	char v[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(v) || strpbrk(v, "\r\n") != NULL) {
		log_warn("response header %s dropped: too long or CR/LF", name);
		return;
	}
	buf_printf(&r->headers, "%s: %s\r\n", name, v);
}
