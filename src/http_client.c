/* http_client.c - see http_client.h */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <json.h>

#include "buf.h"
#include "clock.h"
#include "http_client.h"

#define TOKEN_JSON_DEPTH 4	/* {"access_token": ...} needs 1 */
#define TOKEN_MSG_MAX	 200	/* bytes of the server's words quoted */

enum http_method { HTTP_M_GET, HTTP_M_POST };

enum auth_mode {
	AUTH_NONE,
	AUTH_TOKEN,		/* personal access token from token_env */
	AUTH_OAUTH		/* OAuth M2M client credentials */
};

struct http_client {
	CURL		*curl;		/* reused: keeps the connection alive */
	struct curl_slist *post_hdrs;	/* Content-Type, Accept, auth */
	struct curl_slist *get_hdrs;	/* Accept, auth */
	long		 connect_timeout; /* ms */
	long		 timeout;	/* ms, all attempts together */
	int		 retries;	/* extra attempts */
	char		 errbuf[CURL_ERROR_SIZE];

	/* Authentication (see http_client.h). */
	enum auth_mode	 mode;
	char		*token_url;	/* OAuth: {base_url}/oidc/v1/token, NULL
					   when no base URL was given */
	struct curl_slist *token_hdrs;	/* OAuth: form Content-Type, Basic auth;
					   NULL when the client id has a ':' */
	char		*secret;	/* OAuth: client secret, only to keep it
					   out of messages */
	char		*access_token;	/* OAuth: the token in post/get_hdrs,
					   NULL = none yet, or dropped */
	long long	 refresh_at;	/* OAuth: monotonic ms to fetch anew */

	/* State of the attempt in progress (set by the callbacks). */
	struct buf	*resp;		/* body goes here */
	int		 too_big;	/* body over HTTP_MAX_RESPONSE */
	long		 retry_after;	/* ms from Retry-After, -1 = none */
};

static int curl_ready;

/*
 * Does S (LEN bytes) match PAT?  In PAT 'D' is a digit, 'd' a digit or a
 * space, 'A' a letter; anything else stands for itself.
 */
static int
shape(const char *s, size_t len, const char *pat)
{
	size_t i;

	if (strlen(pat) != len)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (pat[i]) {
		case 'D':
			if (!isdigit(c))
				return 0;
			break;
		case 'd':
			if (!isdigit(c) && c != ' ')
				return 0;
			break;
		case 'A':
			if (!isalpha(c))
				return 0;
			break;
		default:
			if (c != (unsigned char)pat[i])
				return 0;
		}
	}
	return 1;
}

/* Is S one of the three HTTP-date formats of RFC 9110, 5.6.7? */
static int
http_date(const char *s, size_t len)
{
	static const char *days[] = { "Monday", "Tuesday", "Wednesday",
	    "Thursday", "Friday", "Saturday", "Sunday" };
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const char *mon = NULL, *comma;
	size_t i, dl;
	int day = -1;

	for (i = 0; i < 7 && len >= 3; i++)
		if (strncmp(s, days[i], 3) == 0)
			day = (int)i;
	if (day < 0)
		return 0;
	if (shape(s, len, "AAA, DD AAA DDDD DD:DD:DD GMT"))	/* IMF-fixdate */
		mon = s + 8;
	else if (shape(s, len, "AAA AAA dD DD:DD:DD DDDD"))	/* asctime */
		mon = s + 4;
	else if ((comma = memchr(s, ',', len)) != NULL) {	/* rfc850 */
		dl = (size_t)(comma - s);
		if (dl != strlen(days[day]) || strncmp(s, days[day], dl) != 0 ||
		    !shape(comma, len - dl, ", DD-AAA-DD DD:DD:DD GMT"))
			return 0;
		mon = comma + 5;
	} else
		return 0;
	for (i = 0; i < 12; i++)
		if (strncmp(mon, months + 3 * i, 3) == 0)
			return 1;
	return 0;
}

