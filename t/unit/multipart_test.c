/* multipart_test.c - the multipart/form-data parser (image-search uploads). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"
#include "tap.h"

#define BD	"----WebKitFormBoundary7MA4YWxkTrZu0gW"

static unsigned char body[64 * 1024];
static size_t blen;
static struct mp_form form;
static char msg[128];

static void
reset(void)
{
	blen = 0;
}

static void
add(const void *p, size_t n)
{
	if (n > sizeof(body) - blen) {
		fprintf(stderr, "test body too large\n");
		exit(2);
	}
	memcpy(body + blen, p, n);
	blen += n;
}

static void
adds(const char *s)
{
	add(s, strlen(s));
}

/* A text field NAME=VALUE, after its delimiter line. */
static void
field(const char *name, const char *value)
{
	adds("--" BD "\r\nContent-Disposition: form-data; name=\"");
	adds(name);
	adds("\"\r\n\r\n");
	adds(value);
	adds("\r\n");
}

/* One part with the header block HDRS (lines, each ending CRLF). */
static void
part(const char *hdrs, const char *data)
{
	adds("--" BD "\r\n");
	adds(hdrs);
	adds("\r\n");
	adds(data);
	adds("\r\n");
}

static void
close_bd(void)
{
	adds("--" BD "--\r\n");
}

/* Parse BODY[0..blen) from an exact-size heap copy (ASan sees over-reads). */
static int
parse_bd(const char *bd)
{
	unsigned char *copy;
	int rc;

	msg[0] = '\0';
	if ((copy = malloc(blen > 0 ? blen : 1)) == NULL)
		exit(2);
	memcpy(copy, body, blen);
	rc = multipart_parse(copy, blen, bd, &form, msg, sizeof(msg));
	/* Point the parts back into body[] so callers may look at them. */
	if (rc == MP_OK) {
		int i;

		for (i = 0; i < form.nparts; i++)
			form.parts[i].data = body + (form.parts[i].data - copy);
	}
	free(copy);
	return rc;
}

static int
parse(void)
{
	return parse_bd(BD);
}

/* MP_BAD with a message that contains WANT. */
static int
bad(int rc, const char *want)
{
	if (rc != MP_BAD || msg[0] == '\0' || form.nparts != 0)
		return 0;
	if (want != NULL && strstr(msg, want) == NULL) {
		printf("# message: %s\n", msg);
		return 0;
	}
	return 1;
}

static int
data_is(const struct mp_part *p, const void *want, size_t n)
{
	return p != NULL && p->len == n && memcmp(p->data, want, n) == 0;
}

