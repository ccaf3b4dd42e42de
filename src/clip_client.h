/*
 * clip_client.h - the Databricks Model Serving protocol, as spoken to the
 * CLIP embedding endpoint (fashion-clipd locally):
 *
 *   POST {clip.url}/serving-endpoints/{clip.endpoint}/invocations
 *   {"dataframe_records": [{"text": "..."}, {"image": "<base64>"}, ...]}
 *   -> 200 {"predictions": [[512 floats], ...]}   one per record, in order
 *   -> 4xx/5xx {"error_code": "...", "message": "..."}
 *
 * Rows are sent in invocations of at most clip.max_batch records and
 * clip.max_body bytes.  Uses http_client.h (timeouts, retries, bearer
 * token from clip.token_env); one client per thread.
 */
#ifndef FASHION_CLIP_CLIENT_H
#define FASHION_CLIP_CLIENT_H

#include <stddef.h>

#include "config.h"

#define CLIP_DIM	512	/* floats per embedding */

/* Results of clip_embed. */
#define CLIP_OK		 0
#define CLIP_DOWN	-1	/* unreachable, or 429/5xx after the retries */
#define CLIP_TIMEOUT	-2	/* no answer in time (or 504/408) */
#define CLIP_BAD	-3	/* the rows were refused (4xx), or a bad input row */
#define CLIP_ERROR	-4	/* local failure: out of memory, bad URL */
#define CLIP_UPSTREAM	-5	/* credentials refused (401/403, OAuth), or an
				   answer that is not the protocol's */

/* One record: exactly one of text and image is set. */
struct clip_input {
	const char		*text;		/* UTF-8, TEXT_LEN bytes */
	size_t			 text_len;
	const unsigned char	*image;		/* raw JPEG/PNG bytes, base64-encoded
						   by the client */
	size_t			 image_len;
};

struct clip_client;

/* A client for the endpoint in CFG; NULL with a reason in ERR. */
struct clip_client *clip_client_new(const struct settings *cfg, char *err,
	    size_t errlen);
void	clip_client_free(struct clip_client *);

/* The invocations URL the client posts to. */
const char *clip_client_url(const struct clip_client *);

/*
 * Embed N rows into OUT (N * CLIP_DIM floats, row i at OUT + i * CLIP_DIM),
 * as the endpoint returned them.  CLIP_OK, or another CLIP_* with a
 * message in ERR (the server's "message" when it sent one); OUT is then
 * undefined.
 */
int	clip_embed(struct clip_client *, const struct clip_input *rows,
	    size_t n, float *out, char *err, size_t errlen);

/*
 * GET {url}/api/2.0/serving-endpoints/{endpoint}: CLIP_OK when the
 * endpoint says state.ready = "READY", else CLIP_DOWN / CLIP_TIMEOUT /
 * CLIP_BAD with the reason in ERR.  For health checks.
 */
int	clip_ready(struct clip_client *, char *err, size_t errlen);

/*
 * V (CLIP_DIM floats) /= |V|: 0, or -1 with V unchanged when its norm is
 * zero or not finite.
 */
int	clip_unit(float *v);

/* Append the base64 (RFC 4648, padded) encoding of P[0..LEN) to OUT. */
struct buf;
void	clip_base64(struct buf *out, const unsigned char *p, size_t len);

#endif