int
http_parse_retry_after(const char *s, size_t len, long *ms)
{
	size_t i;
	long secs;

	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0)
		return HTTP_ERROR;

	if (isdigit((unsigned char)s[0])) {
		/* delta-seconds = 1*DIGIT */
		secs = 0;
		for (i = 0; i < len; i++) {
			if (!isdigit((unsigned char)s[i]))
				return HTTP_ERROR;
			if (secs <= HTTP_RETRY_AFTER_MAX_MS / 1000)
				secs = secs * 10 + (s[i] - '0');
		}
		if (secs > HTTP_RETRY_AFTER_MAX_MS / 1000)
			secs = HTTP_RETRY_AFTER_MAX_MS / 1000;
		*ms = secs * 1000;
		return HTTP_OK;
	}
	if (!http_date(s, len))
		return HTTP_ERROR;
	*ms = HTTP_RETRY_AFTER_DATE_MS;
	return HTTP_OK;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct http_client *h = arg;
	size_t len = size * n;

	if (len > (size_t)HTTP_MAX_RESPONSE ||
	    h->resp->len > (size_t)HTTP_MAX_RESPONSE - len) {
		h->too_big = 1;
		return 0;	/* aborts the transfer: CURLE_WRITE_ERROR */
	}
	buf_add(h->resp, p, len);
	return buf_failed(h->resp) ? 0 : len;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	static const char name[] = "Retry-After:";
	struct http_client *h = arg;
	size_t len = size * n;
	long ms;

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0)
		h->retry_after = -1;	/* a new response (after 100) */
	else if (len > sizeof(name) - 1 &&
	    strncasecmp(p, name, sizeof(name) - 1) == 0 &&
	    http_parse_retry_after(p + sizeof(name) - 1,
	    len - (sizeof(name) - 1), &ms) == HTTP_OK)
		h->retry_after = ms;
	return len;
}

/* The value of environment variable NAME when set and not empty. */
static const char *
env_value(const char *name)
{
	const char *v;

	if (name == NULL || name[0] == '\0' || (v = getenv(name)) == NULL ||
	    v[0] == '\0')
		return NULL;
	return v;
}

/* Overwrite the strings of LIST (they may hold credentials), free it. */
static void
slist_wipe_free(struct curl_slist *list)
{
	struct curl_slist *l;

	for (l = list; l != NULL; l = l->next)
		if (l->data != NULL)
			explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(list);
}

/* Wipe and free the string S. */
static void
str_wipe_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* Replace every copy of SECRET in the message MSG with '*'. */
static void
scrub(char *msg, const char *secret)
{
	size_t n;
	char *p;

	if (secret == NULL || (n = strlen(secret)) == 0)
		return;
	while ((p = strstr(msg, secret)) != NULL)
		memset(p, '*', n);
}

/* Append "PREFIX VALUE" to *LIST; the temporary copy is wiped. */
static int
add_secret(struct curl_slist **list, const char *prefix, const char *value)
{
	struct curl_slist *l;
	char *hdr;
	size_t n;
	int rc = HTTP_ERROR;

	if (strpbrk(value, "\r\n") != NULL)
		return HTTP_ERROR;	/* would split the header */
	if (strlen(value) > SIZE_MAX - strlen(prefix) - 1)
		return HTTP_ERROR;
	n = strlen(prefix) + strlen(value) + 1;
	if ((hdr = malloc(n)) == NULL)
		return HTTP_ERROR;
	snprintf(hdr, n, "%s%s", prefix, value);
	if ((l = curl_slist_append(*list, hdr)) != NULL) {
		*list = l;
		rc = HTTP_OK;
	}
	explicit_bzero(hdr, n);
	free(hdr);
	return rc;
}

/*
 * The headers of API requests: Content-Type (POST), Accept and, when TOKEN
 * is not NULL, "Authorization: Bearer TOKEN".  NULL when out of memory or
 * when TOKEN holds a CR or LF.
 */