static void
boundary_tests(void)
{
	char out[MP_BOUNDARY_MAX + 1], ct[256], small[4];
	int rc;

	rc = multipart_boundary("multipart/form-data; boundary=" BD, out,
	    sizeof(out), msg, sizeof(msg));
	ok(rc == MP_OK && strcmp(out, BD) == 0, "browser Content-Type");
	rc = multipart_boundary("multipart/form-data; boundary=\"a b'()+_,-./:=?\"",
	    out, sizeof(out), msg, sizeof(msg));
	ok(rc == MP_OK && strcmp(out, "a b'()+_,-./:=?") == 0,
	    "quoted boundary with spaces and specials");
	rc = multipart_boundary("Multipart/Form-Data;BOUNDARY=abc", out,
	    sizeof(out), msg, sizeof(msg));
	ok(rc == MP_OK && strcmp(out, "abc") == 0,
	    "type and parameter names are case-insensitive");
	rc = multipart_boundary("  multipart/form-data ; charset=\"utf-8\"; "
	    "boundary=xyz ;", out, sizeof(out), msg, sizeof(msg));
	ok(rc == MP_OK && strcmp(out, "xyz") == 0,
	    "other parameters, spaces and a trailing ';'");
	rc = multipart_boundary("multipart/form-data; boundary=\"a\\\"b\"",
	    out, sizeof(out), msg, sizeof(msg));
	ok(rc == MP_BAD && msg[0] != '\0',
	    "a quote (even escaped) is not a boundary character");

	msg[0] = '\0';
	rc = multipart_boundary("multipart/form-data", out, sizeof(out), msg,
	    sizeof(msg));
	ok(rc == MP_BAD && strstr(msg, "no boundary") != NULL,
	    "no boundary parameter: %s", msg);
	rc = multipart_boundary("multipart/form-data; charset=utf-8", out,
	    sizeof(out), msg, sizeof(msg));
	ok(rc == MP_BAD && strstr(msg, "no boundary") != NULL,
	    "other parameters but no boundary");
	rc = multipart_boundary("application/json; boundary=abc", out,
	    sizeof(out), msg, sizeof(msg));
	ok(rc == MP_BAD && strstr(msg, "multipart/form-data") != NULL,
	    "another type: %s", msg);
	rc = multipart_boundary("multipart/mixed; boundary=abc", out,
	    sizeof(out), msg, sizeof(msg));
	ok(rc == MP_BAD, "multipart/mixed refused");
	rc = multipart_boundary("multipart/form-datax; boundary=abc", out,
	    sizeof(out), msg, sizeof(msg));
	ok(rc == MP_BAD, "a longer type is not form-data");
	ok(multipart_boundary(NULL, out, sizeof(out), msg, sizeof(msg)) ==
	    MP_BAD, "no Content-Type at all");

	memset(ct, 0, sizeof(ct));
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%.*s", 70,
	    "0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789");
	rc = multipart_boundary(ct, out, sizeof(out), msg, sizeof(msg));
	ok(rc == MP_OK && strlen(out) == 70, "a 70-character boundary");
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%.*s", 71,
	    "0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789");
	rc = multipart_boundary(ct, out, sizeof(out), msg, sizeof(msg));
	ok(rc == MP_BAD && strstr(msg, "1 to 70") != NULL,
	    "a 71-character boundary: %s", msg);
	ok(multipart_boundary("multipart/form-data; boundary=", out,
	    sizeof(out), msg, sizeof(msg)) == MP_BAD, "empty boundary");
	ok(multipart_boundary("multipart/form-data; boundary=\"\"", out,
	    sizeof(out), msg, sizeof(msg)) == MP_BAD, "empty quoted boundary");
	ok(multipart_boundary("multipart/form-data; boundary=\"ab \"", out,
	    sizeof(out), msg, sizeof(msg)) == MP_BAD,
	    "boundary ending in a space");
	ok(multipart_boundary("multipart/form-data; boundary=a!b", out,
	    sizeof(out), msg, sizeof(msg)) == MP_BAD &&
	    strstr(msg, "RFC 2046") != NULL, "'!' is not a boundary character");
	ok(multipart_boundary("multipart/form-data; boundary=a@b", out,
	    sizeof(out), msg, sizeof(msg)) == MP_BAD, "'@' neither");
	ok(multipart_boundary("multipart/form-data; boundary=\"ab\xc3\xa9\"",
	    out, sizeof(out), msg, sizeof(msg)) == MP_BAD,
	    "non-ASCII boundary");
	ok(multipart_boundary("multipart/form-data; boundary=a; boundary=b",
	    out, sizeof(out), msg, sizeof(msg)) == MP_BAD &&
	    strstr(msg, "two") != NULL, "boundary given twice");
	ok(multipart_boundary("multipart/form-data; boundary=\"abc", out,
	    sizeof(out), msg, sizeof(msg)) == MP_BAD, "unterminated quote");
	ok(multipart_boundary("multipart/form-data; boundary = abc", out,
	    sizeof(out), msg, sizeof(msg)) == MP_BAD, "spaces around '='");
	ok(multipart_boundary("multipart/form-data; boundary", out,
	    sizeof(out), msg, sizeof(msg)) == MP_BAD, "parameter without '='");
	ok(multipart_boundary("multipart/form-data; boundary=abcd", small,
	    sizeof(small), msg, sizeof(msg)) == MP_BAD && small[0] == '\0',
	    "an output buffer too small is refused, not overrun");
	ok(multipart_boundary("text/plain", out, sizeof(out), small,
	    sizeof(small)) == MP_BAD && strlen(small) == 3,
	    "a short message buffer is cut, not overrun");
	ok(multipart_boundary("text/plain", out, sizeof(out), NULL, 0) ==
	    MP_BAD, "no message buffer at all");
}

