/* vs_client_test.c - the Vector Search page parser and the API filters. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "buf.h"
#include "config.h"
#include "vs_client.h"
#include "tap.h"

#define MAN2 "\"manifest\":{\"column_count\":2,\"columns\":" \
	"[{\"name\":\"product_id\"},{\"name\":\"score\"}]}"

static struct vs_hit hits[1100];
static size_t nhits;
static char token[64], err[256];

static int
page(const char *json, size_t max)
{
	memset(hits, 0xa5, sizeof(hits));
	nhits = 12345;
	strcpy(token, "stale");
	err[0] = '\0';
	return vs_parse_page(json, strlen(json), "product_id", hits, max,
	    &nhits, token, sizeof(token), err, sizeof(err));
}

/* A malformed page: VS_BAD, nothing returned, a message. */
static void
bad_page(const char *json, size_t max, const char *what)
{
	int r = page(json, max);

	ok(r == VS_BAD && nhits == 0 && token[0] == '\0' && err[0] != '\0',
	    "malformed page refused: %s (%s)", what, err);
}

/* Parse TEXT strictly: the whole of it, one JSON value. */
static struct json_object *
strict_parse(const char *text, size_t len)
{
	struct json_tokener *tok;
	struct json_object *o;

	if ((tok = json_tokener_new()) == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, text, (int)len);
	if (o != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len)) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static struct profile demo, sota;
static struct buf out;
static char msg[256];

/* vs_filters_from_api on the JSON text IN (NULL: a NULL pointer). */
static int
filt_p(const char *in, const struct profile *p)
{
	struct json_object *o = NULL;
	int r;

	if (in != NULL && (o = json_tokener_parse(in)) == NULL &&
	    strcmp(in, "null") != 0) {
		printf("# test bug: cannot parse %s\n", in);
		return 99;
	}
	strcpy(msg, "stale");
	r = vs_filters_from_api(o, p, &out, msg, sizeof(msg));
	json_object_put(o);
	return r;
}

/* IN converts to filters_json equal (as JSON, parsed strictly) to WANT. */
static void
filt_ok(const char *in, const struct profile *p, const char *want)
{
	struct json_object *got = NULL, *exp = NULL;
	int r = filt_p(in, p), same;

	if (want[0] == '\0') {
		ok(r == VS_OK && out.len == 0, "filters %s -> no filter", in);
		return;
	}
	if (r == VS_OK)
		got = strict_parse(out.data, out.len);
	exp = json_tokener_parse(want);
	same = got != NULL && exp != NULL && json_object_equal(got, exp);
	ok(r == VS_OK && same, "filters %s -> %s (got %s)", in, want,
	    r == VS_OK ? out.data : msg);
	json_object_put(got);
	json_object_put(exp);
}

/* IN is refused with VS_BAD and a message holding NEEDLE; OUT empty. */
static void
filt_bad(const char *in, const struct profile *p, const char *needle)
{
	int r = filt_p(in, p);

	ok(r == VS_BAD && out.len == 0 && strstr(msg, needle) != NULL,
	    "filters %s refused (%s)", in, msg);
}

/* Same, for a json_object built by hand. */
static int
filt_obj(const char *key, struct json_object *v, const struct profile *p)
{
	struct json_object *o = json_object_new_object();
	int r;

	json_object_object_add(o, key, v);
	strcpy(msg, "stale");
	r = vs_filters_from_api(o, p, &out, msg, sizeof(msg));
	json_object_put(o);
	return r;
}