static struct curl_slist *
headers(int post, const char *token)
{
	struct curl_slist *list = NULL, *l;

	if (post) {
		if ((list = curl_slist_append(NULL,
		    "Content-Type: application/json")) == NULL)
			return NULL;
		/* no "Expect: 100-continue" round trip for large bodies */
		if ((l = curl_slist_append(list, "Expect:")) == NULL)
			goto fail;
		list = l;
	}
	if ((l = curl_slist_append(list, "Accept: application/json")) == NULL)
		goto fail;
	list = l;
	if (token != NULL &&
	    add_secret(&list, "Authorization: Bearer ", token) != HTTP_OK)
		goto fail;
	return list;
fail:
	slist_wipe_free(list);
	return NULL;
}

/*
 * The headers of token requests: the form's Content-Type, Accept and
 * "Authorization: Basic base64(ID:SECRET)" (RFC 7617).  NULL when out of
 * memory.
 */
static struct curl_slist *
token_headers(const char *id, const char *secret)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct curl_slist *list = NULL, *l;
	unsigned char *in = NULL;
	char *out = NULL;
	size_t idl = strlen(id), sl = strlen(secret), n = 0, o = 0, i;
	unsigned v;

	if (idl > SIZE_MAX / 2 - 2 || sl > SIZE_MAX / 2 - idl - 2)
		return NULL;
	n = idl + 1 + sl;
	if ((in = malloc(n + 1)) == NULL ||
	    (out = malloc((n + 2) / 3 * 4 + 1)) == NULL)
		goto out;
	snprintf((char *)in, n + 1, "%s:%s", id, secret);
	for (i = 0; i + 3 <= n; i += 3) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	if (n - i > 0) {
		v = (unsigned)in[i] << 16;
		if (n - i == 2)
			v |= (unsigned)in[i + 1] << 8;
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = n - i == 2 ? b64[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';

	if ((list = curl_slist_append(NULL, "Content-Type: "
	    "application/x-www-form-urlencoded")) == NULL)
		goto out;
	if ((l = curl_slist_append(list, "Expect:")) == NULL)
		goto fail;
	list = l;
	if ((l = curl_slist_append(list, "Accept: application/json")) == NULL)
		goto fail;
	list = l;
	if (add_secret(&list, "Authorization: Basic ", out) != HTTP_OK)
		goto fail;
	goto out;
fail:
	slist_wipe_free(list);
	list = NULL;
out:
	if (in != NULL) {
		explicit_bzero(in, n + 1);
		free(in);
	}
	if (out != NULL) {
		explicit_bzero(out, o);
		free(out);
	}
	return list;
}

struct http_client *
http_client_new(long connect_timeout_ms, long timeout_ms, int retries,
    const char *token_env)
{
	struct http_auth auth = { NULL, token_env, NULL, NULL };

	return http_client_new_auth(connect_timeout_ms, timeout_ms, retries,
	    &auth);
}

/* OAuth: the token URL and the token request headers of H. */
static int
oauth_setup(struct http_client *h, const struct http_auth *auth,
    const char *id, const char *secret)
{
	static const char path[] = HTTP_TOKEN_PATH;
	size_t ulen;

	h->mode = AUTH_OAUTH;
	if ((h->secret = strdup(secret)) == NULL)
		return HTTP_ERROR;
	if (auth->base_url != NULL) {
		ulen = strlen(auth->base_url);
		while (ulen > 0 && auth->base_url[ulen - 1] == '/')
			ulen--;
		if (ulen > 0) {
			if (ulen > SIZE_MAX - sizeof(path) ||
			    (h->token_url = malloc(ulen + sizeof(path))) == NULL)
				return HTTP_ERROR;
			memcpy(h->token_url, auth->base_url, ulen);
			memcpy(h->token_url + ulen, path, sizeof(path));
		}
	}
	/* RFC 7617: a user-id with a colon cannot be sent; said on use */
	if (strchr(id, ':') == NULL &&
	    (h->token_hdrs = token_headers(id, secret)) == NULL)
		return HTTP_ERROR;
	return HTTP_OK;
}

struct http_client *
http_client_new_auth(long connect_timeout_ms, long timeout_ms, int retries,
    const struct http_auth *auth)
{
	struct http_client *h;
	const char *id = NULL, *secret = NULL, *pat = NULL;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return NULL;
		curl_ready = 1;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->connect_timeout = connect_timeout_ms > 0 ? connect_timeout_ms : 1;
	h->timeout = timeout_ms > 0 ? timeout_ms : 1;
	h->retries = retries > 0 ? retries : 0;
	h->retry_after = -1;
	h->mode = AUTH_NONE;
	if (auth != NULL) {
		id = env_value(auth->client_id_env);
		secret = env_value(auth->client_secret_env);
		pat = env_value(auth->token_env);
	}
	if (id != NULL && secret != NULL) {
		pat = NULL;		/* OAuth wins, as in the unified auth */
		if (oauth_setup(h, auth, id, secret) != HTTP_OK)
			goto fail;
	} else if (pat != NULL)
		h->mode = AUTH_TOKEN;
	/* OAuth: without a token until the first request fetches one */
	if ((h->curl = curl_easy_init()) == NULL ||
	    (h->post_hdrs = headers(1, pat)) == NULL ||
	    (h->get_hdrs = headers(0, pat)) == NULL)
		goto fail;
	if (curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
#if LIBCURL_VERSION_NUM >= 0x075500	/* 7.85.0 */
	    curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK ||
#else
	    curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) != CURLE_OK ||
#endif
	    curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_TCP_NODELAY, 1L) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)HTTP_MAX_RESPONSE) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf) !=
	    CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body) !=
	    CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header) !=
	    CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, h) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "fashion/1") !=
	    CURLE_OK)
		goto fail;
	return h;
