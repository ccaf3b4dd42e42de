/* request_test.c - query string, percent-decoding, UTF-8, number parsing. */
#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "tap.h"

static int
parse(const char *qs, struct request *r)
{
	char err[128];

	memset(r, 0, sizeof(*r));
	return query_parse(r, qs, err, sizeof(err));
}

static void
clear(struct request *r)
{
	int i;

	for (i = 0; i < r->nparams; i++) {
		free(r->params[i].name);
		free(r->params[i].value);
	}
	r->nparams = 0;
}

int
main(void)
{
	struct request r;
	char big[REQ_MAX_QUERY + 10];
	char *out;
	long long ll;
	double d;
	int i;

	ok(parse("a=1&b=x+y%20z", &r) == REQ_OK && r.nparams == 2 &&
	    strcmp(r.params[1].value, "x y z") == 0, "plain query decodes");
	clear(&r);
	ok(parse("", &r) == REQ_OK && r.nparams == 0, "empty query");
	clear(&r);
	ok(parse("a=1&&b=2&", &r) == REQ_OK && r.nparams == 2, "empty pairs skipped");
	clear(&r);
	ok(parse("flag", &r) == REQ_OK && r.nparams == 1 &&
	    strcmp(r.params[0].value, "") == 0, "name without value");
	clear(&r);
	ok(parse("a=1&a=2", &r) == REQ_ERROR, "repeated parameter rejected");
	clear(&r);
	ok(parse("a=%FF%FE", &r) == REQ_ERROR, "invalid UTF-8 rejected");
	clear(&r);
	ok(parse("a=%C3%A9", &r) == REQ_OK && strcmp(r.params[0].value,
	    "\xc3\xa9") == 0, "valid UTF-8 kept");
	clear(&r);
	ok(parse("a=%00", &r) == REQ_ERROR, "encoded NUL rejected");
	clear(&r);
	ok(parse("a=%4", &r) == REQ_ERROR, "truncated escape rejected");
	clear(&r);
	ok(parse("a=%zz", &r) == REQ_ERROR, "non-hex escape rejected");
	clear(&r);
	ok(parse("a=%", &r) == REQ_ERROR, "lone percent rejected");
	clear(&r);
	ok(parse("a=%C0%AF", &r) == REQ_ERROR, "overlong UTF-8 rejected");
	clear(&r);
	ok(parse("a=%ED%A0%80", &r) == REQ_ERROR, "UTF-16 surrogate rejected");
	clear(&r);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(parse(big, &r) == REQ_ERROR, "overlong query rejected");
	clear(&r);
	{
		char many[400] = "";
		for (i = 0; i < REQ_MAX_PARAMS + 1; i++)
			snprintf(many + strlen(many), sizeof(many) - strlen(many),
			    "p%d=1&", i);
		ok(parse(many, &r) == REQ_ERROR, "too many parameters rejected");
		clear(&r);
	}
	ok(percent_decode("/api/v1/a%2Fb", 13, &out, 0) == REQ_OK &&
	    strcmp(out, "/api/v1/a/b") == 0, "path decode");
	free(out);
	ok(percent_decode("a+b", 3, &out, 0) == REQ_OK && strcmp(out, "a+b") == 0,
	    "plus kept in paths");
	free(out);

	ok(parse_int("42", 1, 100, &ll) == REQ_OK && ll == 42, "int ok");
	ok(parse_int("-1", 1, 100, &ll) == REQ_ERROR, "int below range");
	ok(parse_int("101", 1, 100, &ll) == REQ_ERROR, "int above range");
	ok(parse_int("99999999999999999999", 1, 100, &ll) == REQ_ERROR,
	    "int overflow");
	ok(parse_int("1e3", 1, 10000, &ll) == REQ_ERROR, "int exponent");
	ok(parse_int(" 5", 1, 10, &ll) == REQ_ERROR, "int leading space");
	ok(parse_int("+5", 1, 10, &ll) == REQ_ERROR, "int plus sign");
	ok(parse_int("", 1, 10, &ll) == REQ_ERROR, "int empty");
	ok(parse_price("12.50", &d) == REQ_OK && d == 12.5, "price ok");
	ok(parse_price("-5", &d) == REQ_ERROR, "price negative");
	ok(parse_price("NaN", &d) == REQ_ERROR, "price NaN");
	ok(parse_price("inf", &d) == REQ_ERROR, "price inf");
	ok(parse_price("1e9", &d) == REQ_ERROR, "price exponent");
	ok(parse_price(".", &d) == REQ_ERROR, "price lone dot");
	ok(parse_price("1.2.3", &d) == REQ_ERROR, "price two dots");

	ok(utf8_valid("h\xc3\xa9llo", 6), "utf8 valid");
	ok(!utf8_valid("\xf5\x80\x80\x80", 4), "utf8 beyond U+10FFFF");
	ok(!utf8_valid("\xe2\x82", 2), "utf8 truncated");
	return done_testing();
}
