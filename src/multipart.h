/*
 * multipart.h - a strict, bounded multipart/form-data parser (RFC 7578,
 * RFC 2046) for uploads such as POST /api/v1/search/image.
 *
 * It works on a body already in memory (read up to server.max_body) and
 * allocates nothing: each part's data points into the body, which must
 * outlive the form; only the short header values are copied.  It never
 * reads past the length it is given.
 *
 * What it accepts, decided once:
 * - Lines end in CRLF only.  A boundary line ending in a bare LF is
 *   rejected ("must end with CRLF"): accepting LF would make binary data
 *   holding LF "--boundary" ambiguous.
 * - A delimiter is CRLF "--" BOUNDARY, then optional spaces/tabs and CRLF
 *   (next part) or "--" (the close delimiter); the first one may start the
 *   body without the CRLF.  "--" BOUNDARY followed by anything else is
 *   part data, so binary data holding CRLF, "--" or a longer boundary is
 *   safe.  The preamble and the epilogue (after "--BOUNDARY--") are ignored.
 * - No close delimiter: MP_BAD ("truncated").  Only a close delimiter: MP_OK
 *   with no parts (an empty browser form); the caller asks for its fields.
 * - Per part: at most MP_MAX_HEADERS header lines, MP_MAX_HEADER_BYTES bytes
 *   of headers with the blank line; names case-insensitive; folded lines and
 *   control characters are rejected; unknown headers are ignored.
 * - Content-Disposition is required, once, "form-data" with a "name"
 *   parameter (token or quoted string, non-empty); "filename" is kept
 *   verbatim (no path interpretation; browsers send "%22" for a quote and
 *   it stays so); other parameters (filename*) are ignored.  In quoted
 *   strings \" and \\ are unescaped and any other backslash is kept, so
 *   "C:\dir\a.jpg" from old browsers survives.  Names and filenames must be
 *   valid UTF-8 without control characters (C0, DEL, C1) and fit their
 *   fields below; a parameter given twice is rejected.
 * - Content-Type is copied as sent (trimmed, printable ASCII only).
 *   Content-Transfer-Encoding other than 7bit, 8bit or binary is rejected.
 * - Field names may repeat; multipart_get returns the first.
 */
#ifndef FASHION_MULTIPART_H
#define FASHION_MULTIPART_H

#include <stddef.h>

#define MP_OK		 0
#define MP_BAD		-1	/* malformed: caller answers 400 with MSG */

#define MP_MAX_PARTS		16
#define MP_MAX_HEADERS		16	/* header lines per part */
#define MP_MAX_HEADER_BYTES	8192	/* a part's headers, blank line included */
#define MP_BOUNDARY_MAX		70	/* RFC 2046; buffers need one more */

struct mp_part {
	char			 name[64];	/* field name, from Content-Disposition */
	char			 filename[256];	/* "" when none */
	char			 content_type[128]; /* "" when none */
	const unsigned char	*data;		/* into the body */
	size_t			 len;
};

struct mp_form {
	struct mp_part	 parts[MP_MAX_PARTS];
	int		 nparts;	/* 0 after MP_BAD */
};

/*
 * The boundary of a Content-Type header value ("multipart/form-data;
 * boundary=..." in any case; the value quoted or not, 1 to
 * MP_BOUNDARY_MAX RFC 2046 characters) into OUT (OUTLEN >
 * MP_BOUNDARY_MAX).  MP_OK, or MP_BAD with a message in MSG.
 */
int	multipart_boundary(const char *content_type, char *out, size_t outlen,
	    char *msg, size_t msglen);

/*
 * Split BODY (LEN bytes) on BOUNDARY into FORM.  MP_OK, or MP_BAD with a
 * short message for a 400 in MSG (MSGLEN of 128 holds any of them).
 */
int	multipart_parse(const unsigned char *body, size_t len,
	    const char *boundary, struct mp_form *form, char *msg,
	    size_t msglen);

/* The first part named NAME, or NULL. */
const struct mp_part *multipart_get(const struct mp_form *, const char *name);

#endif