fail:
	http_client_free(h);
	return NULL;
}

void
http_client_free(struct http_client *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	slist_wipe_free(h->post_hdrs);
	slist_wipe_free(h->get_hdrs);
	slist_wipe_free(h->token_hdrs);
	free(h->token_url);
	str_wipe_free(h->secret);
	str_wipe_free(h->access_token);
	free(h);
}

const char *
http_client_auth_mode(const struct http_client *h)
{
	switch (h->mode) {
	case AUTH_OAUTH:
		return "oauth-m2m";
	case AUTH_TOKEN:
		return "token";
	default:
		return "none";
	}
}

/* Errors worth another attempt: the service is not (yet) reachable. */
static int
conn_error(CURLcode e)
{
	switch (e) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_OPERATION_TIMEDOUT:	/* only when the connect timed out */
		return 1;
	default:
		return 0;
	}
}

static int
retry_status(long status)
{
	return status == 429 || status == 503 || status == 504;
}

/*
 * One request with its retries, sending the header list HDRS, until the
 * monotonic DEADLINE (ms): see http_post_json.
 */
static int
perform(struct http_client *h, enum http_method m, const char *url,
    const char *body, size_t len, struct curl_slist *hdrs, long long deadline,
    long *status, struct buf *resp, char *err, size_t errlen)
{
	const char *mname = m == HTTP_M_POST ? "POST" : "GET";
	long long left, now;
	long wait, backoff = HTTP_BACKOFF_MS, ctimeout;
	CURLcode e = CURLE_OK;
	int tries = 0;

	*status = 0;
	err[0] = '\0';
	if (m == HTTP_M_POST) {
		if (body == NULL)
			body = "";
		if (curl_easy_setopt(h->curl, CURLOPT_POST, 1L) != CURLE_OK ||
		    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body) !=
		    CURLE_OK || curl_easy_setopt(h->curl,
		    CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) != CURLE_OK ||
		    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs) !=
		    CURLE_OK)
			goto setopt;
	} else {
		if (curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L) != CURLE_OK ||
		    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs) !=
		    CURLE_OK)
			goto setopt;
	}
	if (curl_easy_setopt(h->curl, CURLOPT_URL, url) != CURLE_OK)
		goto setopt;

	h->resp = resp;
	for (;;) {
		left = deadline - now_ms();
		if (left <= 0)
			goto timeout;
		ctimeout = h->connect_timeout < left ? h->connect_timeout :
		    (long)left;
		if (curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, (long)left) !=
		    CURLE_OK || curl_easy_setopt(h->curl,
		    CURLOPT_CONNECTTIMEOUT_MS, ctimeout) != CURLE_OK)
			goto setopt;
		buf_reset(resp);
		h->too_big = 0;
		h->retry_after = -1;
		h->errbuf[0] = '\0';
		*status = 0;

		tries++;
		e = curl_easy_perform(h->curl);
		now = now_ms();
		if (e == CURLE_OK) {
			curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, status);
			if (!retry_status(*status) || tries > h->retries)
				return HTTP_OK;
			wait = h->retry_after >= 0 ? h->retry_after : backoff;
			if (now + wait >= deadline)
				return HTTP_OK;	/* no time left: the caller sees it */
		} else {
			if (h->too_big || e == CURLE_FILESIZE_EXCEEDED) {
				snprintf(err, errlen, "%s %s: response larger than "
				    "%ld bytes", mname, url, HTTP_MAX_RESPONSE);
				return HTTP_ERROR;
			}
			if (e == CURLE_WRITE_ERROR && buf_failed(resp)) {
				snprintf(err, errlen, "%s %s: out of memory",
				    mname, url);
				return HTTP_ERROR;
			}
			if (e == CURLE_OPERATION_TIMEDOUT && now >= deadline - 1)
				goto timeout;
			if (!conn_error(e)) {
				snprintf(err, errlen, "%s %s: %s", mname, url,
				    h->errbuf[0] ? h->errbuf :
				    curl_easy_strerror(e));
				return HTTP_ERROR;
			}
			wait = backoff;
			if (tries > h->retries || now + wait >= deadline)
				goto down;
		}
		if (wait > 0)
			sleep_ms(wait);
		if (backoff < HTTP_BACKOFF_MAX_MS)
			backoff = backoff * 2 < HTTP_BACKOFF_MAX_MS ?
			    backoff * 2 : HTTP_BACKOFF_MAX_MS;
	}

