/*
 * http_client.h - a small libcurl client for the JSON services fashiond and
 * fashionctl call (Databricks Model Serving, Vector Search, or their local
 * stand-ins): one easy handle per client, reused so connections stay
 * alive; connect and total timeouts; retries with backoff; bearer auth
 * with a personal access token or with OAuth machine-to-machine tokens.
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
 *
 * Authentication, as the Databricks unified client auth does it, decided
 * once when the client is made from the variables struct http_auth names:
 *
 *   "oauth-m2m"  both the client id and the client secret variable are set
 *		 and not empty: OAuth client credentials.  The client gets an
 *		 access token with
 *		   POST {base_url}/oidc/v1/token
 *		   Authorization: Basic base64(id:secret)
 *		   Content-Type: application/x-www-form-urlencoded
 *		   grant_type=client_credentials&scope=all-apis
 *		   -> {"access_token": "...", "token_type": "Bearer",
 *		       "expires_in": 3600}
 *		 and sends "Authorization: Bearer <access_token>".  The token
 *		 is kept and reused until http_token_refresh_ms() after the
 *		 token request started; then the next request fetches a new
 *		 one first.  When the API answers 401 to a kept token (revoked,
 *		 or expired early), the client drops it, fetches a new one and
 *		 sends the request again, once.  Token requests use the same
 *		 retries and share the request's total timeout.
 *   "token"	 otherwise, the token_env variable is set and not empty:
 *		 "Authorization: Bearer <its value>" (a personal access token).
 *   "none"	 no Authorization header.
 *
 * Secrets and tokens are never logged nor put into error messages.
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
#define HTTP_AUTH_FAILED -4	/* OAuth: the token endpoint refused the
				   client (4xx) or gave no usable token */

#define HTTP_MAX_RESPONSE	(64L << 20)	/* bytes of response body kept */
#define HTTP_BACKOFF_MS		100	/* first wait between attempts */
#define HTTP_BACKOFF_MAX_MS	5000	/* longest wait without Retry-After */
#define HTTP_RETRY_AFTER_MAX_MS	(3600L * 1000)	/* longest Retry-After taken */
#define HTTP_RETRY_AFTER_DATE_MS 1000	/* wait for a Retry-After HTTP-date */

#define HTTP_TOKEN_PATH		"/oidc/v1/token"	/* after base_url */
#define HTTP_TOKEN_MAX		16384	/* longest access token taken, bytes */
#define HTTP_TOKEN_RESPONSE_MAX	(1L << 20)	/* longest token response */
#define HTTP_TOKEN_TTL_DEFAULT	300	/* s, when expires_in is missing */
#define HTTP_TOKEN_TTL_MAX	(366L * 86400)	/* s, longer is cut to this */
#define HTTP_TOKEN_MARGIN_MS	60000	/* refresh this long before expiry, */
#define HTTP_TOKEN_MARGIN_DIV	10	/* or 1/10 of the lifetime if less */

struct http_client;

/*
 * Where a client's credentials come from: names of environment variables
 * (NULL or "" for none), read once by http_client_new_auth().
 */
struct http_auth {
	const char *base_url;		/* workspace / service base URL: the
					   token URL is {base_url}/oidc/v1/token */
	const char *token_env;		/* personal access token variable */
	const char *client_id_env;	/* OAuth M2M client id variable */
	const char *client_secret_env;	/* OAuth M2M client secret variable */
};

/*
 * A client with the given timeouts (milliseconds, > 0), RETRIES extra
 * attempts (>= 0) and, when TOKEN_ENV names a non-empty environment
 * variable, "Authorization: Bearer <its value>" on every request (read
 * once, here; never logged).  NULL when out of memory or libcurl fails to
 * initialise.
 */
struct http_client *http_client_new(long connect_timeout_ms, long timeout_ms,
	    int retries, const char *token_env);

/*
 * The same with the authentication AUTH describes (see above; NULL for
 * none).  The variables are read here, once.  NULL when out of memory,
 * when libcurl fails to initialise, or when the personal access token
 * holds a CR or LF.
 */