static void
test_pages(void)
{
	char *big, *p, tiny[4];
	size_t i, n;
	int r, all;

	r = page("{" MAN2 ",\"result\":{\"row_count\":3,\"data_array\":"
	    "[[15970,0.93],[39386,0.5],[7,-0.25]]},\"next_page_token\":"
	    "\"tok-2\"}", 10);
	ok(r == VS_OK && nhits == 3, "integer keys: 3 rows (%s)", err);
	ok(hits[0].id == 15970 && hits[0].score == 0.93 &&
	    hits[1].id == 39386 && hits[1].score == 0.5 &&
	    hits[2].id == 7 && hits[2].score == -0.25,
	    "ids and scores as sent, in order");
	ok(strcmp(token, "tok-2") == 0, "next_page_token returned");

	r = page("{" MAN2 ",\"result\":{\"row_count\":2,\"data_array\":"
	    "[[15970.0,0.93],[1.5e3,1]]}}", 10);
	ok(r == VS_OK && nhits == 2 && hits[0].id == 15970 &&
	    hits[1].id == 1500 && hits[1].score == 1.0,
	    "integral doubles as keys, an integer score (%s)", err);
	ok(token[0] == '\0', "no next_page_token: token is \"\"");

	r = page("{" MAN2 ",\"result\":{\"row_count\":3,\"data_array\":"
	    "[[\"15970\",0.9],[\"-5\",0.8],[\"9223372036854775807\",0.7]]},"
	    "\"next_page_token\":\"\"}", 3);
	ok(r == VS_OK && nhits == 3 && hits[0].id == 15970 &&
	    hits[1].id == -5 && hits[2].id == INT64_MAX,
	    "decimal strings as keys, up to INT64_MAX (%s)", err);
	ok(token[0] == '\0', "empty next_page_token: token is \"\"");

	r = page("{\"manifest\":{\"column_count\":3,\"columns\":[{\"name\":"
	    "\"product_display_name\"},{\"name\":\"product_id\"},{\"name\":"
	    "\"score\"}]},\"result\":{\"row_count\":1,\"data_array\":"
	    "[[\"Blue Shirt\",42,0.75]]},\"next_page_token\":null}", 5);
	ok(r == VS_OK && nhits == 1 && hits[0].id == 42 &&
	    hits[0].score == 0.75 && token[0] == '\0',
	    "key not the first column; null token (%s)", err);

	r = page("{" MAN2 ",\"result\":{\"row_count\":0,\"data_array\":[]}}",
	    5);
	ok(r == VS_OK && nhits == 0 && token[0] == '\0', "empty data_array");
	r = page("{" MAN2 ",\"result\":{\"row_count\":0}}", 5);
	ok(r == VS_OK && nhits == 0, "data_array left out (no rows)");
	r = page("{" MAN2 "}", 5);
	ok(r == VS_OK && nhits == 0, "result left out (no rows)");
	r = page(" {" MAN2 ",\"result\":{\"data_array\":[[1,0.5]]},"
	    "\"debug_info\":{\"a\":[{\"b\":1}]}}\r\n", 1);
	ok(r == VS_OK && nhits == 1 && hits[0].id == 1,
	    "no row_count, unknown members, surrounding whitespace, "
	    "exactly max rows (%s)", err);

	/* A full page of 1000 rows. */
	if ((big = malloc(64 * 1000 + 256)) != NULL) {
		p = big + sprintf(big, "{" MAN2 ",\"result\":{\"row_count\":1000,"
		    "\"data_array\":[");
		for (i = 0; i < 1000; i++)
			p += sprintf(p, "%s[%zu,%.17g]", i ? "," : "",
			    100000 + i, 1.0 - (double)i / 1024);
		sprintf(p, "]},\"next_page_token\":\"page-2\"}");
		r = page(big, 1000);
		all = r == VS_OK && nhits == 1000;
		for (i = 0; all && i < 1000; i++)
			all = hits[i].id == (int64_t)(100000 + i) &&
			    hits[i].score == 1.0 - (double)i / 1024;
		ok(all && strcmp(token, "page-2") == 0,
		    "a page of 1000 rows, every value exact (%s)", err);
		r = page(big, 999);
		ok(r == VS_BAD && nhits == 0, "1000 rows when 999 fit: refused");
		free(big);
	}

	/* Malformed. */
	bad_page("not json", 5, "not JSON");
	bad_page("", 5, "empty");
	bad_page("{\"manifest\":", 5, "truncated");
	bad_page("{" MAN2 "} x", 5, "text after the value");
	bad_page("[" "1" "]", 5, "an array at the top");
	bad_page("{\"result\":{\"row_count\":1,\"data_array\":[[1,0.5]]}}", 5,
	    "no manifest");
	bad_page("{\"manifest\":{\"columns\":{}}}", 5, "columns not an array");
	bad_page("{\"manifest\":{\"columns\":[{\"name\":\"id\"},{\"name\":"
	    "\"score\"}]},\"result\":{\"data_array\":[[1,0.5]]}}", 5,
	    "key column missing");
	bad_page("{\"manifest\":{\"columns\":[{\"name\":\"score\"}]}}", 5,
	    "only a score column");
	bad_page("{\"manifest\":{\"columns\":[{\"name\":\"product_id\"},"
	    "{\"name\":\"price\"}]},\"result\":{\"data_array\":[[1,0.5]]}}", 5,
	    "last column not score");
	bad_page("{\"manifest\":{\"columns\":[{\"name\":\"product_id\"},"
	    "{\"title\":\"score\"}]}}", 5, "column without a name");
	bad_page("{\"manifest\":{\"column_count\":3,\"columns\":[{\"name\":"
	    "\"product_id\"},{\"name\":\"score\"}]}}", 5,
	    "column_count disagrees");
	bad_page("{" MAN2 ",\"result\":{\"data_array\":[[1,\"0.5\"]]}}", 5,
	    "score a string");
	bad_page("{" MAN2 ",\"result\":{\"data_array\":[[1,null]]}}", 5,
	    "score null");
	bad_page("{" MAN2 ",\"result\":{\"data_array\":[[1,NaN]]}}", 5,
	    "score NaN");
	bad_page("{" MAN2 ",\"result\":{\"data_array\":[[1,1e999]]}}", 5,
	    "score infinite");
	bad_page("{" MAN2 ",\"result\":{\"data_array\":[[0.5]]}}", 5,
	    "row shorter than the manifest");
	bad_page("{" MAN2 ",\"result\":{\"data_array\":[[1,2,0.5]]}}", 5,
	    "row longer than the manifest");
	bad_page("{" MAN2 ",\"result\":{\"data_array\":[{\"a\":1}]}}", 5,
	    "row not an array");
	bad_page("{" MAN2 ",\"result\":{\"data_array\":{}}}", 5,
	    "data_array not an array");
	bad_page("{" MAN2 ",\"result\":[]}", 5, "result not an object");
	bad_page("{" MAN2 ",\"result\":{\"row_count\":2,\"data_array\":"
	    "[[1,0.5]]}}", 5, "row_count disagrees");
	bad_page("{" MAN2 ",\"result\":{\"data_array\":[[1,0.5],[2,0.4]]}}",
	    1, "more rows than max");
	bad_page("{" MAN2 ",\"result\":{\"data_array\":[[1,0.5]]}}", 0,
	    "a row when max is 0");
	bad_page("{" MAN2 ",\"result\":{\"data_array\":[[15970.5,0.5]]}}", 5,
	    "non-integral key");
	bad_page("{" MAN2 ",\"result\":{\"data_array\":[[1e30,0.5]]}}", 5,
	    "key double out of range");
	bad_page("{" MAN2 ",\"result\":{\"data_array\":"
	    "[[9223372036854775808,0.5]]}}", 5, "key integer out of range");
	bad_page("{" MAN2 ",\"result\":{\"data_array\":"
	    "[[\"9223372036854775808\",0.5]]}}", 5, "key string out of range");
	bad_page("{" MAN2 ",\"result\":{\"data_array\":[[\"15970x\",0.5]]}}",
	    5, "key string with junk");
	bad_page("{" MAN2 ",\"result\":{\"data_array\":[[\" 1\",0.5]]}}",
	    5, "key string with a space");
	bad_page("{" MAN2 ",\"result\":{\"data_array\":[[\"1.0\",0.5]]}}",
	    5, "key string with a decimal point");
	bad_page("{" MAN2 ",\"result\":{\"data_array\":[[\"\",0.5]]}}",
	    5, "key empty string");
	bad_page("{" MAN2 ",\"result\":{\"data_array\":[[\"-\",0.5]]}}",
	    5, "key string just a sign");
	bad_page("{" MAN2 ",\"result\":{\"data_array\":[[true,0.5]]}}",
	    5, "key boolean");
	bad_page("{" MAN2 ",\"result\":{\"data_array\":[[null,0.5]]}}",
	    5, "key null");
	bad_page("{" MAN2 ",\"next_page_token\":42}", 5, "token a number");
	bad_page("{" MAN2 ",\"next_page_token\":\"a\\u0000b\"}", 5,
	    "token with a NUL byte");

	/* The token must fit, with its NUL. */
	n = 99;
	r = vs_parse_page("{" MAN2 ",\"next_page_token\":\"abc\"}",
	    strlen("{" MAN2 ",\"next_page_token\":\"abc\"}"), "product_id",
	    hits, 5, &n, tiny, sizeof(tiny), err, sizeof(err));
	ok(r == VS_OK && n == 0 && strcmp(tiny, "abc") == 0,
	    "a token that just fits");
	r = vs_parse_page("{" MAN2 ",\"next_page_token\":\"abcd\"}",
	    strlen("{" MAN2 ",\"next_page_token\":\"abcd\"}"), "product_id",
	    hits, 5, &n, tiny, sizeof(tiny), err, sizeof(err));
	ok(r == VS_BAD && n == 0 && tiny[0] == '\0',
	    "a token too long refused (%s)", err);

	/* LEN is honoured: the text need not end in a NUL. */
	r = vs_parse_page("{" MAN2 "}garbage", strlen("{" MAN2 "}"),
	    "product_id", hits, 5, &n, token, sizeof(token), err, sizeof(err));
	ok(r == VS_OK && n == 0, "only LEN bytes are parsed");
}