down:
	snprintf(err, errlen, "%s %s: %s (%d attempt%s)", mname, url,
	    h->errbuf[0] ? h->errbuf : curl_easy_strerror(e), tries,
	    tries == 1 ? "" : "s");
	return HTTP_DOWN;
timeout:
	snprintf(err, errlen, "%s %s: no answer within %ld ms (%d attempt%s)",
	    mname, url, h->timeout, tries, tries == 1 ? "" : "s");
	return HTTP_TIMEOUT;
setopt:
	snprintf(err, errlen, "%s %s: cannot set up the request", mname, url);
	return HTTP_ERROR;
}

/* O's member NAME when it has type TYPE, else NULL. */
static struct json_object *
member(struct json_object *o, const char *name, enum json_type type)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, type))
		return NULL;
	return v;
}

int
http_token_parse(const char *body, size_t len, char **token,
    long *expires_in, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *o = NULL, *v;
	enum json_tokener_error jerr;
	const char *t, *p;
	long long ttl = HTTP_TOKEN_TTL_DEFAULT;
	double d;
	size_t k, tlen;
	int rc = HTTP_AUTH_FAILED;

	*token = NULL;
	err[0] = '\0';
	if (body == NULL || len == 0) {
		snprintf(err, errlen, "empty answer");
		return HTTP_AUTH_FAILED;
	}
	if (len > (size_t)HTTP_TOKEN_RESPONSE_MAX) {
		snprintf(err, errlen, "answer larger than %ld bytes",
		    HTTP_TOKEN_RESPONSE_MAX);
		return HTTP_AUTH_FAILED;
	}
	if ((tok = json_tokener_new_ex(TOKEN_JSON_DEPTH)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return HTTP_ERROR;
	}
	o = json_tokener_parse_ex(tok, body, (int)len);
	jerr = json_tokener_get_error(tok);
	/* nothing but whitespace may follow the value */
	for (k = json_tokener_get_parse_end(tok); o != NULL && k < len; k++)
		if (body[k] != ' ' && body[k] != '\n' && body[k] != '\r' &&
		    body[k] != '\t')
			break;
	json_tokener_free(tok);
	if (o == NULL || jerr != json_tokener_success || k < len ||
	    !json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "answer is not a JSON object");
		goto out;
	}

	if ((v = member(o, "access_token", json_type_string)) == NULL) {
		snprintf(err, errlen, "answer has no \"access_token\" string");
		goto out;
	}
	t = json_object_get_string(v);
	tlen = (size_t)json_object_get_string_len(v);
	if (tlen == 0 || tlen > HTTP_TOKEN_MAX) {
		snprintf(err, errlen, "access_token is %zu bytes, not 1..%d",
		    tlen, HTTP_TOKEN_MAX);
		goto out;
	}
	for (k = 0; k < tlen; k++)
		if ((unsigned char)t[k] <= 0x20 || (unsigned char)t[k] >= 0x7f) {
			snprintf(err, errlen, "access_token holds a character "
			    "other than visible ASCII");
			goto out;
		}

	if (json_object_object_get_ex(o, "token_type", &v) &&
	    (!json_object_is_type(v, json_type_string) ||
	    strcasecmp(json_object_get_string(v), "Bearer") != 0)) {
		snprintf(err, errlen, "token_type is not \"Bearer\"");
		goto out;
	}

	if (json_object_object_get_ex(o, "expires_in", &v)) {
		if (json_object_is_type(v, json_type_int)) {
			ttl = json_object_get_int64(v);
			if (ttl < 0)
				goto bad_ttl;
		} else if (json_object_is_type(v, json_type_double)) {
			d = json_object_get_double(v);
			if (!(d >= 0))	/* NaN too */
				goto bad_ttl;
			ttl = d > (double)HTTP_TOKEN_TTL_MAX ? HTTP_TOKEN_TTL_MAX :
			    (long long)d;
		} else if (json_object_is_type(v, json_type_string)) {
			p = json_object_get_string(v);
			if (p[0] == '\0')
				goto bad_ttl;
			for (ttl = 0; *p != '\0'; p++) {
				if (*p < '0' || *p > '9')
					goto bad_ttl;
				if (ttl <= HTTP_TOKEN_TTL_MAX)
					ttl = ttl * 10 + (*p - '0');
			}
		} else
			goto bad_ttl;
		if (ttl > HTTP_TOKEN_TTL_MAX)
			ttl = HTTP_TOKEN_TTL_MAX;
	}

	if ((*token = strdup(t)) == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = HTTP_ERROR;
		goto out;
	}
	*expires_in = (long)ttl;
	rc = HTTP_OK;
	goto out;
bad_ttl:
	snprintf(err, errlen, "expires_in is not a number of seconds >= 0");
out:
	json_object_put(o);
	return rc;
}