/* Bytes of a JPEG-ish upload that look like delimiters but are not. */
static const unsigned char jpeg[] = {
	0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00,
	'\r', '\n', '-', '-', '\r', '\n', '\r', '\n', '\n', '\r', 0x00,
	'-', '-', '-', '-', '\r', '\n', '-', '-',
	/* a prefix of the boundary */
	'-', '-', '-', '-', 'W', 'e', 'b', 'K', 'i', 't', '\r', '\n',
	/* the whole boundary, followed by a data byte */
	'\r', '\n', '-', '-', '-', '-', 'W', 'e', 'b', 'K', 'i', 't', 'F',
	'o', 'r', 'm', 'B', 'o', 'u', 'n', 'd', 'a', 'r', 'y', '7', 'M',
	'A', '4', 'Y', 'W', 'x', 'k', 'T', 'r', 'Z', 'u', '0', 'g', 'W',
	'x', '\r', '\n',
	/* the boundary without its leading "--", then CRLF */
	'\r', '\n', '-', '-', 'W', 'e', 'b', 'K', 'i', 't', 'F',
	'o', 'r', 'm', 'B', 'o', 'u', 'n', 'd', 'a', 'r', 'y', '7', 'M',
	'A', '4', 'Y', 'W', 'x', 'k', 'T', 'r', 'Z', 'u', '0', 'g', 'W',
	'\r', '\n', 0xff, 0xd9, '\r', '\n', '\r'
};

static void
browser_body(void)
{
	field("query", "red dress");
	field("limit", "12");
	adds("--" BD "\r\n"
	    "Content-Disposition: form-data; name=\"image\"; "
	    "filename=\"photo.jpg\"\r\n"
	    "Content-Type: image/jpeg\r\n\r\n");
	add(jpeg, sizeof(jpeg));
	adds("\r\n--" BD "--");
}