static void
test_filters(void)
{
	static const char *text[] = { "gender", "master_category",
	    "sub_category", "article_type", "base_color", "season", "usage" };
	struct json_object *o, *a;
	char in[600], want[600], s201[202];
	size_t i;
	int r;

	filt_ok(NULL, &demo, "");
	filt_ok("null", &demo, "");
	filt_ok("{}", &demo, "");
	filt_bad("[]", &demo, "object");
	filt_bad("\"gender\"", &demo, "object");
	filt_bad("42", &demo, "object");

	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
		snprintf(in, sizeof(in), "{\"%s\": \"Men\"}", text[i]);
		snprintf(want, sizeof(want), "{\"%s\": \"Men\"}", text[i]);
		filt_ok(in, &demo, want);
		snprintf(in, sizeof(in), "{\"%s\": [\"Men\", \"Women\"]}",
		    text[i]);
		snprintf(want, sizeof(want), "{\"%s\": [\"Men\", \"Women\"]}",
		    text[i]);
		filt_ok(in, &demo, want);
		snprintf(in, sizeof(in), "{\"%s\": \"\"}", text[i]);
		filt_bad(in, &demo, text[i]);
		snprintf(in, sizeof(in), "{\"%s\": []}", text[i]);
		filt_bad(in, &demo, text[i]);
		snprintf(in, sizeof(in), "{\"%s\": 3}", text[i]);
		filt_bad(in, &demo, text[i]);
	}
	filt_ok("{\"gender\": \"Men\"}", &demo, "{\"gender\": \"Men\"}");
	ok(strcmp(out.data, "{\"gender\":\"Men\"}") == 0,
	    "compact text: %s", out.data);
	filt_bad("{\"gender\": null}", &demo, "gender");
	filt_bad("{\"gender\": true}", &demo, "gender");
	filt_bad("{\"gender\": {\"a\": \"b\"}}", &demo, "gender");
	filt_bad("{\"gender\": [\"Men\", 1]}", &demo, "gender[1]");
	filt_bad("{\"gender\": [\"Men\", \"\"]}", &demo, "gender[1]");
	filt_bad("{\"gender\": [[\"Men\"]]}", &demo, "gender[0]");
	filt_bad("{\"season\": [null]}", &demo, "season[0]");

	/* Quotes, backslashes, control characters and UTF-8 survive the
	   trip into the filters_json text and back. */
	filt_ok("{\"article_type\": \"a \\\"quoted\\\" \\\\ back\\nslash\"}",
	    &demo, "{\"article_type\": \"a \\\"quoted\\\" \\\\ back\\nslash\"}");
	filt_ok("{\"base_color\": \"Caf\\u00e9 \xe2\x82\xac\"}", &demo,
	    "{\"base_color\": \"Caf\xc3\xa9 \xe2\x82\xac\"}");
	filt_ok("{\"usage\": \"tab\\there\\u0001\"}", &demo,
	    "{\"usage\": \"tab\\there\\u0001\"}");

	/* Lengths: 200 bytes, 201; 50 values, 51. */
	memset(s201, 'x', 201);
	s201[201] = '\0';
	r = filt_obj("gender", json_object_new_string_len(s201, 201), &demo);
	ok(r == VS_BAD && strstr(msg, "gender") != NULL,
	    "a 201-byte value refused (%s)", msg);
	r = filt_obj("gender", json_object_new_string_len(s201, 200), &demo);
	ok(r == VS_OK && out.len == 200 + strlen("{\"gender\":\"\"}"),
	    "a 200-byte value taken");
	a = json_object_new_array();
	for (i = 0; i < 50; i++)
		json_object_array_add(a, json_object_new_string("v"));
	r = filt_obj("usage", json_object_get(a), &demo);
	ok(r == VS_OK, "a list of 50 values taken");
	json_object_array_add(a, json_object_new_string("v"));
	r = filt_obj("usage", a, &demo);
	ok(r == VS_BAD && strstr(msg, "usage") != NULL,
	    "a list of 51 values refused (%s)", msg);
	r = filt_obj("gender", json_object_new_string_len("M\0n", 3), &demo);
	ok(r == VS_BAD && strstr(msg, "gender") != NULL,
	    "a value with a NUL byte refused (%s)", msg);
	r = filt_obj("gender", json_object_new_string("M\xffn"), &demo);
	ok(r == VS_BAD && strstr(msg, "UTF-8") != NULL,
	    "invalid UTF-8 refused (%s)", msg);

	/* year */
	filt_ok("{\"year\": 2012}", &demo, "{\"year\": 2012}");
	filt_ok("{\"year\": [2011, 2012]}", &demo, "{\"year\": [2011, 2012]}");
	filt_ok("{\"year\": 1900}", &demo, "{\"year\": 1900}");
	filt_ok("{\"year\": 2100}", &demo, "{\"year\": 2100}");
	filt_bad("{\"year\": 1899}", &demo, "year");
	filt_bad("{\"year\": 2101}", &demo, "year");
	filt_bad("{\"year\": 2012.0}", &demo, "year");
	filt_bad("{\"year\": 2012.5}", &demo, "year");
	filt_bad("{\"year\": \"2012\"}", &demo, "year");
	filt_bad("{\"year\": true}", &demo, "year");
	filt_bad("{\"year\": null}", &demo, "year");
	filt_bad("{\"year\": []}", &demo, "year");
	filt_bad("{\"year\": [2012, \"2013\"]}", &demo, "year[1]");
	filt_bad("{\"year\": 99999999999999999999}", &demo, "year");

	/* brand: only where the profile has the column */
	filt_bad("{\"brand\": \"Nike\"}", &demo,
	    "filter brand is not available in profile fashion_demo");
	filt_bad("{\"gender\": \"Men\", \"brand\": [\"Nike\"]}", &demo,
	    "filter brand is not available in profile fashion_demo");
	filt_ok("{\"brand\": \"Nike\"}", &sota, "{\"brand\": \"Nike\"}");
	filt_ok("{\"brand\": [\"Nike\", \"Puma\"]}", &sota,
	    "{\"brand\": [\"Nike\", \"Puma\"]}");
	filt_bad("{\"brand\": \"\"}", &sota, "brand");
	filt_bad("{\"brand\": 7}", &sota, "brand");

	/* prices */
	filt_ok("{\"min_price\": 10}", &demo, "{\"price >=\": 10}");
	filt_ok("{\"max_price\": 99.99}", &demo, "{\"price <=\": 99.99}");
	ok(strcmp(out.data, "{\"price <=\":99.99}") == 0,
	    "99.99 written as 99.99: %s", out.data);
	filt_ok("{\"min_price\": 0.1}", &demo, "{\"price >=\": 0.1}");
	ok(strcmp(out.data, "{\"price >=\":0.1}") == 0,
	    "0.1 written as 0.1: %s", out.data);
	filt_ok("{\"min_price\": 0}", &demo, "{\"price >=\": 0}");
	/* JSON numbers carry no type: an integral double may be written as an
	   integer */
	filt_ok("{\"min_price\": 0.0}", &demo, "{\"price >=\": 0}");
	filt_ok("{\"min_price\": -0.0}", &demo, "{\"price >=\": 0}");
	filt_ok("{\"max_price\": 120.0}", &demo, "{\"price <=\": 120}");
	ok(strstr(out.data, "-") == NULL, "-0.0 written without a sign: %s",
	    out.data);
	filt_ok("{\"min_price\": 1e20}", &demo, "{\"price >=\": 1e20}");
	filt_ok("{\"min_price\": 10, \"max_price\": 10}", &demo,
	    "{\"price >=\": 10, \"price <=\": 10}");
	filt_ok("{\"min_price\": 5.5, \"max_price\": 20}", &demo,
	    "{\"price >=\": 5.5, \"price <=\": 20}");
	filt_bad("{\"min_price\": 20, \"max_price\": 5.5}", &demo,
	    "min_price is greater than max_price");
	filt_bad("{\"min_price\": 10.01, \"max_price\": 10}", &demo,
	    "min_price is greater than max_price");
	filt_bad("{\"min_price\": -1}", &demo, "min_price");
	filt_bad("{\"max_price\": -0.01}", &demo, "max_price");
	filt_bad("{\"min_price\": \"10\"}", &demo, "min_price");
	filt_bad("{\"max_price\": null}", &demo, "max_price");
	filt_bad("{\"max_price\": [10]}", &demo, "max_price");
	filt_bad("{\"max_price\": false}", &demo, "max_price");
	filt_bad("{\"min_price\": NaN}", &demo, "min_price");
	filt_bad("{\"max_price\": Infinity}", &demo, "max_price");
	filt_bad("{\"max_price\": 1e999}", &demo, "max_price");
	filt_bad("{\"max_price\": 99999999999999999999}", &demo, "max_price");
	r = filt_obj("min_price", json_object_new_double(NAN), &demo);
	ok(r == VS_BAD && out.len == 0, "a NaN built by hand refused");
	r = filt_obj("max_price", json_object_new_double(-INFINITY), &demo);
	ok(r == VS_BAD && out.len == 0, "-Infinity built by hand refused");

	/* every key at once: valid JSON, fixed order */
	filt_ok("{\"max_price\": 150, \"min_price\": 9.5, \"year\": [2012],"
	    "\"brand\": \"Nike\", \"usage\": \"Sports\", \"season\": "
	    "[\"Summer\", \"Fall\"], \"base_color\": \"Navy Blue\","
	    "\"article_type\": \"Tshirts\", \"sub_category\": \"Topwear\","
	    "\"master_category\": \"Apparel\", \"gender\": \"Men\"}", &sota,
	    "{\"gender\": \"Men\", \"master_category\": \"Apparel\", "
	    "\"sub_category\": \"Topwear\", \"article_type\": \"Tshirts\", "
	    "\"base_color\": \"Navy Blue\", \"season\": [\"Summer\", \"Fall\"],"
	    "\"usage\": \"Sports\", \"brand\": \"Nike\", \"year\": [2012], "
	    "\"price >=\": 9.5, \"price <=\": 150}");
	ok(strcmp(out.data, "{\"gender\":\"Men\",\"master_category\":"
	    "\"Apparel\",\"sub_category\":\"Topwear\",\"article_type\":"
	    "\"Tshirts\",\"base_color\":\"Navy Blue\",\"season\":[\"Summer\","
	    "\"Fall\"],\"usage\":\"Sports\",\"brand\":\"Nike\",\"year\":[2012],"
	    "\"price >=\":9.5,\"price <=\":150}") == 0,
	    "keys in the documented order: %s", out.data);

	/* unknown keys, named (and sanitised) in the message */
	filt_bad("{\"colour\": \"Red\"}", &demo, "unknown filter \"colour\"");
	filt_bad("{\"gender\": \"Men\", \"price\": 10}", &demo,
	    "unknown filter \"price\"");
	filt_bad("{\"Gender\": \"Men\"}", &demo, "Gender");
	filt_bad("{\"price >=\": 10}", &demo, "unknown filter");
	filt_bad("{\"a\\\"b\": 1}", &demo, "unknown filter \"a?b\"");

	/* OUT is reset first, and emptied on failure */
	filt_ok("{\"gender\": \"Men\"}", &demo, "{\"gender\": \"Men\"}");
	filt_ok("{\"season\": \"Fall\"}", &demo, "{\"season\": \"Fall\"}");
	ok(strstr(out.data, "gender") == NULL, "OUT is reset between calls");

	/* a filters_json object built from a parsed request */
	o = json_tokener_parse("{\"query\": \"red\", \"filters\": {\"gender\":"
	    " \"Women\", \"max_price\": 49.9}}");
	json_object_object_get_ex(o, "filters", &a);
	r = vs_filters_from_api(a, &demo, &out, msg, sizeof(msg));
	ok(r == VS_OK && strcmp(out.data, "{\"gender\":\"Women\","
	    "\"price <=\":49.9}") == 0, "from a request: %s", out.data);
	json_object_put(o);
}

