/*
 * request.h - one HTTP request as FastCGI (or CGI) hands it over, and the
 * response being built for it.  Everything allocated for a request hangs
 * off struct request and is released by request_end().
 */
#ifndef FASHION_REQUEST_H
#define FASHION_REQUEST_H

#include <stddef.h>

#include <fcgiapp.h>

#include "buf.h"

#define REQ_OK		 0
#define REQ_ERROR	-1

#define REQ_MAX_PARAMS	 32	/* query parameters accepted */
#define REQ_MAX_QUERY	 4096	/* bytes of query string accepted */
#define REQ_MAX_PATH	 1024	/* bytes of path accepted */
#define REQ_MAX_CAPTURES 2	/* {x} segments in a route */

struct param {
	char	*name;		/* percent-decoded, valid UTF-8 */
	char	*value;		/* percent-decoded, valid UTF-8 */
	int	 used;		/* looked up by the handler */
};

struct request {
	FCGX_Stream	*in, *out;	/* NULL: plain CGI on stdin/stdout */
	char		**envp;
	const char	*method;
	char		 path[REQ_MAX_PATH];	/* decoded path, no query */
	const char	*query;		/* raw query string */
	char		 id[17];	/* request id for logs */
	struct param	 params[REQ_MAX_PARAMS];
	int		 nparams;
	char		*captures[REQ_MAX_CAPTURES];	/* {x} segments */

	struct buf	 input;		/* request body, at most server.max_body */

	/* response */
	int		 status;
	const char	*allow;		/* Allow header for 405 */
	struct buf	 headers;	/* extra header lines, each ending "\r\n"
					   (request_header) */
	struct buf	 body;		/* JSON */
};

/*
 * Fill R from the FastCGI request (FCGX may be NULL for CGI: use environ).
 * Returns REQ_OK, or REQ_ERROR with an error response already set in R.
 */
int	 request_begin(struct request *r, FCGX_Request *fcgx);
/*
 * Read the body (CONTENT_LENGTH bytes) into r->input.  REQ_ERROR with a
 * 400/413 response set when the length is invalid or above MAX; the caller
 * must then not reuse the connection (*close_conn set).
 */
int	 request_read_body(struct request *r, long max, int *close_conn);
void	 request_send(struct request *r);
/* Add "NAME: VALUE" to the response (Set-Cookie, Retry-After...); VALUE
 * must not hold CR or LF (checked: such a header is dropped). */
void	 request_header(struct request *r, const char *name, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));
void	 request_end(struct request *r);

const char *request_env(const struct request *, const char *name);

/* Query parameter by name (marks it used), NULL when absent. */
const char *request_param(struct request *, const char *name);
/* First parameter nobody asked for, NULL when all were used. */
const char *request_unused_param(const struct request *);

/* Shapes of error bodies, for request_error_style(). */
#define REQ_ERRORS_API		0	/* {"error":{"code":..,"message":..}} */
#define REQ_ERRORS_DATABRICKS	1	/* {"error_code":..,"message":..} */

/*
 * How this process shapes error bodies (default REQ_ERRORS_API; the
 * Databricks stand-ins use REQ_ERRORS_DATABRICKS).  In the Databricks shape
 * the errors request.c finds itself (bad path, Content-Length, body too
 * large) carry the Databricks code for their status.
 */
void	 request_error_style(int style);

/* Set an error response with CODE in this process's shape. */
void	 request_error(struct request *, int status, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * 1 when TOKEN is NULL (none required) or the request carries
 * "Authorization: Bearer TOKEN" (compared in constant time), else 0.
 */
int	 request_bearer_ok(const struct request *r, const char *token);

/* Parse a decimal integer in [min, max]; REQ_OK or REQ_ERROR. */
int	 parse_int(const char *s, long long min, long long max, long long *out);
/* Parse a finite decimal number >= 0 without exponent; REQ_OK/REQ_ERROR. */
int	 parse_price(const char *s, double *out);

/* Exposed for the unit tests / fuzz harness. */
int	 query_parse(struct request *r, const char *qs, char *err, size_t errlen);
int	 percent_decode(const char *s, size_t n, char **out, int plus_is_space);

#endif