static void
normal_tests(void)
{
	const struct mp_part *p;
	unsigned char *copy;
	size_t full, n;
	int allbad;

	reset();
	browser_body();
	adds("\r\n");
	ok(parse() == MP_OK && form.nparts == 3, "browser body: 3 parts (%s)",
	    msg);
	p = multipart_get(&form, "image");
	ok(p != NULL && strcmp(p->filename, "photo.jpg") == 0 &&
	    strcmp(p->content_type, "image/jpeg") == 0, "image part headers");
	ok(data_is(p, jpeg, sizeof(jpeg)),
	    "binary data with CRLF, \"--\" and near-boundaries kept whole "
	    "(%zu bytes)", p ? p->len : 0);
	p = multipart_get(&form, "limit");
	ok(data_is(p, "12", 2) && p->filename[0] == '\0' &&
	    p->content_type[0] == '\0', "text field limit=12, no filename");
	ok(data_is(multipart_get(&form, "query"), "red dress", 9),
	    "text field query");
	ok(multipart_get(&form, "Limit") == NULL &&
	    multipart_get(&form, "nope") == NULL &&
	    multipart_get(&form, "") == NULL,
	    "names are exact; missing fields are NULL");
	ok(multipart_get(NULL, "x") == NULL, "multipart_get on NULL");

	/* Every cut of the body before its closing "--" is truncated. */
	reset();
	browser_body();
	full = blen;
	allbad = 1;
	for (n = 0; n < full; n++) {
		if ((copy = malloc(n > 0 ? n : 1)) == NULL)
			exit(2);
		memcpy(copy, body, n);
		if (multipart_parse(copy, n, BD, &form, msg, sizeof(msg)) !=
		    MP_BAD || form.nparts != 0 || msg[0] == '\0') {
			printf("# prefix %zu parsed\n", n);
			allbad = 0;
		}
		free(copy);
	}
	ok(allbad, "all %zu truncations of the body are MP_BAD", full);
	ok(parse() == MP_OK && form.nparts == 3,
	    "the body ending right after \"--BOUNDARY--\" is whole");

	reset();
	field("a", "1");
	adds("--" BD "--");
	ok(parse() == MP_OK && data_is(multipart_get(&form, "a"), "1", 1),
	    "no CRLF after the close delimiter");

	reset();
	adds("This is the preamble.\r\n--" BD "x\r\nstill preamble\r\n");
	field("a", "1");
	adds("--" BD "--\r\nepilogue\r\n--" BD "\r\nnot a part\r\n");
	ok(parse() == MP_OK && form.nparts == 1 &&
	    data_is(multipart_get(&form, "a"), "1", 1),
	    "preamble and epilogue ignored (%s)", msg);

	reset();
	adds("\r\n");
	field("a", "1");
	close_bd();
	ok(parse() == MP_OK && form.nparts == 1, "empty preamble line");

	reset();
	adds("--" BD " \t\r\nContent-Disposition: form-data; name=a\r\n\r\n"
	    "v\r\n--" BD "\t--\r\n");
	ok(parse() == MP_BAD, "\"--\" after padding is not a close delimiter");
	reset();
	adds("--" BD " \t\r\nContent-Disposition: form-data; name=a\r\n\r\n"
	    "v\r\n--" BD "  \r\n"
	    "Content-Disposition: form-data; name=b\r\n\r\nw\r\n--" BD "--");
	ok(parse() == MP_OK && form.nparts == 2 &&
	    data_is(&form.parts[1], "w", 1),
	    "spaces and tabs after a boundary (transport padding)");

	reset();
	field("tag", "first");
	field("tag", "second");
	close_bd();
	ok(parse() == MP_OK && form.nparts == 2 &&
	    data_is(multipart_get(&form, "tag"), "first", 5) &&
	    data_is(&form.parts[1], "second", 6),
	    "duplicate names allowed; get returns the first");

	reset();
	part("Content-Disposition: form-data; name=\"e\"\r\n", "");
	part("Content-Disposition: form-data; name=\"f\"; filename=\"\"\r\n"
	    "Content-Type: application/octet-stream\r\n", "");
	close_bd();
	ok(parse() == MP_OK && form.nparts == 2 && form.parts[0].len == 0 &&
	    form.parts[1].len == 0 && form.parts[1].filename[0] == '\0' &&
	    strcmp(form.parts[1].content_type, "application/octet-stream") ==
	    0, "empty parts (an empty file input)");

	reset();
	close_bd();
	ok(parse() == MP_OK && form.nparts == 0,
	    "only a close delimiter: a form with no parts");

	reset();
	part("content-disposition:form-data;name=limit\r\n"
	    "CONTENT-TYPE:   text/plain; charset=UTF-8  \r\n"
	    "X-Whatever: ignored\r\n"
	    "Content-Transfer-Encoding: BINARY\r\n", "5");
	close_bd();
	ok(parse() == MP_OK && (p = multipart_get(&form, "limit")) != NULL &&
	    strcmp(p->content_type, "text/plain; charset=UTF-8") == 0,
	    "header names in any case, token name, values trimmed (%s)", msg);

	reset();
	part("Content-Disposition: form-data; name=\"a\\\"b\\\\c\"; "
	    "filename=\"C:\\photos\\..\\x.jpg\"\r\n", "1");
	close_bd();
	ok(parse() == MP_OK && strcmp(form.parts[0].name, "a\"b\\c") == 0 &&
	    strcmp(form.parts[0].filename, "C:\\photos\\..\\x.jpg") == 0,
	    "\\\" and \\\\ unescaped, other backslashes and paths kept");

	reset();
	part("Content-Disposition: form-data; name=\"image\"; "
	    "filename=\"\xd1\x84\xd0\xbe\xd1\x82\xd0\xbe %22a%22.jpg\"; "
	    "filename*=UTF-8''x.jpg\r\n", "1");
	close_bd();
	ok(parse() == MP_OK &&
	    strcmp(form.parts[0].filename,
	    "\xd1\x84\xd0\xbe\xd1\x82\xd0\xbe %22a%22.jpg") == 0,
	    "UTF-8 filename kept, %%22 not decoded, filename* ignored");

	reset();
	adds("--abc\r\nContent-Disposition: form-data; name=a\r\n\r\n"
	    "x\r\n--abcd\r\n--abc-\r\n--abc \r\n--abc");
	ok(parse_bd("abc") == MP_BAD && strstr(msg, "truncated") != NULL,
	    "a longer boundary and \"--abc-\" are data, not delimiters");
	reset();
	adds("--abc\r\nContent-Disposition: form-data; name=a\r\n\r\n"
	    "x\r\n--abcd\r\n--abc-\r\n--abc--");
	ok(parse_bd("abc") == MP_OK &&
	    data_is(&form.parts[0], "x\r\n--abcd\r\n--abc-", 17),
	    "... and end up in the part's data");
}

