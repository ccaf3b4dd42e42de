/*
 * clipd_invocation.c - the invocation body parser of fashion-clipd (every
 * scoring format, limits, malformed JSON) and its base64 decoder.
 */
#include <stdlib.h>
#include <string.h>

#include "clipd/base64.h"
#include "clipd/invocation.h"
#include "tap.h"

#define MAX_ROWS	4
#define MAX_TEXT	16
#define MAX_IMAGE	64

static char msg[256];
static int status;

static int
parse_n(const char *body, size_t len, struct invocation *inv)
{
	status = 0;
	return invocation_parse(body, len, MAX_ROWS, MAX_TEXT, MAX_IMAGE, inv,
	    &status, msg, sizeof(msg));
}

static int
parse(const char *body, struct invocation *inv)
{
	return parse_n(body, strlen(body), inv);
}

/* 1 when BODY is refused with 400, nothing held, and MSG contains WANT. */
static int
refused_n(const char *body, size_t len, const char *want)
{
	struct invocation inv;
	int rc;

	rc = parse_n(body, len, &inv);
	if (rc == INV_ERROR && status == 400 && inv.rows == NULL &&
	    inv.n == 0 && strstr(msg, want) != NULL)
		return 1;
	printf("# rc %d, status %d, message \"%s\", wanted \"%s\"\n", rc,
	    status, msg, want);
	invocation_free(&inv);
	return 0;
}

static int
refused(const char *body, const char *want)
{
	return refused_n(body, strlen(body), want);
}

static int
is_text(const struct invocation *inv, size_t i, const char *want)
{
	const struct inv_row *r;

	if (i >= inv->n)
		return 0;
	r = &inv->rows[i];
	return r->kind == INV_TEXT && r->image == NULL &&
	    r->text_len == strlen(want) && strcmp(r->text, want) == 0;
}

static int
is_image(const struct invocation *inv, size_t i, const char *want)
{
	const struct inv_row *r;

	if (i >= inv->n)
		return 0;
	r = &inv->rows[i];
	return r->kind == INV_IMAGE && r->text == NULL &&
	    r->image_len == strlen(want) &&
	    memcmp(r->image, want, r->image_len) == 0;
}

/* 1 when IN decodes to WANT (WANTLEN bytes). */
static int
b64_is(const char *in, const char *want, size_t wantlen)
{
	unsigned char *out;
	size_t n;
	int ok;

	if (base64_decode(in, strlen(in), &out, &n) != BASE64_OK)
		return 0;
	ok = out != NULL && n == wantlen && memcmp(out, want, n) == 0;
	free(out);
	return ok;
}

static int
b64_bad(const char *in)
{
	unsigned char *out = (unsigned char *)"x";
	size_t n = 1;

	return base64_decode(in, strlen(in), &out, &n) == BASE64_ERROR &&
	    out == NULL && n == 0;
}

static void
test_base64(void)
{
	ok(b64_is("aGVsbG8=", "hello", 5), "base64 padded");
	ok(b64_is("aGVsbG8", "hello", 5), "base64 without padding");
	ok(b64_is("aGVsbA==", "hell", 4), "base64 two pad");
	ok(b64_is("aGVsbA", "hell", 4), "base64 two pad omitted");
	ok(b64_is("aGVs", "hel", 3), "base64 whole quantum");
	ok(b64_is("", "", 0), "base64 empty");
	ok(b64_is(" aG\r\nVs\tbG8 =\n", "hello", 5),
	    "base64 whitespace ignored");
	ok(b64_is("+/8=", "\xfb\xff", 2), "base64 standard alphabet");
	ok(b64_is("-_8", "\xfb\xff", 2), "base64 URL-safe alphabet");
	ok(b64_bad("-/8="), "base64 mixed alphabets rejected");
	ok(b64_bad("aGV*bG8="), "base64 bad character rejected");
	ok(b64_bad("aGVsb"), "base64 impossible length rejected");
	ok(b64_bad("a"), "base64 single symbol rejected");
	ok(b64_bad("aGVsbG8=="), "base64 too much padding rejected");
	ok(b64_bad("aGVs="), "base64 padding after a whole quantum rejected");
	ok(b64_bad("aGVs=bG8"), "base64 data after padding rejected");
	ok(b64_bad("="), "base64 lone padding rejected");
	{
		unsigned char *out;
		size_t n;

		ok(base64_decode("aGVs\0bG8=", 9, &out, &n) == BASE64_ERROR,
		    "base64 NUL byte inside rejected");
	}
}

