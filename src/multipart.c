/* multipart.c - see multipart.h */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "multipart.h"

/* What follows "--" BOUNDARY in the body. */
#define D_NONE		0	/* not a delimiter: part data */
#define D_PART		1	/* another part follows */
#define D_CLOSE		2	/* "--BOUNDARY--": the end */
#define D_BARELF	3	/* delimiter line ended by LF alone */

static int	bad(char *msg, size_t msglen, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

static int
bad(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	if (msg != NULL && msglen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(msg, msglen, fmt, ap);	/* short is fine */
		va_end(ap);
	}
	return MP_BAD;
}

/* RFC 7230 tchar. */
static int
is_tchar(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 2046 bcharsnospace. */
static int
is_bchar(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("'()+_,-./:=?", c) != NULL;
}

static int
is_ows(int c)
{
	return c == ' ' || c == '\t';
}

/* S[0..N) equals the lower-case literal LIT, ignoring ASCII case. */
static int
lc_eq(const char *s, size_t n, const char *lit)
{
	size_t i;
	int c;

	if (n != strlen(lit))
		return 0;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != lit[i])
			return 0;
	}
	return 1;
}

/* 1 if B[0..N) is a valid RFC 2046 boundary. */
static int
boundary_ok(const char *b, size_t n)
{
	size_t i;

	if (n < 1 || n > MP_BOUNDARY_MAX || b[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++)
		if (b[i] != ' ' && !is_bchar((unsigned char)b[i]))
			return 0;
	return 1;
}

/* 1 if S[0..N) is valid UTF-8 without control characters (C0, DEL, C1). */
static int
text_ok(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i;

	if (!utf8_valid(s, n))
		return 0;
	for (i = 0; i < n; i++) {
		if (u[i] < 0x20 || u[i] == 0x7f)
			return 0;
		if (u[i] == 0xc2 && i + 1 < n && u[i + 1] < 0xa0)
			return 0;		/* U+0080..U+009F */
	}
	return 1;
}

/*
 * A parameter value at S[*i..n): a token, or a quoted string whose \" and
 * \\ are unescaped (RFC_PAIRS: any \x is x, as RFC 7230 says).  Copies
 * what fits into OUT (OUTLEN > 0, NUL-terminated) and sets *VLEN to the
 * full decoded length.  -1 when malformed.
 */
static int
param_value(const char *s, size_t n, size_t *i, int rfc_pairs,
    int (*tok)(int), char *out, size_t outlen, size_t *vlen)
{
	size_t j = *i, o = 0, len = 0;
	unsigned char c;

	if (j < n && s[j] == '"') {
		for (j++; ; j++) {
			if (j >= n)
				return -1;	/* unterminated */
			c = (unsigned char)s[j];
			if (c == '"')
				break;
			if (c == '\\' && j + 1 < n && (rfc_pairs ||
			    s[j + 1] == '"' || s[j + 1] == '\\'))
				c = (unsigned char)s[++j];
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return -1;
			if (o + 1 < outlen)
				out[o++] = (char)c;
			len++;
		}
		j++;
	} else {
		for (; j < n && tok((unsigned char)s[j]); j++) {
			if (o + 1 < outlen)
				out[o++] = s[j];
			len++;
		}
		if (len == 0)
			return -1;
	}
	out[o] = '\0';
	*vlen = len;
	*i = j;
	return 0;
}

static int
ct_value_char(int c)
{
	return is_tchar(c) || is_bchar(c);
}

int
multipart_boundary(const char *ct, char *out, size_t outlen, char *msg,
    size_t msglen)
{
	static const char type[] = "multipart/form-data";
	char val[MP_BOUNDARY_MAX + 2];
	size_t i = 0, n, nlen, vlen;
	size_t tlen = sizeof(type) - 1;
	int found = 0;

	if (out != NULL && outlen > 0)
		out[0] = '\0';
	if (ct == NULL)
		return bad(msg, msglen, "no Content-Type");
	n = strlen(ct);
	while (i < n && is_ows((unsigned char)ct[i]))
		i++;
	if (n - i < tlen || !lc_eq(ct + i, tlen, type) ||
	    (i + tlen < n && ct[i + tlen] != ';' &&
	    !is_ows((unsigned char)ct[i + tlen])))
		return bad(msg, msglen,
		    "Content-Type must be multipart/form-data");
	i += tlen;
	for (;;) {
		while (i < n && is_ows((unsigned char)ct[i]))
			i++;
		if (i == n)
			break;
		if (ct[i] != ';')
			return bad(msg, msglen, "malformed Content-Type");
		i++;
		while (i < n && is_ows((unsigned char)ct[i]))
			i++;
		if (i == n)
			break;			/* a trailing ';' */
		for (nlen = 0; i + nlen < n &&
		    is_tchar((unsigned char)ct[i + nlen]); nlen++)
			;
		if (nlen == 0 || i + nlen == n || ct[i + nlen] != '=')
			return bad(msg, msglen, "malformed Content-Type");
		if (!lc_eq(ct + i, nlen, "boundary")) {
			i += nlen + 1;
			if (param_value(ct, n, &i, 1, is_tchar, val,
			    sizeof(val), &vlen) == -1)
				return bad(msg, msglen,
				    "malformed Content-Type");
			continue;
		}
		i += nlen + 1;
		if (found)
			return bad(msg, msglen,
			    "Content-Type has two boundary parameters");
		if (param_value(ct, n, &i, 1, ct_value_char, val, sizeof(val),
		    &vlen) == -1)
			return bad(msg, msglen, "malformed boundary in "
			    "Content-Type");
		if (vlen == 0 || vlen > MP_BOUNDARY_MAX)
			return bad(msg, msglen, "boundary must be 1 to %d "
			    "characters", MP_BOUNDARY_MAX);
		if (!boundary_ok(val, vlen))
			return bad(msg, msglen, "boundary has a character "
			    "RFC 2046 does not allow");
		if (out == NULL || vlen >= outlen)
			return bad(msg, msglen, "boundary too long");
		memcpy(out, val, vlen + 1);
		found = 1;
	}
	if (!found)
		return bad(msg, msglen, "Content-Type has no boundary");
	return MP_OK;
}

/*
 * What "--" BOUNDARY at B[i] (i <= len) is; for D_PART and D_CLOSE *NEXT
 * is the offset just after the delimiter line (after "--" for D_CLOSE).
 */
static int
delim_at(const unsigned char *b, size_t len, size_t i, const char *bd,
    size_t bl, size_t *next)
{
	if (len - i < 2 + bl || b[i] != '-' || b[i + 1] != '-' ||
	    memcmp(b + i + 2, bd, bl) != 0)
		return D_NONE;
	i += 2 + bl;
	if (len - i >= 2 && b[i] == '-' && b[i + 1] == '-') {
		*next = i + 2;
		return D_CLOSE;
	}
	while (i < len && is_ows(b[i]))
		i++;
	if (i < len && b[i] == '\n')
		return D_BARELF;
	if (len - i >= 2 && b[i] == '\r' && b[i + 1] == '\n') {
		*next = i + 2;
		return D_PART;
	}
	return D_NONE;
}

/*
 * The first delimiter CRLF "--" BOUNDARY at or after FROM: its kind, *AT
 * the offset of its CR (the end of the data before it), *NEXT as for
 * delim_at.  D_NONE when there is none before LEN.
 */
static int
find_delim(const unsigned char *b, size_t len, size_t from, const char *bd,
    size_t bl, size_t *at, size_t *next)
{
	const unsigned char *q;
	size_t i = from, k;
	int kind;

	while (i <= len && len - i >= 4 + bl) {
		/* A CR at k leaves room for LF "--" BOUNDARY: k + 4 + bl <= len. */
		if ((q = memchr(b + i, '\r', len - i - 3 - bl)) == NULL)
			return D_NONE;
		k = (size_t)(q - b);
		if (b[k + 1] == '\n' &&
		    (kind = delim_at(b, len, k + 2, bd, bl, next)) != D_NONE) {
			*at = k;
			return kind;
		}
		i = k + 1;
	}
	return D_NONE;
}

/* The Content-Disposition value V[0..n) of part PN into P. */
static int
disposition(const char *v, size_t n, int pn, struct mp_part *p, char *msg,
    size_t msglen)
{
	char val[sizeof(p->filename) + 1];
	size_t i = 0, nlen, vlen;
	int have_name = 0, have_file = 0, is_name;

	while (i < n && is_tchar((unsigned char)v[i]))
		i++;
	if (!lc_eq(v, i, "form-data"))
		return bad(msg, msglen, "part %d: Content-Disposition is not "
		    "form-data", pn);
	for (;;) {
		while (i < n && is_ows((unsigned char)v[i]))
			i++;
		if (i == n)
			break;
		if (v[i] != ';')
			goto malformed;
		i++;
		while (i < n && is_ows((unsigned char)v[i]))
			i++;
		if (i == n)
			break;			/* a trailing ';' */
		for (nlen = 0; i + nlen < n &&
		    is_tchar((unsigned char)v[i + nlen]); nlen++)
			;
		if (nlen == 0 || i + nlen == n || v[i + nlen] != '=')
			goto malformed;
		is_name = lc_eq(v + i, nlen, "name");
		if (!is_name && !lc_eq(v + i, nlen, "filename")) {
			i += nlen + 1;
			if (param_value(v, n, &i, 0, is_tchar, val,
			    sizeof(val), &vlen) == -1)
				goto malformed;
			continue;	/* filename* and extensions */
		}
		i += nlen + 1;
		if (param_value(v, n, &i, 0, is_tchar, val, sizeof(val),
		    &vlen) == -1)
			goto malformed;
		if (is_name) {
			if (have_name)
				return bad(msg, msglen, "part %d: name given "
				    "twice", pn);
			if (vlen == 0)
				return bad(msg, msglen, "part %d: empty field "
				    "name", pn);
			if (vlen >= sizeof(p->name))
				return bad(msg, msglen, "part %d: field name "
				    "longer than %zu bytes", pn,
				    sizeof(p->name) - 1);
			if (!text_ok(val, vlen))
				return bad(msg, msglen, "part %d: field name "
				    "is not valid UTF-8 text", pn);
			memcpy(p->name, val, vlen + 1);
			have_name = 1;
		} else {
			if (have_file)
				return bad(msg, msglen, "part %d: filename "
				    "given twice", pn);
			if (vlen >= sizeof(p->filename))
				return bad(msg, msglen, "part %d: filename "
				    "longer than %zu bytes", pn,
				    sizeof(p->filename) - 1);
			if (!text_ok(val, vlen))
				return bad(msg, msglen, "part %d: filename "
				    "is not valid UTF-8 text", pn);
			memcpy(p->filename, val, vlen + 1);
			have_file = 1;
		}
	}
	if (!have_name)
		return bad(msg, msglen, "part %d: Content-Disposition has no "
		    "name", pn);
	return MP_OK;
malformed:
	return bad(msg, msglen, "part %d: malformed Content-Disposition", pn);
}

/*
 * The headers of part PN starting at B[pos] into P; *DATA is the offset
 * after the blank line that ends them.
 */
static int
part_headers(const unsigned char *b, size_t len, size_t pos, int pn,
    struct mp_part *p, size_t *data, char *msg, size_t msglen)
{
	const unsigned char *q;
	const char *line, *v;
	char shown[24];
	size_t start = pos, room, lim, nl, eol, colon, vs, ve, k;
	int nh = 0, have_cd = 0, have_ct = 0, have_cte = 0;

	for (;;) {
		room = MP_MAX_HEADER_BYTES - (pos - start);
		lim = len - pos < room ? len - pos : room;
		if ((q = memchr(b + pos, '\n', lim)) == NULL) {
			if (lim == room)
				return bad(msg, msglen, "part %d: headers "
				    "longer than %d bytes", pn,
				    MP_MAX_HEADER_BYTES);
			return bad(msg, msglen, "body is truncated inside "
			    "the headers of part %d", pn);
		}
		nl = (size_t)(q - b);
		if (nl == pos || b[nl - 1] != '\r')
			return bad(msg, msglen, "part %d: header line does "
			    "not end with CRLF", pn);
		eol = nl - 1;
		if (eol == pos) {		/* the blank line */
			*data = nl + 1;
			break;
		}
		if (++nh > MP_MAX_HEADERS)
			return bad(msg, msglen, "part %d: more than %d "
			    "headers", pn, MP_MAX_HEADERS);
		line = (const char *)b + pos;
		if (is_ows(b[pos]))
			return bad(msg, msglen, "part %d: folded header "
			    "lines are not supported", pn);
		if ((v = memchr(line, ':', eol - pos)) == NULL)
			return bad(msg, msglen, "part %d: header line "
			    "without a colon", pn);
		colon = (size_t)(v - line);
		for (k = 0; k < colon; k++)
			if (!is_tchar((unsigned char)line[k]))
				break;
		if (colon == 0 || k < colon)
			return bad(msg, msglen, "part %d: invalid header "
			    "name", pn);
		for (k = pos + colon + 1; k < eol; k++)
			if ((b[k] < 0x20 && b[k] != '\t') || b[k] == 0x7f)
				return bad(msg, msglen, "part %d: control "
				    "character in a header", pn);
		vs = pos + colon + 1;
		ve = eol;
		while (vs < ve && is_ows(b[vs]))
			vs++;
		while (ve > vs && is_ows(b[ve - 1]))
			ve--;
		v = (const char *)b + vs;
		if (lc_eq(line, colon, "content-disposition")) {
			if (have_cd++)
				return bad(msg, msglen, "part %d: two "
				    "Content-Disposition headers", pn);
			if (disposition(v, ve - vs, pn, p, msg, msglen) !=
			    MP_OK)
				return MP_BAD;
		} else if (lc_eq(line, colon, "content-type")) {
			if (have_ct++)
				return bad(msg, msglen, "part %d: two "
				    "Content-Type headers", pn);
			if (ve - vs >= sizeof(p->content_type))
				return bad(msg, msglen, "part %d: Content-Type "
				    "longer than %zu bytes", pn,
				    sizeof(p->content_type) - 1);
			for (k = vs; k < ve; k++)
				if (b[k] >= 0x7f)
					return bad(msg, msglen, "part %d: "
					    "Content-Type is not ASCII", pn);
			memcpy(p->content_type, v, ve - vs);
			p->content_type[ve - vs] = '\0';
		} else if (lc_eq(line, colon, "content-transfer-encoding")) {
			if (have_cte++)
				return bad(msg, msglen, "part %d: two "
				    "Content-Transfer-Encoding headers", pn);
			if (!lc_eq(v, ve - vs, "binary") &&
			    !lc_eq(v, ve - vs, "8bit") &&
			    !lc_eq(v, ve - vs, "7bit")) {
				str_shown(v, ve - vs, 16, shown,
				    sizeof(shown));
				return bad(msg, msglen, "part %d: "
				    "Content-Transfer-Encoding \"%s\" is not "
				    "supported", pn, shown);
			}
		}
		pos = nl + 1;
	}
	if (!have_cd)
		return bad(msg, msglen, "part %d: no Content-Disposition "
		    "header", pn);
	return MP_OK;
}

int
multipart_parse(const unsigned char *body, size_t len, const char *boundary,
    struct mp_form *form, char *msg, size_t msglen)
{
	struct mp_part *p;
	size_t bl, pos = 0, at = 0, data = 0;
	int kind;

	memset(form, 0, sizeof(*form));
	if (msg != NULL && msglen > 0)
		msg[0] = '\0';
	if (boundary == NULL ||
	    (bl = strnlen(boundary, MP_BOUNDARY_MAX + 1)) > MP_BOUNDARY_MAX ||
	    !boundary_ok(boundary, bl))
		return bad(msg, msglen, "invalid multipart boundary");
	if (body == NULL || len == 0)
		return bad(msg, msglen, "empty multipart body");

	/* The first delimiter may open the body; else it ends a preamble. */
	if ((kind = delim_at(body, len, 0, boundary, bl, &pos)) == D_NONE &&
	    (kind = find_delim(body, len, 0, boundary, bl, &at, &pos)) ==
	    D_NONE)
		return bad(msg, msglen, "boundary not found in the body");
	for (;;) {
		if (kind == D_BARELF)
			goto barelf;
		if (kind == D_CLOSE)
			break;
		if (form->nparts == MP_MAX_PARTS) {
			(void)bad(msg, msglen, "more than %d parts",
			    MP_MAX_PARTS);
			goto fail;
		}
		p = &form->parts[form->nparts];
		if (part_headers(body, len, pos, form->nparts + 1, p, &data,
		    msg, msglen) != MP_OK)
			goto fail;
		kind = find_delim(body, len, data, boundary, bl, &at, &pos);
		if (kind == D_NONE) {
			(void)bad(msg, msglen, "body is truncated: part %d has "
			    "no closing boundary", form->nparts + 1);
			goto fail;
		}
		p->data = body + data;
		p->len = at - data;
		form->nparts++;
	}
	return MP_OK;
barelf:
	(void)bad(msg, msglen, "boundary line must end with CRLF");
fail:
	memset(form, 0, sizeof(*form));
	return MP_BAD;
}

const struct mp_part *
multipart_get(const struct mp_form *form, const char *name)
{
	int i;

	if (form == NULL || name == NULL)
		return NULL;
	for (i = 0; i < form->nparts && i < MP_MAX_PARTS; i++)
		if (strcmp(form->parts[i].name, name) == 0)
			return &form->parts[i];
	return NULL;
}
