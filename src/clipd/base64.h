/*
 * base64.h - decode the base64 of an image sent to fashion-clipd.
 *
 * Accepted: the standard alphabet (RFC 4648 section 4, "+/") or the URL-safe
 * one (section 5, "-_"), not both in one string; "=" padding optional, but
 * when present it must be the right amount and only at the end; ASCII
 * whitespace (space, \t, \n, \v, \f, \r) anywhere is ignored.  Rejected:
 * any other byte, a length that no encoding produces (4k + 1 symbols).
 * Unused low bits of the last symbol are not checked.
 */
#ifndef CLIPD_BASE64_H
#define CLIPD_BASE64_H

#include <stddef.h>

#define BASE64_OK	 0
#define BASE64_ERROR	-1	/* not valid base64 */
#define BASE64_NOMEM	-2	/* allocation failed */

/*
 * Decode IN (LEN bytes, need not be NUL-terminated) into a new buffer *OUT
 * of *OUTLEN bytes, to be freed by the caller.  *OUT is never NULL on
 * BASE64_OK, even when *OUTLEN is 0 (empty input), and NULL otherwise.
 */
int	base64_decode(const char *in, size_t len, unsigned char **out,
	    size_t *outlen);

#endif