int
main(void)
{
	struct invocation inv;
	char body[1024], big[200];
	size_t i;

	test_base64();

	/* dataframe_records */
	ok(parse("{\"dataframe_records\": [{\"text\": \"red dress\"},"
	    " {\"image\": \"aGVsbG8=\"}]}", &inv) == INV_OK && inv.n == 2 &&
	    is_text(&inv, 0, "red dress") && is_image(&inv, 1, "hello"),
	    "dataframe_records: text and image rows");
	invocation_free(&inv);
	ok(inv.rows == NULL && inv.n == 0, "invocation_free empties");
	invocation_free(&inv);
	ok(1, "invocation_free twice is safe");
	ok(parse("{\"dataframe_records\": [{\"text\": \"a\", "
	    "\"image\": null}]}", &inv) == INV_OK && is_text(&inv, 0, "a"),
	    "null image is absent");
	invocation_free(&inv);
	ok(refused("{\"dataframe_records\": {\"text\": \"a\"}}",
	    "dataframe_records must be a list"),
	    "dataframe_records not a list");
	ok(refused("{\"dataframe_records\": [\"a\"]}",
	    "row 0: expected an object"), "dataframe_records of strings");

	/* dataframe_split */
	ok(parse("{\"dataframe_split\": {\"columns\": [\"text\"], \"data\": "
	    "[[\"red dress\"], [\"blue shirt\"]]}}", &inv) == INV_OK &&
	    inv.n == 2 && is_text(&inv, 0, "red dress") &&
	    is_text(&inv, 1, "blue shirt"), "dataframe_split: text column");
	invocation_free(&inv);
	ok(parse("{\"dataframe_split\": {\"index\": [7, 9], \"columns\": "
	    "[\"text\", \"image\"], \"data\": [[\"red\", null], "
	    "[null, \"aGVsbG8\"]]}}", &inv) == INV_OK && inv.n == 2 &&
	    is_text(&inv, 0, "red") && is_image(&inv, 1, "hello"),
	    "dataframe_split: both columns, nulls, index");
	invocation_free(&inv);
	ok(parse("{\"dataframe_split\": {\"columns\": [\"image\", \"text\"], "
	    "\"data\": [[\"aGVsbG8\", null]]}}", &inv) == INV_OK &&
	    is_image(&inv, 0, "hello"), "dataframe_split: column order");
	invocation_free(&inv);
	ok(refused("{\"dataframe_split\": {\"columns\": [\"text\"], \"data\": "
	    "[[\"a\"], [\"b\", \"c\"]]}}", "row 1: 2 values for 1 columns"),
	    "dataframe_split: row wider than columns");
	ok(refused("{\"dataframe_split\": {\"columns\": [\"text\", \"image\"], "
	    "\"data\": [[\"a\"]]}}", "row 0: 1 values for 2 columns"),
	    "dataframe_split: row narrower than columns");
	ok(refused("{\"dataframe_split\": {\"columns\": [\"text\"], \"data\": "
	    "[\"a\"]}}", "row 0: expected a list"),
	    "dataframe_split: row not a list");
	ok(refused("{\"dataframe_split\": {\"columns\": [\"text\", \"color\"],"
	    " \"data\": [[\"a\", \"red\"]]}}", "unknown column \"color\""),
	    "dataframe_split: unknown column named");
	ok(refused("{\"dataframe_split\": {\"columns\": [\"text\", \"text\"],"
	    " \"data\": [[\"a\", \"b\"]]}}", "column text given twice"),
	    "dataframe_split: duplicate column");
	ok(refused("{\"dataframe_split\": {\"columns\": [], \"data\": []}}",
	    "columns is empty"), "dataframe_split: no columns");
	ok(refused("{\"dataframe_split\": {\"data\": [[\"a\"]]}}",
	    "columns must be a list"), "dataframe_split: columns missing");
	ok(refused("{\"dataframe_split\": {\"columns\": [\"text\"]}}",
	    "data must be a list"), "dataframe_split: data missing");
	ok(refused("{\"dataframe_split\": {\"columns\": [\"text\"], \"data\": "
	    "[[\"a\"]], \"index\": [0, 1]}}", "index has 2 entries for 1 rows"),
	    "dataframe_split: index length");
	ok(refused("{\"dataframe_split\": {\"columns\": [\"text\"], \"data\": "
	    "[[\"a\"]], \"dtypes\": {}}}", "unexpected key \"dtypes\""),
	    "dataframe_split: unexpected key");
	ok(refused("{\"dataframe_split\": [[\"a\"]]}", "must be an object"),
	    "dataframe_split: not an object");

	/* inputs / instances */
	ok(parse("{\"inputs\": [{\"text\": \"red dress\"}, {\"image\": "
	    "\"aGVsbG8=\"}]}", &inv) == INV_OK && inv.n == 2 &&
	    is_text(&inv, 0, "red dress") && is_image(&inv, 1, "hello"),
	    "inputs: list of records");
	invocation_free(&inv);
	ok(parse("{\"instances\": {\"text\": [\"a\", \"b\", \"c\"]}}", &inv) ==
	    INV_OK && inv.n == 3 && is_text(&inv, 2, "c"),
	    "instances: text column");
	invocation_free(&inv);
	ok(parse("{\"inputs\": {\"image\": [\"aGVsbG8=\"]}}", &inv) ==
	    INV_OK && inv.n == 1 && is_image(&inv, 0, "hello"),
	    "inputs: image column");
	invocation_free(&inv);
	ok(parse("{\"inputs\": {\"text\": [\"a\", null], \"image\": [null, "
	    "\"aGVsbG8=\"]}}", &inv) == INV_OK && inv.n == 2 &&
	    is_text(&inv, 0, "a") && is_image(&inv, 1, "hello"),
	    "inputs: both columns with nulls");
	invocation_free(&inv);
	ok(parse("{\"inputs\": [\"red dress\", \"blue shirt\"]}", &inv) ==
	    INV_OK && inv.n == 2 && is_text(&inv, 1, "blue shirt"),
	    "inputs: list of strings");
	invocation_free(&inv);
	ok(parse("{\"instances\": [\"red dress\"], \"params\": {\"x\": 1}}",
	    &inv) == INV_OK && inv.n == 1, "instances: params ignored");
	invocation_free(&inv);
	ok(refused("{\"inputs\": {\"text\": [\"a\"], \"image\": [null, "
	    "\"aGVsbG8=\"]}}", "different lengths (1 and 2)"),
	    "inputs: columns of different lengths");
	ok(refused("{\"inputs\": {\"text\": \"a\"}}", "column text must be a "
	    "list"), "inputs: column not a list");
	ok(refused("{\"inputs\": {\"text\": [\"a\"], \"colour\": [\"red\"]}}",
	    "inputs: unknown column \"colour\""), "inputs: unknown column");
	ok(refused("{\"inputs\": {}}", "no text or image column"),
	    "inputs: no columns");
	ok(refused("{\"inputs\": [\"a\", {\"text\": \"b\"}]}",
	    "row 1: expected a string"), "inputs: strings and records mixed");
	ok(refused("{\"inputs\": [{\"text\": \"b\"}, \"a\"]}",
	    "row 1: expected an object"), "inputs: records and strings mixed");
	ok(refused("{\"inputs\": [1, 2]}", "row 0: expected an object"),
	    "inputs: list of numbers");
	ok(refused("{\"inputs\": \"red dress\"}", "inputs must be a list"),
	    "inputs: a lone string");

	/* batch size */
	ok(refused("{\"inputs\": []}", "empty batch"), "empty list");
	ok(refused("{\"dataframe_records\": []}", "empty batch"),
	    "empty records");
	ok(refused("{\"dataframe_split\": {\"columns\": [\"text\"], "
	    "\"data\": []}}", "empty batch"), "empty split");
	ok(refused("{\"inputs\": {\"text\": []}}", "empty batch"),
	    "empty column");
	ok(parse("{\"inputs\": [\"a\", \"b\", \"c\", \"d\"]}", &inv) ==
	    INV_OK && inv.n == MAX_ROWS, "batch at the limit");
	invocation_free(&inv);
	ok(refused("{\"inputs\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}",
	    "batch of 5 rows exceeds the limit of 4"), "batch over the limit");
	ok(refused("{\"dataframe_split\": {\"columns\": [\"text\"], \"data\": "
	    "[[\"a\"], [\"b\"], [\"c\"], [\"d\"], [1]]}}", "batch of 5 rows"),
	    "split batch over the limit, before looking at rows");

	/* rows */
	ok(refused("{\"dataframe_records\": [{\"text\": \"a\"}, {\"text\": "
	    "\"b\", \"image\": \"aGVsbG8=\"}]}",
	    "row 1: a row has either text or image, not both"),
	    "text and image in one row");
	ok(refused("{\"dataframe_records\": [{\"text\": null}]}",
	    "row 0: a row needs text or image"), "neither text nor image");
	ok(refused("{\"dataframe_records\": [{}]}",
	    "row 0: a row needs text or image"), "empty record");
	ok(refused("{\"dataframe_records\": [{\"text\": \"a\", \"color\": "
	    "\"red\"}]}", "row 0: unknown column \"color\""),
	    "unknown column in a record");
	ok(refused("{\"dataframe_records\": [{\"te\\\"xt\\u0001\": \"a\"}]}",
	    "unknown column \"te?xt?\""), "unknown column name made safe");
	memset(big, 'k', sizeof(big));
	snprintf(body, sizeof(body), "{\"inputs\": [{\"%.*s\": \"a\"}]}",
	    (int)sizeof(big), big);
	ok(refused(body, "kkk...\""), "long unknown column name cut");
	ok(refused("{\"dataframe_records\": [{\"text\": 42}]}",
	    "row 0: text must be a string"), "text not a string");
	ok(refused("{\"dataframe_records\": [{\"image\": [\"aGVs\"]}]}",
	    "row 0: image must be a base64 string"), "image not a string");

	/* text */
	ok(parse("{\"inputs\": [\" \\t red dress \\n\"]}", &inv) == INV_OK &&
	    is_text(&inv, 0, "red dress"), "text trimmed");
	invocation_free(&inv);
	ok(parse("{\"inputs\": [\"r\\u00e9sum\\u00e9 \\u2603\"]}", &inv) ==
	    INV_OK && is_text(&inv, 0, "r\xc3\xa9sum\xc3\xa9 \xe2\x98\x83"),
	    "text UTF-8 from escapes");
	invocation_free(&inv);
	ok(refused("{\"inputs\": [\"\"]}", "row 0: text is empty"),
	    "empty text");
	ok(refused("{\"inputs\": [\"a\", \" \\t\\r\\n \"]}",
	    "row 1: text is empty"), "blank text");
	ok(parse("{\"inputs\": [\"0123456789abcdef\"]}", &inv) == INV_OK &&
	    inv.rows[0].text_len == MAX_TEXT, "text at the limit");
	invocation_free(&inv);
	ok(refused("{\"inputs\": [\"0123456789abcdefg\"]}",
	    "row 0: text longer than 16 bytes"), "overlong text");
	ok(refused("{\"inputs\": [\"a\\u0000b\"]}", "row 0: text contains a "
	    "NUL"), "escaped NUL in text");
	ok(refused("{\"inputs\": [\"\xff\xfe\"]}", "not valid JSON"),
	    "invalid UTF-8 in the body");

	/* image */
	ok(refused("{\"inputs\": [{\"text\": \"a\"}, {\"text\": \"b\"}, "
	    "{\"image\": \"aGV*bG8=\"}]}", "row 2: image is not valid base64"),
	    "bad base64 character");
	ok(refused("{\"inputs\": [{\"image\": \"aGVsb\"}]}",
	    "row 0: image is not valid base64"), "impossible base64 length");
	ok(refused("{\"inputs\": [{\"image\": \"aGVsbG8===\"}]}",
	    "row 0: image is not valid base64"), "bad base64 padding");
	ok(refused("{\"inputs\": [{\"image\": \"\"}]}",
	    "row 0: image is empty"),
	    "empty image");
	ok(refused("{\"inputs\": [{\"image\": \"  \\n \"}]}",
	    "row 0: image is empty"), "blank image");
	ok(parse("{\"inputs\": [{\"image\": \"data:image/jpeg;base64,"
	    "aGVsbG8=\"}, {\"image\": \"DATA:image/svg+xml;BASE64,aGVsbG8\"}]}",
	    &inv) == INV_OK && is_image(&inv, 0, "hello") &&
	    is_image(&inv, 1, "hello"), "data: prefix");
	invocation_free(&inv);
	ok(refused("{\"inputs\": [{\"image\": \"data:text/plain;base64,"
	    "aGVsbG8=\"}]}", "row 0: image data URL"), "data: not an image");
	ok(refused("{\"inputs\": [{\"image\": \"data:image/png,aGVsbG8=\"}]}",
	    "row 0: image data URL"), "data: not base64");
	ok(refused("{\"inputs\": [{\"image\": \"data:image/;base64,aGVs\"}]}",
	    "row 0: image data URL"), "data: without subtype");
	ok(parse("{\"inputs\": [{\"image\": \"-_8\"}, {\"image\": \"+/8=\"}]}",
	    &inv) == INV_OK && is_image(&inv, 0, "\xfb\xff") &&
	    is_image(&inv, 1, "\xfb\xff"), "URL-safe and standard alphabets");
	invocation_free(&inv);
	ok(parse("{\"inputs\": [{\"image\": \"aGVs\\nbG8=\\n\"}]}", &inv) ==
	    INV_OK && is_image(&inv, 0, "hello"), "base64 with newlines");
	invocation_free(&inv);
	/* 86 symbols decode to 64 bytes (the limit), 87 to 65. */
	memset(big, 'A', sizeof(big));
	snprintf(body, sizeof(body), "{\"inputs\": [{\"image\": \"%.*s\"}]}",
	    86, big);
	ok(parse(body, &inv) == INV_OK && inv.rows[0].image_len == MAX_IMAGE,
	    "image at the limit");
	invocation_free(&inv);
	snprintf(body, sizeof(body), "{\"inputs\": [{\"image\": \"%.*s\"}]}",
	    87, big);
	ok(refused(body, "row 0: image of 65 bytes exceeds the limit of 64"),
	    "image over the limit");

	/* the body */
	ok(refused("{\"inputs\": [\"a\"], \"instances\": [\"b\"]}",
	    "both instances and inputs"), "two format keys");
	ok(refused("{\"dataframe_records\": [{\"text\": \"a\"}], "
	    "\"dataframe_split\": {}}", "send exactly one format"),
	    "two dataframe keys");
	ok(refused("{\"params\": {}}", "body needs one of"), "no format key");
	ok(refused("[\"a\"]", "body must be a JSON object"), "array body");
	ok(refused("\"a\"", "body must be a JSON object"), "string body");
	ok(refused("42", "body must be a JSON object"), "number body");
	ok(refused("null", "body must be a JSON object"), "null body");
	ok(refused("", "not valid JSON: it is empty"), "empty body");
	ok(refused("  \n", "not valid JSON"), "blank body");
	ok(refused("{\"inputs\": [\"a\"]", "not valid JSON: it ends too early"),
	    "truncated JSON");
	ok(refused("{\"inputs\": [\"a\",]}", "not valid JSON"),
	    "trailing comma");
	ok(refused("{'inputs': ['a']}", "not valid JSON"), "single quotes");
	ok(refused("{\"inputs\": [\"a\"]} x", "not valid JSON"),
	    "data after the object");
	ok(refused("{\"inputs\": [\"a\"]}{}", "not valid JSON"),
	    "two objects");
	ok(refused_n("{\"inputs\": [\"a\"]}\0junk", 22, "NUL byte"),
	    "NUL byte after the object");
	ok(refused_n("{\"inputs\": [\"a\0b\"]}", 19, "NUL byte"),
	    "NUL byte in a string");
	ok(parse_n("{\"inputs\": [\"a\"]}  \r\n", 21, &inv) == INV_OK,
	    "trailing whitespace");
	invocation_free(&inv);
	ok(parse_n("{\"inputs\": [\"abc\"]}xyz", 19, &inv) == INV_OK &&
	    is_text(&inv, 0, "abc"), "LEN bounds the body");
	invocation_free(&inv);
	ok(parse("{\"params\": {\"n\": 1e999999, "
	    "\"m\": -123456789012345678901234567890}, \"inputs\": [\"a\"]}",
	    &inv) == INV_OK, "huge numbers tolerated");
	invocation_free(&inv);
	for (i = 0; i < 300; i++)
		body[i] = '[';
	snprintf(body + 300, sizeof(body) - 300, "]");
	ok(refused(body, "not valid JSON"), "deep array");
	memcpy(body, "{\"params\":", 10);
	for (i = 0; i < 100; i++)
		memcpy(body + 10 + i * 5, "{\"a\":", 5);
	snprintf(body + 10 + i * 5, sizeof(body) - 10 - i * 5, "1");
	ok(refused(body, "nested deeper than"), "deep objects");

	/* the message buffer */
	{
		char tiny[8];
		int st = 0;

		memset(tiny, 'x', sizeof(tiny));
		ok(invocation_parse("[]", 2, 1, 1, 1, &inv, &st, tiny,
		    sizeof(tiny)) == INV_ERROR && st == 400 &&
		    strlen(tiny) == sizeof(tiny) - 1, "message cut to fit");
		ok(invocation_parse("[]", 2, 1, 1, 1, &inv, &st, NULL, 0) ==
		    INV_ERROR, "no message buffer");
	}
	return done_testing();
}
