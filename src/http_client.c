/* http_client.c - see http_client.h */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "buf.h"
#include "http_client.h"

enum http_method { HTTP_M_GET, HTTP_M_POST };

struct http_client {
	CURL		*curl;		/* reused: keeps the connection alive */
	struct curl_slist *post_hdrs;	/* Content-Type, Accept, auth */
	struct curl_slist *get_hdrs;	/* Accept, auth */
	long		 connect_timeout; /* ms */
	long		 timeout;	/* ms, all attempts together */
	int		 retries;	/* extra attempts */
	char		 errbuf[CURL_ERROR_SIZE];

	/* State of the attempt in progress (set by the callbacks). */
	struct buf	*resp;		/* body goes here */
	int		 too_big;	/* body over HTTP_MAX_RESPONSE */
	long		 retry_after;	/* ms from Retry-After, -1 = none */
};

static int curl_ready;

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

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

/* "Authorization: Bearer <value of TOKEN_ENV>" into *LIST, if set. */
static int
add_auth(struct curl_slist **list, const char *token_env)
{
	struct curl_slist *l;
	const char *tok;
	char *hdr;
	size_t n;
	int rc = HTTP_ERROR;

	if (token_env == NULL || token_env[0] == '\0' ||
	    (tok = getenv(token_env)) == NULL || tok[0] == '\0')
		return HTTP_OK;
	if (strpbrk(tok, "\r\n") != NULL)
		return HTTP_ERROR;	/* would split the header */
	n = sizeof("Authorization: Bearer ") + strlen(tok);
	if ((hdr = malloc(n)) == NULL)
		return HTTP_ERROR;
	snprintf(hdr, n, "Authorization: Bearer %s", tok);
	if ((l = curl_slist_append(*list, hdr)) != NULL) {
		*list = l;
		rc = HTTP_OK;
	}
	explicit_bzero(hdr, n);
	free(hdr);
	return rc;
}

static struct curl_slist *
headers(int post, const char *token_env)
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
	if (add_auth(&list, token_env) != HTTP_OK)
		goto fail;
	return list;
fail:
	curl_slist_free_all(list);
	return NULL;
}

struct http_client *
http_client_new(long connect_timeout_ms, long timeout_ms, int retries,
    const char *token_env)
{
	struct http_client *h;

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
	if ((h->curl = curl_easy_init()) == NULL ||
	    (h->post_hdrs = headers(1, token_env)) == NULL ||
	    (h->get_hdrs = headers(0, token_env)) == NULL)
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
	curl_slist_free_all(h->post_hdrs);
	curl_slist_free_all(h->get_hdrs);
	free(h);
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

static int
request(struct http_client *h, enum http_method m, const char *url,
    const char *body, size_t len, long *status, struct buf *resp, char *err,
    size_t errlen)
{
	const char *mname = m == HTTP_M_POST ? "POST" : "GET";
	long long deadline, left, now;
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
		    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->post_hdrs) !=
		    CURLE_OK)
			goto setopt;
	} else {
		if (curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L) != CURLE_OK ||
		    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->get_hdrs) !=
		    CURLE_OK)
			goto setopt;
	}
	if (curl_easy_setopt(h->curl, CURLOPT_URL, url) != CURLE_OK)
		goto setopt;

	deadline = now_ms() + h->timeout;
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
