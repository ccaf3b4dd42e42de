/*
 * http_client_test.c - the pure parts of the HTTP and CLIP clients:
 * Retry-After parsing, OAuth token answers, the token refresh rule and the
 * choice of the auth mode (src/http_client.c), and base64
 * (src/clip_client.c).  The network paths need a server: t/85-embed.t and
 * t/87-oauth.t.
 */
#include <stdio.h>
#include <stdlib.h>
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

/* Token answer S: want TOKEN and TTL, or TOKEN NULL for a refusal. */
static void
tp(const char *s, const char *token, long ttl, const char *name)
{
	char err[256], *got = NULL;
	long t = -42;
	int r = http_token_parse(s, strlen(s), &got, &t, err, sizeof(err));

	if (token == NULL)
		ok(r == HTTP_AUTH_FAILED && got == NULL && err[0] != '\0' &&
		    t == -42, "token %s: refused (r=%d: %s)", name, r, err);
	else
		ok(r == HTTP_OK && got != NULL && strcmp(got, token) == 0 &&
		    t == ttl, "token %s: \"%s\", %ld s (r=%d, got %s, %ld s%s%s)",
		    name, token, ttl, r, got ? got : "NULL", t, err[0] ? ": " : "",
		    err);
	free(got);
}

static void
te(const char *s, const char *want, const char *name)
{
	char msg[300];

	http_token_error(s, strlen(s), msg, sizeof(msg));
	ok(strcmp(msg, want) == 0, "token error %s: \"%s\" (got \"%s\")", name,
	    want, msg);
}