void
http_token_error(const char *body, size_t len, char *msg, size_t msglen)
{
	struct json_tokener *tok;
	struct json_object *o = NULL, *e, *d;
	char es[64 + 4], ds[TOKEN_MSG_MAX + 4];

	if (msglen == 0)
		return;
	msg[0] = '\0';
	if (body == NULL || len == 0 || len > (size_t)HTTP_TOKEN_RESPONSE_MAX ||
	    (tok = json_tokener_new_ex(TOKEN_JSON_DEPTH)) == NULL)
		return;
	o = json_tokener_parse_ex(tok, body, (int)len);
	json_tokener_free(tok);
	if (o == NULL || !json_object_is_type(o, json_type_object))
		goto out;
	e = member(o, "error", json_type_string);
	d = member(o, "error_description", json_type_string);
	es[0] = ds[0] = '\0';
	if (e != NULL)
		str_shown(json_object_get_string(e),
		    (size_t)json_object_get_string_len(e), 64, es, sizeof(es));
	if (d != NULL)
		str_shown(json_object_get_string(d),
		    (size_t)json_object_get_string_len(d), TOKEN_MSG_MAX, ds,
		    sizeof(ds));
	snprintf(msg, msglen, "%s%s%s", es, es[0] && ds[0] ? ": " : "", ds);
out:
	json_object_put(o);
}