static void
bad_tests(void)
{
	char hdr[10000], name[80];
	int i;

	reset();
	field("a", "1");
	ok(bad(parse(), "truncated"), "no closing delimiter: %s", msg);
	reset();
	field("a", "1");
	adds("--" BD);
	ok(bad(parse(), "truncated"), "closing delimiter without \"--\"");
	reset();
	adds("--" BD "\r\nContent-Disposition: form-data; name=a\r\n\r\n123");
	ok(bad(parse(), "truncated"), "body ends inside part data");
	reset();
	adds("--" BD "\r\nContent-Disposition: form-data; name=a\r\n");
	ok(bad(parse(), "truncated"), "body ends inside headers: %s", msg);

	reset();
	field("a", "1");
	close_bd();
	ok(bad(parse_bd("other"), "not found"), "wrong boundary: %s", msg);
	ok(bad(parse_bd(BD "x"), "not found"), "a longer boundary");
	ok(bad(parse_bd(""), "boundary"), "empty boundary argument");
	ok(bad(parse_bd("0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890x"), "boundary"),
	    "71-character boundary argument");
	ok(bad(parse_bd("a\"b"), "boundary"), "bad boundary argument");
	ok(multipart_parse(body, blen, NULL, &form, msg, sizeof(msg)) ==
	    MP_BAD, "NULL boundary");
	ok(multipart_parse(NULL, 0, BD, &form, msg, sizeof(msg)) == MP_BAD,
	    "empty body");
	reset();
	adds("no boundary here at all");
	ok(bad(parse(), "not found"), "body without any boundary");

	reset();
	adds("--" BD "\nContent-Disposition: form-data; name=a\n\nv\n--" BD
	    "--\n");
	ok(bad(parse(), "CRLF"), "bare LF line endings: %s", msg);
	reset();
	field("a", "1");
	adds("--" BD "\nContent-Disposition: form-data; name=b\r\n\r\nv\r\n");
	close_bd();
	ok(bad(parse(), "CRLF"), "a later boundary line ending in LF");
	reset();
	part("Content-Disposition: form-data; name=a\n", "v");
	close_bd();
	ok(bad(parse(), "CRLF"), "header line ending in LF: %s", msg);

	reset();
	part("Content-Disposition: form-data; filename=\"x.jpg\"\r\n", "v");
	close_bd();
	ok(bad(parse(), "no name"), "missing name: %s", msg);
	reset();
	part("Content-Type: text/plain\r\n", "v");
	close_bd();
	ok(bad(parse(), "no Content-Disposition"),
	    "no Content-Disposition: %s", msg);
	reset();
	adds("--" BD "\r\n\r\nv\r\n");
	close_bd();
	ok(bad(parse(), "no Content-Disposition"), "part without headers");
	reset();
	part("Content-Disposition: attachment; name=a\r\n", "v");
	close_bd();
	ok(bad(parse(), "form-data"), "attachment, not form-data: %s", msg);
	reset();
	part("Content-Disposition: form-data; name=\"\"\r\n", "v");
	close_bd();
	ok(bad(parse(), "empty"), "empty name: %s", msg);
	reset();
	part("Content-Disposition: form-data; name=a; name=b\r\n", "v");
	close_bd();
	ok(bad(parse(), "twice"), "name given twice");
	reset();
	part("Content-Disposition: form-data; name=a; filename=x; "
	    "filename=y\r\n", "v");
	close_bd();
	ok(bad(parse(), "twice"), "filename given twice");
	reset();
	part("Content-Disposition: form-data; name=a\r\n"
	    "Content-Disposition: form-data; name=b\r\n", "v");
	close_bd();
	ok(bad(parse(), "two"), "two Content-Disposition headers");
	reset();
	part("Content-Disposition: form-data; name=\"a\r\n", "v");
	close_bd();
	ok(bad(parse(), "malformed"), "unterminated quoted name: %s", msg);
	reset();
	part("Content-Disposition: form-data; name=\"a\\\"\r\n", "v");
	close_bd();
	ok(bad(parse(), "malformed"), "name ending in an escaped quote");
	reset();
	part("Content-Disposition: form-data; name=a b\r\n", "v");
	close_bd();
	ok(bad(parse(), "malformed"), "unquoted name with a space");
	reset();
	part("Content-Disposition: form-data name=a\r\n", "v");
	close_bd();
	ok(bad(parse(), "malformed"), "parameter without ';'");
	reset();
	part("Content-Disposition: form-data; name=\xc3\xa9\r\n", "v");
	close_bd();
	ok(bad(parse(), "malformed"), "unquoted non-ASCII name");

	reset();
	part("Content-Disposition form-data; name=a\r\n", "v");
	close_bd();
	ok(bad(parse(), "colon"), "header without a colon: %s", msg);
	reset();
	part("Content-Disposition : form-data; name=a\r\n", "v");
	close_bd();
	ok(bad(parse(), "header name"), "space before the colon: %s", msg);
	reset();
	part(": x\r\nContent-Disposition: form-data; name=a\r\n", "v");
	close_bd();
	ok(bad(parse(), "header name"), "empty header name");
	reset();
	part("Content-Disposition: form-data; name=a\r\nX-A: b\r\n\tc\r\n",
	    "v");
	close_bd();
	ok(bad(parse(), "folded"), "folded header: %s", msg);
	reset();
	part("Content-Disposition: form-data; name=a\r\nX-A: b\x1b" "c\r\n",
	    "v");
	close_bd();
	ok(bad(parse(), "control"), "control character in a header: %s", msg);
	reset();
	add("--" BD "\r\nX-A: b\0c\r\n", strlen(BD) + 14);
	adds("Content-Disposition: form-data; name=a\r\n\r\nv\r\n");
	close_bd();
	ok(bad(parse(), "control"), "NUL in a header");

	reset();
	part("Content-Disposition: form-data; name=\"image\"; "
	    "filename=\"\xff.jpg\"\r\n", "v");
	close_bd();
	ok(bad(parse(), "UTF-8"), "invalid UTF-8 filename: %s", msg);
	reset();
	part("Content-Disposition: form-data; name=\"image\"; "
	    "filename=\"a\xc0\xafx.jpg\"\r\n", "v");
	close_bd();
	ok(bad(parse(), "UTF-8"), "overlong UTF-8 in filename");
	reset();
	part("Content-Disposition: form-data; name=\"\xed\xa0\x80\"\r\n", "v");
	close_bd();
	ok(bad(parse(), "UTF-8"), "surrogate in name");
	reset();
	part("Content-Disposition: form-data; name=\"a\tb\"\r\n", "v");
	close_bd();
	ok(bad(parse(), "UTF-8"), "tab in name: %s", msg);
	reset();
	part("Content-Disposition: form-data; name=a; "
	    "filename=\"x\xc2\x85y\"\r\n", "v");
	close_bd();
	ok(bad(parse(), "UTF-8"), "C1 control (NEL) in filename");

	memset(name, 'n', sizeof(name));
	reset();
	adds("--" BD "\r\nContent-Disposition: form-data; name=");
	add(name, 63);
	adds("\r\n\r\nv\r\n");
	close_bd();
	ok(parse() == MP_OK && strlen(form.parts[0].name) == 63,
	    "63-byte name");
	reset();
	adds("--" BD "\r\nContent-Disposition: form-data; name=");
	add(name, 64);
	adds("\r\n\r\nv\r\n");
	close_bd();
	ok(bad(parse(), "longer than 63"), "64-byte name: %s", msg);
	memset(hdr, 'f', sizeof(hdr));
	reset();
	adds("--" BD "\r\nContent-Disposition: form-data; name=a; filename=\"");
	add(hdr, 255);
	adds("\"\r\n\r\nv\r\n");
	close_bd();
	ok(parse() == MP_OK && strlen(form.parts[0].filename) == 255,
	    "255-byte filename");
	reset();
	adds("--" BD "\r\nContent-Disposition: form-data; name=a; filename=\"");
	add(hdr, 256);
	adds("\"\r\n\r\nv\r\n");
	close_bd();
	ok(bad(parse(), "longer than 255"), "256-byte filename: %s", msg);
	reset();
	adds("--" BD "\r\nContent-Disposition: form-data; name=a\r\n"
	    "Content-Type: image/");
	add(hdr, 128 - 6);
	adds("\r\n\r\nv\r\n");
	close_bd();
	ok(bad(parse(), "Content-Type"), "128-byte part Content-Type: %s",
	    msg);
	reset();
	part("Content-Disposition: form-data; name=a\r\n"
	    "Content-Type: image/\xc3\xa9\r\n", "v");
	close_bd();
	ok(bad(parse(), "ASCII"), "non-ASCII part Content-Type");
	reset();
	part("Content-Disposition: form-data; name=a\r\n"
	    "Content-Type: a\r\nContent-Type: b\r\n", "v");
	close_bd();
	ok(bad(parse(), "two"), "two Content-Type headers");
	reset();
	part("Content-Disposition: form-data; name=a\r\n"
	    "Content-Transfer-Encoding: base64\r\n", "dg==");
	close_bd();
	ok(bad(parse(), "\"base64\" is not supported"),
	    "base64 transfer encoding: %s", msg);

	/* Header limits. */
	reset();
	adds("--" BD "\r\nContent-Disposition: form-data; name=a\r\nX-Pad: ");
	add(hdr, 8000);
	adds("\r\n\r\nv\r\n");
	close_bd();
	ok(parse() == MP_OK, "8 KB of headers, just under the limit (%s)",
	    msg);
	reset();
	adds("--" BD "\r\nContent-Disposition: form-data; name=a\r\nX-Pad: ");
	add(hdr, 8192);
	adds("\r\n\r\nv\r\n");
	close_bd();
	ok(bad(parse(), "longer than 8192"), "oversized headers: %s", msg);
	reset();
	adds("--" BD "\r\nContent-Disposition: form-data; name=a\r\n");
	for (i = 0; i < 2000; i++)
		adds("X: y\r\n");
	adds("\r\nv\r\n");
	close_bd();
	ok(bad(parse(), "headers"), "many short header lines: %s", msg);
	reset();
	adds("--" BD "\r\nContent-Disposition: form-data; name=a\r\n");
	for (i = 0; i < MP_MAX_HEADERS - 1; i++)
		adds("X: y\r\n");
	adds("\r\nv\r\n");
	close_bd();
	ok(parse() == MP_OK, "%d headers", MP_MAX_HEADERS);
	reset();
	adds("--" BD "\r\nContent-Disposition: form-data; name=a\r\n");
	for (i = 0; i < MP_MAX_HEADERS; i++)
		adds("X: y\r\n");
	adds("\r\nv\r\n");
	close_bd();
	ok(bad(parse(), "more than 16 headers"), "%d headers: %s",
	    MP_MAX_HEADERS + 1, msg);

	/* Part limit. */
	reset();
	for (i = 0; i < MP_MAX_PARTS; i++)
		field("f", "v");
	close_bd();
	ok(parse() == MP_OK && form.nparts == MP_MAX_PARTS, "%d parts",
	    MP_MAX_PARTS);
	reset();
	for (i = 0; i < MP_MAX_PARTS + 1; i++)
		field("f", "v");
	close_bd();
	ok(bad(parse(), "more than 16 parts"), "%d parts: %s",
	    MP_MAX_PARTS + 1, msg);
	reset();
	field("a", "1");
	field("b", "2");
	adds("--" BD "\r\nContent-Type: x\r\n\r\nv\r\n");
	close_bd();
	ok(bad(parse(), "part 3"), "messages name the part: %s", msg);
}

int
main(void)
{
	boundary_tests();
	normal_tests();
	bad_tests();
	return done_testing();
}