/* The mode a client gets with these variables set ("" = unset). */
static void
mode(const char *id, const char *secret, const char *pat, const char *want)
{
	struct http_auth a = { "http://127.0.0.1:1/", "T87_PAT", "T87_ID",
	    "T87_SECRET" };
	struct http_client *h;

	setenv("T87_ID", id, 1);
	setenv("T87_SECRET", secret, 1);
	setenv("T87_PAT", pat, 1);
	h = http_client_new_auth(1000, 1000, 0, &a);
	ok(h != NULL && strcmp(http_client_auth_mode(h), want) == 0,
	    "id \"%s\", secret \"%s\", token \"%s\": %s (got %s)", id,
	    secret[0] ? "***" : "", pat[0] ? "***" : "", want,
	    h ? http_client_auth_mode(h) : "NULL");
	http_client_free(h);
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

	/* token answers (Databricks: {"access_token", "token_type": "Bearer",
	   "expires_in": 3600, "scope": "all-apis"}) */
	tp("{\"access_token\":\"eyJ.a-b_c.d\",\"token_type\":\"Bearer\","
	    "\"expires_in\":3600,\"scope\":\"all-apis\"}", "eyJ.a-b_c.d", 3600,
	    "Databricks answer");
	tp(" {\"access_token\": \"t\", \"expires_in\": 0}\r\n", "t", 0,
	    "whitespace, zero lifetime");
	tp("{\"access_token\":\"t\",\"token_type\":\"bearer\"}", "t",
	    HTTP_TOKEN_TTL_DEFAULT, "no expires_in: the default, any case");
	tp("{\"access_token\":\"t\",\"expires_in\":\"120\"}", "t", 120,
	    "expires_in as a string");
	tp("{\"access_token\":\"t\",\"expires_in\":59.9}", "t", 59,
	    "expires_in with a fraction");
	tp("{\"access_token\":\"t\",\"expires_in\":99999999999999}", "t",
	    HTTP_TOKEN_TTL_MAX, "huge expires_in is cut");
	tp("{\"access_token\":\"t\",\"expires_in\":\"99999999999999999999999\"}",
	    "t", HTTP_TOKEN_TTL_MAX, "huge expires_in string does not overflow");
	tp("", NULL, 0, "empty");
	tp("not json", NULL, 0, "not JSON");
	tp("[\"access_token\"]", NULL, 0, "an array");
	tp("{\"access_token\":\"t\"} x", NULL, 0, "text after the object");
	tp("{\"token_type\":\"Bearer\",\"expires_in\":3600}", NULL, 0,
	    "no access_token");
	tp("{\"access_token\":42}", NULL, 0, "access_token not a string");
	tp("{\"access_token\":\"\"}", NULL, 0, "empty access_token");
	tp("{\"access_token\":\"a\\r\\nX-Evil: 1\"}", NULL, 0,
	    "CR LF in the token (header injection)");
	tp("{\"access_token\":\"a b\"}", NULL, 0, "space in the token");
	tp("{\"access_token\":\"t\",\"token_type\":\"mac\"}", NULL, 0,
	    "token_type not Bearer");
	tp("{\"access_token\":\"t\",\"expires_in\":-1}", NULL, 0,
	    "negative expires_in");
	tp("{\"access_token\":\"t\",\"expires_in\":\"1h\"}", NULL, 0,
	    "expires_in not a number");
	tp("{\"access_token\":\"t\",\"expires_in\":null}", NULL, 0,
	    "expires_in null");
	{
		char big[HTTP_TOKEN_MAX + 64], err[128], *got = NULL;
		long t;
		int r;

		memcpy(big, "{\"access_token\":\"", 17);
		memset(big + 17, 'x', HTTP_TOKEN_MAX + 1);
		memcpy(big + 17 + HTTP_TOKEN_MAX + 1, "\"}", 3);
		r = http_token_parse(big, strlen(big), &got, &t, err,
		    sizeof(err));
		ok(r == HTTP_AUTH_FAILED && got == NULL && strchr(err, 'x') ==
		    NULL, "token over HTTP_TOKEN_MAX refused, not quoted (%s)",
		    err);
		free(got);
	}
	{
		static const char a[] = "{\"access_token\":\"s3cr3t-tok\","
		    "\"token_type\":\"mac\"}";
		char err[128], *got = NULL;
		long t;
		int r = http_token_parse(a, sizeof(a) - 1, &got, &t, err,
		    sizeof(err));

		ok(r == HTTP_AUTH_FAILED && strstr(err, "s3cr3t") == NULL,
		    "a refused answer's token is not in the message (%s)", err);
		free(got);
	}

	/* token endpoint errors (RFC 6749, 5.2) */
	te("{\"error\":\"invalid_client\",\"error_description\":\"Client "
	    "authentication failed\"}", "invalid_client: Client authentication "
	    "failed", "both");
	te("{\"error\":\"invalid_scope\"}", "invalid_scope", "error only");
	te("{\"error_description\":\"bad\"}", "bad", "description only");
	te("{\"error\":\"x\\ny\",\"error_description\":\"a\\u0007b\"}",
	    "x?y: a?b", "control characters shown as ?");
	te("{\"error\":7}", "", "not strings");
	te("<html>502</html>", "", "not JSON");
	te("", "", "empty");

	/* refresh: the lifetime less min(60 s, 10 %) */
	ok(http_token_refresh_ms(3600) == 3540000, "3600 s: refresh at 3540 s "
	    "(got %lld)", http_token_refresh_ms(3600));
	ok(http_token_refresh_ms(600) == 540000, "600 s: margin 60 s (got %lld)",
	    http_token_refresh_ms(600));
	ok(http_token_refresh_ms(300) == 270000, "300 s: margin 30 s (got %lld)",
	    http_token_refresh_ms(300));
	ok(http_token_refresh_ms(2) == 1800, "2 s: refresh at 1.8 s (got %lld)",
	    http_token_refresh_ms(2));
	ok(http_token_refresh_ms(0) == 0, "0 s: fetch again (got %lld)",
	    http_token_refresh_ms(0));
	ok(http_token_refresh_ms(-5) == 0, "negative: fetch again (got %lld)",
	    http_token_refresh_ms(-5));
	ok(http_token_refresh_ms(HTTP_TOKEN_TTL_MAX + 1) ==
	    http_token_refresh_ms(HTTP_TOKEN_TTL_MAX), "over the cap is capped");

	/* the mode: OAuth needs both id and secret; it wins over a token */
	mode("id", "secret", "", "oauth-m2m");
	mode("id", "secret", "pat", "oauth-m2m");
	mode("id", "", "pat", "token");
	mode("", "secret", "pat", "token");
	mode("id", "", "", "none");
	mode("", "", "", "none");
	mode("", "", "pat", "token");
	mode("a:b", "secret", "", "oauth-m2m");
	{
		struct http_client *h = http_client_new(1000, 1000, 0, NULL);

		ok(h != NULL && strcmp(http_client_auth_mode(h), "none") == 0,
		    "http_client_new without a variable: none");
		http_client_free(h);
		h = http_client_new_auth(1000, 1000, 0, NULL);
		ok(h != NULL && strcmp(http_client_auth_mode(h), "none") == 0,
		    "http_client_new_auth(NULL): none");
		http_client_free(h);
		setenv("T87_PAT", "pat", 1);
		h = http_client_new(1000, 1000, 0, "T87_PAT");
		ok(h != NULL && strcmp(http_client_auth_mode(h), "token") == 0,
		    "http_client_new with a token: token");
		http_client_free(h);
	}

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
