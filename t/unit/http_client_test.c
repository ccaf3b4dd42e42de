/*
 * http_client_test.c - the pure parts of the HTTP and CLIP clients:
 * Retry-After parsing (src/http_client.c) and base64 (src/clip_client.c).
 * The network paths need a server and are exercised by hand (see
 * doc/DATA.md, "Embeddings").
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "clip_client.h"
#include "http_client.h"
#include "tap.h"

static void
ra(const char *s, long want, const char *name)
{
	char shown[80];
	long ms = -42;
	size_t i;
	int r = http_parse_retry_after(s, strlen(s), &ms);

	/* one TAP line: control characters shown as '?' */
	snprintf(shown, sizeof(shown), "%s", s);
	for (i = 0; shown[i] != '\0'; i++)
		if ((unsigned char)shown[i] < 0x20)
			shown[i] = '?';
	if (want < 0)
		ok(r == HTTP_ERROR && ms == -42, "%s: \"%s\" is refused (r=%d)",
		    name, shown, r);
	else
		ok(r == HTTP_OK && ms == want, "%s: \"%s\" -> %ld ms (got %ld, "
		    "r=%d)", name, shown, want, ms, r);
}

static void
b64(const char *in, const char *want)
{
	struct buf b;

	buf_init(&b);
	clip_base64(&b, (const unsigned char *)in, strlen(in));
	buf_add(&b, "", 1);
	ok(!buf_failed(&b) && strcmp(b.data, want) == 0,
	    "base64(\"%s\") = \"%s\" (got \"%s\")", in, want, b.data);
	buf_free(&b);
}

int
main(void)
{
	long ms;
	unsigned char bin[256];
	struct buf b;
	int i;

	/* delta-seconds */
	ra("5", 5000, "delta");
	ra("0", 0, "zero");
	ra("007", 7000, "leading zeros");
	ra("  120\t", 120000, "surrounding whitespace");
	ra("5\r\n", 5000, "header line ending");
	ra("3600", 3600000, "at the cap");
	ra("3601", HTTP_RETRY_AFTER_MAX_MS, "over the cap is capped");
	ra("99999999999999999999999", HTTP_RETRY_AFTER_MAX_MS,
	    "huge does not overflow");

	/* HTTP-date, all three formats of RFC 9110 */
	ra("Wed, 21 Oct 2015 07:28:00 GMT", HTTP_RETRY_AFTER_DATE_MS,
	    "IMF-fixdate");
	ra("Sunday, 06-Nov-94 08:49:37 GMT", HTTP_RETRY_AFTER_DATE_MS,
	    "rfc850-date");
	ra("Sun Nov  6 08:49:37 1994", HTTP_RETRY_AFTER_DATE_MS,
	    "asctime-date");
	ra("Thu Nov 26 08:49:37 2026", HTTP_RETRY_AFTER_DATE_MS,
	    "asctime-date, two-digit day");

	/* neither */
	ra("", -1, "empty");
	ra("   ", -1, "blank");
	ra("-1", -1, "negative");
	ra("+5", -1, "plus sign");
	ra("1.5", -1, "fraction");
	ra("5s", -1, "unit");
	ra("5 6", -1, "two numbers");
	ra("soon", -1, "a word");
	ra("Wed, 21 Oct 2015 07:28:00 GMT and then a lot more text after it",
	    -1, "longer than any date");
	ra("Wed,\x01 21 Oct 2015", -1, "control character");
	ra("Wed, 21 Foo 2015 07:28:00 GMT", -1, "unknown month");
	ra("Xyz, 21 Oct 2015 07:28:00 GMT", -1, "unknown day");
	ra("Wed, 21 Oct 2015 07:28:00 CET", -1, "not GMT");
	ra("Wed, 21-Oct-15 07:28:00 GMT", -1, "rfc850 with a short day name");
	ra("Wed, 1 Oct 2015 07:28:00 GMT", -1, "one-digit day in IMF-fixdate");

	/* the length is honoured: no NUL needed */
	ms = -1;
	ok(http_parse_retry_after("12345", 2, &ms) == HTTP_OK && ms == 12000,
	    "only LEN bytes are read (got %ld)", ms);

	/* RFC 4648 test vectors */
	b64("", "");
	b64("f", "Zg==");
	b64("fo", "Zm8=");
	b64("foo", "Zm9v");
	b64("foob", "Zm9vYg==");
	b64("fooba", "Zm9vYmE=");
	b64("foobar", "Zm9vYmFy");

	/* all byte values, and longer than the encoder's chunk */
	for (i = 0; i < 256; i++)
		bin[i] = (unsigned char)i;
	buf_init(&b);
	for (i = 0; i < 12; i++)
		clip_base64(&b, bin, sizeof(bin));	/* 256: padding "==" */
	ok(!buf_failed(&b) && b.len == 12 * 344, "12 x 256 bytes -> %zu chars",
	    b.len);
	ok(b.len == 12 * 344 && strncmp(b.data,
	    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX", 32) == 0 &&
	    memcmp(b.data + 336, "/P3+/w==AAEC", 12) == 0 &&
	    memcmp(b.data + b.len - 8, "/P3+/w==", 8) == 0,
	    "binary bytes and their padding");
	buf_free(&b);

	return done_testing();
}