long long
http_token_refresh_ms(long expires_in)
{
	long long life, margin;

	if (expires_in <= 0)
		return 0;
	if (expires_in > HTTP_TOKEN_TTL_MAX)
		expires_in = HTTP_TOKEN_TTL_MAX;
	life = (long long)expires_in * 1000;
	margin = life / HTTP_TOKEN_MARGIN_DIV;
	if (margin > HTTP_TOKEN_MARGIN_MS)
		margin = HTTP_TOKEN_MARGIN_MS;
	return life - margin;
}

/* OAuth: forget the token (it expired, or was refused). */
static void
drop_token(struct http_client *h)
{
	str_wipe_free(h->access_token);
	h->access_token = NULL;
	h->refresh_at = 0;
}

/* OAuth: send "Authorization: Bearer TOKEN" from now on. */
static int
use_token(struct http_client *h, const char *token)
{
	struct curl_slist *post, *get;

	if ((post = headers(1, token)) == NULL)
		return HTTP_ERROR;
	if ((get = headers(0, token)) == NULL) {
		slist_wipe_free(post);
		return HTTP_ERROR;
	}
	slist_wipe_free(h->post_hdrs);
	slist_wipe_free(h->get_hdrs);
	h->post_hdrs = post;
	h->get_hdrs = get;
	return HTTP_OK;
}

/* OAuth: get a new access token before DEADLINE. */
static int
fetch_token(struct http_client *h, long long deadline, char *err,
    size_t errlen)
{
	static const char form[] = "grant_type=client_credentials&scope=all-apis";
	struct buf resp;
	char why[512], msg[TOKEN_MSG_MAX + 80];
	char *token = NULL;
	long long started;
	long status, ttl;
	int r;

	drop_token(h);
	if (h->token_url == NULL) {
		snprintf(err, errlen, "OAuth M2M: no base URL to find the token "
		    "endpoint at");
		return HTTP_ERROR;
	}
	if (h->token_hdrs == NULL) {
		snprintf(err, errlen, "authentication failed: the OAuth client "
		    "id holds a ':', which HTTP Basic auth cannot send");
		return HTTP_AUTH_FAILED;
	}
	buf_init(&resp);
	started = now_ms();
	r = perform(h, HTTP_M_POST, h->token_url, form, sizeof(form) - 1,
	    h->token_hdrs, deadline, &status, &resp, why, sizeof(why));
	if (r == HTTP_DOWN) {
		snprintf(err, errlen, "OAuth token endpoint unreachable: %s", why);
		goto out;
	}
	if (r != HTTP_OK) {
		snprintf(err, errlen, "OAuth token request: %s", why);
		goto out;
	}
	if (status < 200 || status > 299) {
		http_token_error(resp.data, resp.len, msg, sizeof(msg));
		if (status == 429 || status >= 500) {
			snprintf(err, errlen, "OAuth token endpoint %s answered "
			    "%ld%s%s", h->token_url, status, msg[0] ? ": " : "",
			    msg);
			r = HTTP_DOWN;
		} else {
			snprintf(err, errlen, "authentication failed: OAuth token "
			    "endpoint %s answered %ld%s%s", h->token_url, status,
			    msg[0] ? ": " : "", msg);
			r = HTTP_AUTH_FAILED;
		}
		goto out;
	}
	r = http_token_parse(resp.data, resp.len, &token, &ttl, why,
	    sizeof(why));
	if (r != HTTP_OK) {
		snprintf(err, errlen, "%sOAuth token endpoint %s: %s",
		    r == HTTP_AUTH_FAILED ? "authentication failed: " : "",
		    h->token_url, why);
		goto out;
	}
	if (use_token(h, token) != HTTP_OK) {
		snprintf(err, errlen, "OAuth: out of memory");
		r = HTTP_ERROR;
		goto out;
	}
	h->access_token = token;
	token = NULL;
	h->refresh_at = started + http_token_refresh_ms(ttl);
out:
	str_wipe_free(token);
	if (resp.data != NULL)
		explicit_bzero(resp.data, resp.len);
	buf_free(&resp);
	return r;
}

