/*
 * http_client.h - a small libcurl client for the JSON services fashiond and
 * fashionctl call (Databricks Model Serving, Vector Search, or their local
 * stand-ins): one easy handle per client, reused so connections stay
 * alive; connect and total timeouts; retries with backoff; bearer auth.
 *
 * A client is not thread-safe: use one per thread.  The first
 * http_client_new() initialises libcurl, so create clients before starting
 * threads.
 *
 * Retries: on 429, 503 and 504 and on connection errors (refused, reset,
 * DNS, connect timeout) a request is tried again up to RETRIES more times.
 * The wait is the response's Retry-After when it has one, else 100 ms,
 * 200 ms, 400 ms, ... up to HTTP_BACKOFF_MAX_MS.  The total timeout covers
 * all attempts and waits: no wait is started that would end past it.
 */
#ifndef FASHION_HTTP_CLIENT_H
#define FASHION_HTTP_CLIENT_H

#include <stddef.h>

#include "buf.h"

/* Results of http_post_json / http_get. */
#define HTTP_OK		 0	/* got an HTTP response (any status) */
#define HTTP_DOWN	-1	/* refused, reset, DNS or connect timeout, after retries */
#define HTTP_TIMEOUT	-2	/* the total timeout passed */
#define HTTP_ERROR	-3	/* local failure: bad URL, out of memory,
				   response larger than HTTP_MAX_RESPONSE */

#define HTTP_MAX_RESPONSE	(64L << 20)	/* bytes of response body kept */
#define HTTP_BACKOFF_MS		100	/* first wait between attempts */
#define HTTP_BACKOFF_MAX_MS	5000	/* longest wait without Retry-After */
#define HTTP_RETRY_AFTER_MAX_MS	(3600L * 1000)	/* longest Retry-After taken */
#define HTTP_RETRY_AFTER_DATE_MS 1000	/* wait for a Retry-After HTTP-date */

struct http_client;

/*
 * A client with the given timeouts (milliseconds, > 0), RETRIES extra
 * attempts (>= 0) and, when TOKEN_ENV names a non-empty environment
 * variable, "Authorization: Bearer <its value>" on every request (read
 * once, here; never logged).  NULL when out of memory or libcurl fails to
 * initialise.
 */
struct http_client *http_client_new(long connect_timeout_ms, long timeout_ms,
	    int retries, const char *token_env);
void	http_client_free(struct http_client *);

/*
 * POST BODY (LEN bytes, Content-Type: application/json) to URL, or GET
 * URL.  RESP is reset and receives the body of the last response, its
 * status goes to *STATUS.  Returns HTTP_OK whatever the status is (the
 * caller interprets it; a 429/503/504 still there after the retries is
 * returned as it came), else HTTP_DOWN, HTTP_TIMEOUT or HTTP_ERROR with a
 * message in ERR.
 */
int	http_post_json(struct http_client *, const char *url, const char *body,
	    size_t len, long *status, struct buf *resp, char *err,
	    size_t errlen);
int	http_get(struct http_client *, const char *url, long *status,
	    struct buf *resp, char *err, size_t errlen);

/*
 * Parse the value of a Retry-After header (S, LEN bytes, surrounding
 * whitespace allowed): delta-seconds give *MS = seconds * 1000 (at most
 * HTTP_RETRY_AFTER_MAX_MS), an HTTP-date gives HTTP_RETRY_AFTER_DATE_MS.
 * HTTP_OK, or HTTP_ERROR when the value is neither (use the backoff).
 */
int	http_parse_retry_after(const char *s, size_t len, long *ms);

#endif