static void
test_client(void)
{
	struct settings cfg;
	struct vs_client *c;
	struct vs_hit h[4];
	float v[4] = { 0.1f, 0.2f, 0.3f, 0.4f };
	char e[256], state[32];
	long long rows;
	size_t n;
	int r, ready;

	memset(&cfg, 0, sizeof(cfg));
	cfg.vs_url = "";
	cfg.vs_token_env = "";
	cfg.vs_connect_timeout = 500;
	cfg.vs_timeout = 2000;
	cfg.vs_retries = 0;
	e[0] = '\0';
	ok(vs_client_new(&cfg, e, sizeof(e)) == NULL && e[0] != '\0',
	    "an empty vs.url refused (%s)", e);
	cfg.vs_url = "///";
	ok(vs_client_new(&cfg, e, sizeof(e)) == NULL, "\"///\" refused too");
	/* port 1: nothing listens there, so nothing is ever sent */
	cfg.vs_url = "http://127.0.0.1:1/";
	c = vs_client_new(&cfg, e, sizeof(e));
	ok(c != NULL, "a client (%s)", c ? "" : e);
	if (c == NULL)
		return;
	r = vs_query(c, "ep", "main.s.idx", v, 4, "product_id", NULL, 0, h,
	    &n, e, sizeof(e));
	ok(r == VS_ERROR, "num_results 0 refused locally (%s)", e);
	r = vs_query(c, "ep", "main.s.idx", v, 4, "product_id", NULL,
	    VS_MAX_RESULTS + 1, h, &n, e, sizeof(e));
	ok(r == VS_ERROR, "num_results %d refused locally",
	    VS_MAX_RESULTS + 1);
	r = vs_query(c, "ep", "main.s.idx", v, 0, "product_id", NULL, 4, h,
	    &n, e, sizeof(e));
	ok(r == VS_ERROR, "an empty vector refused locally");
	r = vs_query(c, "", "main.s.idx", v, 4, "product_id", NULL, 4, h, &n,
	    e, sizeof(e));
	ok(r == VS_ERROR, "no endpoint name refused locally");
	r = vs_query(c, "ep", "main.s.idx", v, 4, "", NULL, 4, h, &n, e,
	    sizeof(e));
	ok(r == VS_ERROR, "no key column refused locally");
	r = vs_query(c, "ep", "", v, 4, "product_id", NULL, 4, h, &n, e,
	    sizeof(e));
	ok(r == VS_ERROR, "no index name refused locally (%s)", e);
	v[2] = NAN;
	r = vs_query(c, "ep", "main.s.idx", v, 4, "product_id", NULL, 4, h,
	    &n, e, sizeof(e));
	ok(r == VS_ERROR && strstr(e, "2") != NULL,
	    "a NaN in the vector refused locally (%s)", e);
	v[2] = 0.3f;
	r = vs_describe(c, "", &ready, &rows, state, sizeof(state), e,
	    sizeof(e));
	ok(r == VS_ERROR && ready == 0 && rows == -1 && state[0] == '\0',
	    "describe: no index name refused locally");
	ok(vs_sync(c, "", e, sizeof(e)) == VS_ERROR,
	    "sync: no index name refused locally");
	r = vs_query(c, "ep", "main.s.idx", v, 4, "product_id", NULL, 4, h,
	    &n, e, sizeof(e));
	ok(r == VS_DOWN && n == 0, "connection refused: VS_DOWN (%s)", e);
	vs_client_free(c);
	vs_client_free(NULL);
}

int
main(void)
{
	demo.name = "fashion_demo";
	demo.has_brand = 0;
	sota.name = "fashion_sota";
	sota.has_brand = 1;
	buf_init(&out);

	test_pages();
	test_filters();
	test_client();
	buf_free(&out);
	return done_testing();
}