/* An API request, with the credentials of H's mode. */
static int
request(struct http_client *h, enum http_method m, const char *url,
    const char *body, size_t len, long *status, struct buf *resp, char *err,
    size_t errlen)
{
	long long deadline = now_ms() + h->timeout;
	int fresh = 0, r;

	*status = 0;
	err[0] = '\0';
	if (h->mode == AUTH_OAUTH &&
	    (h->access_token == NULL || now_ms() >= h->refresh_at)) {
		if ((r = fetch_token(h, deadline, err, errlen)) != HTTP_OK)
			goto out;
		fresh = 1;
	}
	r = perform(h, m, url, body, len, m == HTTP_M_POST ? h->post_hdrs :
	    h->get_hdrs, deadline, status, resp, err, errlen);
	if (r != HTTP_OK || h->mode != AUTH_OAUTH || *status != 401 || fresh)
		goto out;
	/* a kept token refused (revoked, expired early): once with a new one */
	if ((r = fetch_token(h, deadline, err, errlen)) != HTTP_OK) {
		*status = 0;
		goto out;
	}
	r = perform(h, m, url, body, len, m == HTTP_M_POST ? h->post_hdrs :
	    h->get_hdrs, deadline, status, resp, err, errlen);
out:
	scrub(err, h->secret);
	scrub(err, h->access_token);
	return r;
}

int
http_post_json(struct http_client *h, const char *url, const char *body,
    size_t len, long *status, struct buf *resp, char *err, size_t errlen)
{
	return request(h, HTTP_M_POST, url, body, len, status, resp, err,
	    errlen);
}

int
http_get(struct http_client *h, const char *url, long *status,
    struct buf *resp, char *err, size_t errlen)
{
	return request(h, HTTP_M_GET, url, NULL, 0, status, resp, err, errlen);
}

void
http_error_message(const struct buf *resp, char *msg, size_t len)
{
	struct json_tokener *tok;
	struct json_object *o = NULL, *code, *m;
	const char *cs = NULL, *ms = NULL;
	size_t i;

	msg[0] = '\0';
	if (resp->len == 0 || resp->len > (size_t)HTTP_MAX_RESPONSE ||
	    (tok = json_tokener_new_ex(8)) == NULL)
		return;
	o = json_tokener_parse_ex(tok, resp->data, (int)resp->len);
	json_tokener_free(tok);
	if (o == NULL || !json_object_is_type(o, json_type_object))
		goto out;
	if (json_object_object_get_ex(o, "error_code", &code) &&
	    json_object_is_type(code, json_type_string))
		cs = json_object_get_string(code);
	if (json_object_object_get_ex(o, "message", &m) &&
	    json_object_is_type(m, json_type_string))
		ms = json_object_get_string(m);
	if (cs != NULL && ms != NULL)
		snprintf(msg, len, "%.64s: %.*s", cs, HTTP_MSG_MAX, ms);
	else if (ms != NULL || cs != NULL)
		snprintf(msg, len, "%.*s", HTTP_MSG_MAX, ms ? ms : cs);
	/* one line of printable text in our messages */
	for (i = 0; msg[i] != '\0'; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			msg[i] = ' ';
out:
	json_object_put(o);
}