struct http_client *http_client_new_auth(long connect_timeout_ms,
	    long timeout_ms, int retries, const struct http_auth *auth);
void	http_client_free(struct http_client *);

/* Which mode a client uses, for /health and logs: "oauth-m2m", "token" or "none". */
const char *http_client_auth_mode(const struct http_client *);

/*
 * POST BODY (LEN bytes, Content-Type: application/json) to URL, or GET
 * URL.  RESP is reset and receives the body of the last response, its
 * status goes to *STATUS.  Returns HTTP_OK whatever the status is (the
 * caller interprets it; a 429/503/504 still there after the retries is
 * returned as it came), else HTTP_DOWN, HTTP_TIMEOUT or HTTP_ERROR with a
 * message in ERR.  With OAuth, the token request can also fail: HTTP_DOWN
 * and HTTP_TIMEOUT as above (also for a 429/5xx from the token endpoint),
 * or HTTP_AUTH_FAILED, "authentication failed: ..." with the token
 * endpoint's status and its "error" and "error_description".
 */
int	http_post_json(struct http_client *, const char *url, const char *body,
	    size_t len, long *status, struct buf *resp, char *err,
	    size_t errlen);
int	http_get(struct http_client *, const char *url, long *status,
	    struct buf *resp, char *err, size_t errlen);

#define HTTP_MSG_MAX	200	/* bytes of a server message quoted */

/*
 * A Databricks error body {"error_code": C, "message": M} as "C: M" (or
 * whichever is there; "" when neither), M cut to HTTP_MSG_MAX bytes,
 * control characters as spaces: for the caller's error messages.
 */
void	http_error_message(const struct buf *resp, char *msg, size_t len);

/*
 * Parse the value of a Retry-After header (S, LEN bytes, surrounding
 * whitespace allowed): delta-seconds give *MS = seconds * 1000 (at most
 * HTTP_RETRY_AFTER_MAX_MS), an HTTP-date gives HTTP_RETRY_AFTER_DATE_MS.
 * HTTP_OK, or HTTP_ERROR when the value is neither (use the backoff).
 */
int	http_parse_retry_after(const char *s, size_t len, long *ms);

/*
 * Parse a token endpoint's 2xx answer BODY (LEN bytes):
 * {"access_token": "...", "token_type": "Bearer", "expires_in": N}.  The
 * token must be 1..HTTP_TOKEN_MAX visible ASCII characters; token_type,
 * when present, "Bearer" in any case; expires_in, when present, a
 * non-negative integer (or a string of digits), cut to HTTP_TOKEN_TTL_MAX;
 * missing, it is HTTP_TOKEN_TTL_DEFAULT.  HTTP_OK with a copy of the token
 * in *TOKEN (free it; wipe it first) and the lifetime in seconds in
 * *EXPIRES_IN, else HTTP_AUTH_FAILED with the reason in ERR (never the
 * token), or HTTP_ERROR when out of memory.
 */
int	http_token_parse(const char *body, size_t len, char **token,
	    long *expires_in, char *err, size_t errlen);

/*
 * The "error" and "error_description" of a token endpoint's error answer
 * BODY (RFC 6749, 5.2) as one printable line into MSG ("invalid_client:
 * Client authentication failed"), or "" when it has neither.
 */
void	http_token_error(const char *body, size_t len, char *msg,
	    size_t msglen);

/*
 * When to fetch a new token, in milliseconds after the request for one
 * started, given its lifetime EXPIRES_IN seconds: the lifetime less
 * HTTP_TOKEN_MARGIN_MS or less 1/HTTP_TOKEN_MARGIN_DIV of it, whichever
 * margin is smaller (3600 s -> 3540 s, 300 s -> 270 s, 2 s -> 1.8 s,
 * 0 -> 0: fetched again for the next request).
 */
long long http_token_refresh_ms(long expires_in);

#endif
