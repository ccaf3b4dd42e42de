/*
 * vsd_filter.c - filters_json (src/vsd/filter.c) against a synthetic
 * snapshot: every operator on every column type, NULLs, numeric edge
 * cases, LIKE words, and the refusals (unknown columns, wrong types,
 * malformed JSON, limits) with their messages.  Each accepted filter is
 * checked row by row against a predicate written out here.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vsd/filter.h"
#include "vsd/snapshot.h"
#include "tap.h"

#define NROWS	500
#define DIM	4

static const char *const genders[] = { "Men", "Women", "Boys", "Girls",
    "Unisex" };
static const char *const colours[] = { "Navy Blue", "Blue", "Red", "Black",
    "Off White", "White" };
static const char *const names[] = {
	"Nike Men Navy Blue T-Shirt",
	"Puma Women Red Tshirt",
	"Adidas Men Blue Shirt",
	"ROADSTER Men Navy Blue Jeans",
	"Fabindia Women Off-White Kurta",
	"Catwalk Women Black Heels",
	"Titan Unisex Watch",
	"Lotto Men Shirt navy blue",
	"Caf\xc3\xa9 Coffee Day Men T shirt",
};
#define NNAMES	(sizeof(names) / sizeof(names[0]))

static const struct snap_colspec cols[] = {
	{ "gender", SNAP_TEXT },
	{ "base_color", SNAP_TEXT },
	{ "year", SNAP_INT },
	{ "price", SNAP_DOUBLE },
	{ "product_display_name", SNAP_TEXT },
	{ "brand", SNAP_TEXT },		/* always NULL */
	{ "big", SNAP_INT },		/* int64 extremes */
};
#define NCOLS	7

static struct snapshot snap;
static char msg[512];

/* The data, by row. */
static const char *gender(int r) { return genders[r % 5]; }
static const char *colour(int r) { return r % 7 == 0 ? NULL :
    colours[r % 6]; }
static int year_null(int r) { return r % 11 == 0; }
static int64_t year(int r) { return 2008 + r % 8; }
static int price_null(int r) { return r % 13 == 0; }
static double price(int r) { return (r % 40) + 0.99; }
static const char *name(int r) { return names[r % NNAMES]; }
static int64_t big(int r) { return r % 3 == 0 ? INT64_MIN : r % 3 == 1 ?
    INT64_MAX : r - 250; }

static int
build(const char *path)
{
	struct snapshot_writer *w;
	struct snap_spec spec = { DIM, "product_id", "embedding", cols,
	    NCOLS };
	struct snap_value v[NCOLS];
	float vec[DIM] = { 1, 0, 0, 0 };
	char err[256];
	int r;

	if (snapshot_writer_begin(path, &spec, &w, err, sizeof(err)) !=
	    SNAP_OK)
		goto fail;
	for (r = 0; r < NROWS; r++) {
		memset(v, 0, sizeof(v));
		v[0].s = gender(r);
		v[0].len = strlen(v[0].s);
		v[1].null = colour(r) == NULL;
		v[1].s = colour(r);
		v[1].len = v[1].s != NULL ? strlen(v[1].s) : 0;
		v[2].null = year_null(r);
		v[2].i = year(r);
		v[3].null = price_null(r);
		v[3].d = price(r);
		v[4].s = name(r);
		v[4].len = strlen(v[4].s);
		v[5].null = 1;
		v[6].i = big(r);
		if (snapshot_writer_add(w, r + 1, vec, v, err, sizeof(err)) !=
		    SNAP_OK) {
			snapshot_writer_abort(w);
			goto fail;
		}
	}
	if (snapshot_writer_finish(w, err, sizeof(err)) != SNAP_OK ||
	    snapshot_open(path, &snap, err, sizeof(err)) != SNAP_OK)
		goto fail;
	return 0;
fail:
	printf("Bail out! %s\n", err);
	return -1;
}

typedef int (*pred_fn)(int);

/*
 * JSON is accepted and matches exactly the rows where WANT holds; the
 * number of them into *COUNT when not NULL.
 */
static int
same(const char *json, pred_fn want, size_t *count)
{
	struct filter *f;
	uint64_t bits[(NROWS + 63) / 64 + 1];
	size_t n, expect = 0;
	int r, got, rc;

	bits[(NROWS + 63) / 64] = 0x5a5a;	/* guard word */
	if ((rc = filter_parse(&snap, json, strlen(json), &f, msg,
	    sizeof(msg))) != FILTER_OK) {
		printf("# %s: refused (%d): %s\n", json, rc, msg);
		return 0;
	}
	n = filter_eval(f, bits);
	filter_free(f);
	if (bits[(NROWS + 63) / 64] != 0x5a5a) {
		printf("# %s: wrote past the bitmap\n", json);
		return 0;
	}
	if (NROWS % 64 != 0 && bits[NROWS / 64] >> (NROWS % 64) != 0) {
		printf("# %s: padding bits set\n", json);
		return 0;
	}
	for (r = 0; r < NROWS; r++) {
		got = (int)(bits[r / 64] >> (r % 64) & 1);
		if (got != want(r)) {
			printf("# %s: row %d: got %d, want %d\n", json, r, got,
			    want(r));
			return 0;
		}
		expect += (size_t)got;
	}
	if (n != expect) {
		printf("# %s: count %zu, want %zu\n", json, n, expect);
		return 0;
	}
	if (count != NULL)
		*count = n;
	return 1;
}

/* JSON (LEN bytes) is refused with RC and a message containing WANT. */
static int
refused_n(const char *json, size_t len, int want_rc, const char *want)
{
	struct filter *f = (struct filter *)1;
	int rc;

	msg[0] = '\0';
	rc = filter_parse(&snap, json, len, &f, msg, sizeof(msg));
	if (rc == want_rc && f == NULL && strstr(msg, want) != NULL)
		return 1;
	printf("# %.60s: rc %d, message \"%s\", wanted \"%s\"\n",
	    json != NULL ? json : "(null)", rc, msg, want);
	if (rc == FILTER_OK)
		filter_free(f);
	return 0;
}

static int
accepted_n(const char *json, size_t len)
{
	struct filter *f;
	int rc;

	rc = filter_parse(&snap, json, len, &f, msg, sizeof(msg));
	if (rc != FILTER_OK)
		printf("# refused: %s\n", msg);
	filter_free(f);
	return rc == FILTER_OK;
}

static int
refused(const char *json, const char *want)
{
	return refused_n(json, strlen(json), FILTER_BAD, want);
}

static int all(int r) { (void)r; return 1; }
static int none(int r) { (void)r; return 0; }
static int is_men(int r) { return strcmp(gender(r), "Men") == 0; }
static int men_or_girls(int r) { return is_men(r) ||
    strcmp(gender(r), "Girls") == 0; }
static int not_men(int r) { return !is_men(r); }
static int neither(int r) { return !men_or_girls(r); }
static int red(int r) { return colour(r) != NULL &&
    strcmp(colour(r), "Red") == 0; }
static int not_red(int r) { return !red(r); }	/* NULLs included */
static int blueish(int r) { return colour(r) != NULL &&
    (strcmp(colour(r), "Blue") == 0 || strcmp(colour(r), "Navy Blue") ==
    0); }
static int y2010(int r) { return !year_null(r) && year(r) == 2010; }
static int not_2010(int r) { return year_null(r) || year(r) != 2010; }
static int y_in(int r) { return !year_null(r) && (year(r) == 2009 ||
    year(r) == 2015); }
static int y_lt(int r) { return !year_null(r) && year(r) < 2011; }
static int y_le(int r) { return !year_null(r) && year(r) <= 2011; }
static int y_gt(int r) { return !year_null(r) && year(r) > 2011; }
static int y_ge(int r) { return !year_null(r) && year(r) >= 2011; }
static int y_lt_frac(int r) { return !year_null(r) && year(r) < 2011.5; }
static int y_gt_frac(int r) { return !year_null(r) && year(r) > 2011.5; }
static int y_nonnull(int r) { return !year_null(r); }
static int p_eq(int r) { return !price_null(r) && price(r) == 29.99; }
static int p_lt(int r) { return !price_null(r) && price(r) < 20; }
static int p_range(int r) { return !price_null(r) && price(r) >= 10.99 &&
    price(r) <= 15.99; }
static int p_not(int r) { return price_null(r) || (price(r) != 1.99 &&
    price(r) != 2.99); }
static int p_eq_int(int r) { (void)r; return 0; }	/* x.99 never 3 */
static int b_min(int r) { return big(r) == INT64_MIN; }
static int b_lt_max(int r) { return big(r) < INT64_MAX; }
static int b_gt_min(int r) { return big(r) > INT64_MIN; }
static int men_red_2010(int r) { return is_men(r) && red(r) &&
    y2010(r); }
static int like_navy_blue(int r) { int k = r % NNAMES; return k == 0 ||
    k == 3 || k == 7; }
static int like_shirt(int r) { int k = r % NNAMES; return k == 0 ||
    k == 2 || k == 7 || k == 8; }
static int like_t_shirt(int r) { int k = r % NNAMES; return k == 0 ||
    k == 8; }
static int like_tshirt(int r) { return r % NNAMES == 1; }
static int like_white(int r) { return r % NNAMES == 4; }
static int like_cafe(int r) { return r % NNAMES == 8; }
static int like_blue_navy(int r) { (void)r; return 0; }
static int like_men_and_color(int r) { return like_navy_blue(r) &&
    !year_null(r) && year(r) >= 2012; }
static int colour_like_blue(int r) { return blueish(r); }

static void
test_accepted(void)
{
	size_t n;
	char big_json[64];

	ok(same("{}", all, &n) && n == NROWS, "{} matches every row");
	ok(same("[]", all, NULL), "[] matches every row");
	ok(same(" \t{ }\n", all, NULL), "whitespace around");
	{
		struct filter *f;

		ok(filter_parse(&snap, "{}", 2, &f, msg, sizeof(msg)) ==
		    FILTER_OK && filter_empty(f), "filter_empty");
		filter_free(f);
		ok(filter_parse(&snap, "{\"gender\": \"Men\"}", 17, &f, msg,
		    sizeof(msg)) == FILTER_OK && !filter_empty(f),
		    "not empty");
		filter_free(f);
		filter_free(NULL);
	}
	ok(filter_words(0) == 0 && filter_words(1) == 1 &&
	    filter_words(64) == 1 && filter_words(65) == 2, "filter_words");

	/* Text. */
	ok(same("{\"gender\": \"Men\"}", is_men, &n) && n == NROWS / 5,
	    "text equality");
	ok(same("{\"gender\": \"men\"}", none, NULL), "equality is case "
	    "sensitive");
	ok(same("{\"gender\": \"Nobody\"}", none, NULL), "absent value: no "
	    "row");
	ok(same("{\"gender\": [\"Men\", \"Girls\"]}", men_or_girls, NULL),
	    "any of a list");
	ok(same("{\"gender\": [\"Men\", \"Girls\", \"Men\", \"x\"]}",
	    men_or_girls, NULL), "list with repeats and absent values");
	ok(same("{\"gender\": []}", none, NULL), "empty list: no row");
	ok(same("{\"gender NOT\": \"Men\"}", not_men, NULL), "NOT");
	ok(same("{\"gender not\": \"Men\"}", not_men, NULL), "not, lower case");
	ok(same("{\"gender   NOT  \": \"Men\"}", not_men, NULL),
	    "spaces around the operator");
	ok(same("{\"gender NOT\": [\"Men\", \"Girls\"]}", neither, NULL),
	    "NOT a list: none of");
	ok(same("{\"gender NOT\": []}", all, NULL), "NOT []: every row");
	ok(same("{\"base_color\": \"Red\"}", red, NULL), "equality skips "
	    "NULLs");
	ok(same("{\"base_color NOT\": \"Red\"}", not_red, NULL), "NOT "
	    "matches NULLs");
	ok(same("{\"base_color\": [\"Blue\", \"Navy Blue\"]}", blueish, NULL),
	    "values with spaces");
	ok(same("{\"brand\": \"Nike\"}", none, NULL) &&
	    same("{\"brand NOT\": \"Nike\"}", all, NULL) &&
	    same("{\"brand LIKE\": \"nike\"}", none, NULL),
	    "an all-NULL column (empty dictionary)");

	/* Integers. */
	ok(same("{\"year\": 2010}", y2010, NULL), "integer equality");
	ok(same("{\"year\": 2010.0}", y2010, NULL), "2010.0 equals 2010");
	ok(same("{\"year\": 2010.5}", none, NULL), "2010.5 equals no integer");
	ok(same("{\"year\": 2.01e3}", y2010, NULL), "2.01e3 equals 2010");
	ok(same("{\"year\": [2009, 2015, 1e300, -7]}", y_in, NULL),
	    "integer list");
	ok(same("{\"year NOT\": 2010}", not_2010, NULL), "integer NOT, NULLs "
	    "included");
	ok(same("{\"year <\": 2011}", y_lt, NULL), "<");
	ok(same("{\"year <=\": 2011}", y_le, NULL), "<=");
	ok(same("{\"year >\": 2011}", y_gt, NULL), ">");
	ok(same("{\"year >=\": 2011}", y_ge, NULL), ">=");
	ok(same("{\"year <\": 2011.5}", y_lt_frac, NULL) &&
	    same("{\"year <=\": 2011.5}", y_lt_frac, NULL), "< and <= a "
	    "fraction");
	ok(same("{\"year >\": 2011.5}", y_gt_frac, NULL) &&
	    same("{\"year >=\": 2011.5}", y_gt_frac, NULL), "> and >= a "
	    "fraction");
	ok(same("{\"year >\": -1e300}", y_nonnull, NULL) &&
	    same("{\"year <\": 1e300}", y_nonnull, NULL) &&
	    same("{\"year >\": 1e300}", none, NULL) &&
	    same("{\"year <=\": -1e300}", none, NULL),
	    "bounds beyond int64 (NULLs never match)");
	ok(same("{\"year >=\": 2011, \"year <\": 2011}", none, NULL),
	    "an empty range");
	snprintf(big_json, sizeof(big_json), "{\"big\": %lld}",
	    (long long)INT64_MIN);
	ok(same(big_json, b_min, NULL), "INT64_MIN equality");
	ok(same("{\"big <\": 9223372036854775807}", b_lt_max, NULL),
	    "< INT64_MAX");
	ok(same("{\"big >\": -9223372036854775807.5}", b_gt_min, NULL),
	    "> a double just above INT64_MIN");
	ok(same("{\"big >=\": 9223372036854775808}", none, NULL),
	    ">= 2^63 matches nothing");
	ok(same("{\"big <\": 99999999999999999999}", all, NULL),
	    "< beyond uint64: every row");

	/* Doubles. */
	ok(same("{\"price\": 29.99}", p_eq, &n) && n > 0, "double equality "
	    "(%zu rows)", n);
	ok(same("{\"price\": 3}", p_eq_int, NULL), "double vs an integer");
	ok(same("{\"price <\": 20}", p_lt, NULL), "double <");
	ok(same("{\"price >=\": 10.99, \"price <=\": 15.99}", p_range, NULL),
	    "double range, both ends");
	ok(same("{\"price NOT\": [1.99, 2.99]}", p_not, NULL), "double NOT a "
	    "list, NULLs included");

	/* LIKE. */
	ok(same("{\"product_display_name LIKE\": \"navy blue\"}",
	    like_navy_blue, NULL), "LIKE two words, any case");
	ok(same("{\"product_display_name LIKE\": \"Blue Navy\"}",
	    like_blue_navy, NULL), "LIKE: words in order");
	ok(same("{\"product_display_name LIKE\": \"SHIRT\"}", like_shirt,
	    NULL), "LIKE shirt: a whole word (T-Shirt has it, Tshirt not)");
	ok(same("{\"product_display_name LIKE\": \"t-shirt\"}", like_t_shirt,
	    NULL), "LIKE t-shirt: words t, shirt (T-Shirt, T shirt)");
	ok(same("{\"product_display_name LIKE\": \"tshirt\"}", like_tshirt,
	    NULL), "LIKE tshirt: not T-Shirt");
	ok(same("{\"product_display_name LIKE\": \"white\"}", like_white,
	    NULL), "LIKE white: Off-White");
	ok(same("{\"product_display_name LIKE\": \"caf\xc3\xa9\"}", like_cafe,
	    NULL), "LIKE a UTF-8 word");
	ok(same("{\"product_display_name like\": \"  navy, blue!  \"}",
	    like_navy_blue, NULL), "punctuation in the LIKE value");
	ok(same("{\"base_color LIKE\": \"blue\"}", colour_like_blue, NULL),
	    "LIKE on short values, NULLs never match");

	/* Together. */
	ok(same("{\"gender\": \"Men\", \"base_color\": \"Red\", \"year\": "
	    "2010}", men_red_2010, NULL), "keys are ANDed");
	ok(same("[{\"gender\": \"Men\"}, {\"base_color\": \"Red\"}, "
	    "{\"year\": 2010}]", men_red_2010, NULL), "a list of objects is "
	    "ANDed");
	ok(same("[{\"gender\": [\"Men\", \"Girls\"]}]", men_or_girls, NULL),
	    "a value list inside a list of objects (depth 3)");
	ok(same("{\"product_display_name LIKE\": \"navy blue\", \"year >=\": "
	    "2012}", like_men_and_color, NULL), "LIKE and a range");
}

static void
test_refused(void)
{
	char *big;
	size_t i, off;

	ok(refused("{\"colour\": \"Red\"}", "unknown column \"colour\""),
	    "unknown column, named");
	ok(refused("{\"colour NOT\": \"Red\"}", "unknown column \"colour\""),
	    "unknown column with an operator, named without it");
	ok(refused("{\"Gender\": \"Men\"}", "unknown column \"Gender\""),
	    "column names are case sensitive");
	ok(refused("{\"product_id\": 5}", "unknown column"), "the key is not "
	    "a kept column");
	ok(refused("{\"\": 5}", "no column name"), "empty key");
	ok(refused("{\" NOT\": 5}", "no column name"), "operator alone");
	ok(refused("{\"x\\u0001y\": 5}", "unknown column \"x?y\""),
	    "control characters shown as ?");
	ok(refused("{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaa\": 5}", "...\""), "long key cut");
	ok(refused("{\"gender != \": \"Men\"}", "unsupported operator"), "!=");
	ok(refused("{\"gender =\": \"Men\"}", "unsupported operator"), "=");
	ok(refused("{\"gender OR base_color\": [\"Men\", \"Red\"]}",
	    "OR between columns is not supported"), "OR across columns");
	ok(refused("{\"gender <\": \"Men\"}", "needs a numeric column"),
	    "< on text");
	ok(refused("{\"year LIKE\": \"2010\"}", "LIKE needs a text column"),
	    "LIKE on an integer");
	ok(refused("{\"price LIKE\": \"9\"}", "LIKE needs a text column"),
	    "LIKE on a double");
	ok(refused("{\"year\": \"2010\"}", "got a string"), "string for an "
	    "integer column");
	ok(refused("{\"price >\": \"5\"}", "takes a number, not a string"),
	    "string bound");
	ok(refused("{\"gender\": 5}", "text column, got a number"), "number "
	    "for a text column");
	ok(refused("{\"gender\": [\"Men\", 5]}", "got a number"), "number in "
	    "a text list");
	ok(refused("{\"year\": [2010, \"x\"]}", "got a string"), "string in "
	    "a number list");
	ok(refused("{\"gender\": true}", "a boolean is not a valid value"),
	    "boolean");
	ok(refused("{\"gender\": null}", "null is not a valid value"), "null");
	ok(refused("{\"gender\": [null]}", "got null"), "null in a list");
	ok(refused("{\"gender\": {\"a\": 1}}", "an object is not a valid"),
	    "object value");
	ok(refused("{\"gender\": [[\"Men\"]]}", "got a list"), "nested list");
	ok(refused("{\"year <\": [2010]}", "a list is only for equality"),
	    "list for a comparison");
	ok(refused("{\"year LIKE\": [\"a\"]}", "a list is only"), "list for "
	    "LIKE");
	ok(refused("{\"product_display_name LIKE\": \"%blue%\"}",
	    "not a % pattern"), "%% pattern");
	ok(refused("{\"product_display_name LIKE\": \" - \"}", "needs a word"),
	    "LIKE without a word");
	ok(refused("{\"product_display_name LIKE\": 5}", "LIKE takes a "
	    "string"), "LIKE a number");
	ok(refused("{\"gender\": \"Men\", \"colour\": 1}", "unknown column "
	    "\"colour\""), "the second key is wrong");
	ok(refused("[{\"gender\": \"Men\"}, 5]", "item 1 is a number"),
	    "a list holding a non-object");

	/* Malformed. */
	ok(refused("", "it is empty"), "empty string");
	ok(refused_n(NULL, 0, FILTER_BAD, "it is empty"), "NULL");
	ok(refused("{", "ends too early"), "unterminated object");
	ok(refused("{\"gender\": \"Men\"", "ends too early"), "no closing "
	    "brace");
	ok(refused("{\"gender\": 'Men'}", "not valid JSON"), "single quotes");
	ok(refused("{gender: \"Men\"}", "not valid JSON"), "bare key");
	ok(refused("{\"gender\": \"Men\",}", "not valid JSON"), "trailing "
	    "comma");
	ok(refused("{\"gender\": \"Men\"} x", "not valid JSON"), "trailing "
	    "garbage");
	ok(refused("{} {}", "not valid JSON"), "two objects");
	ok(refused("42", "must be a JSON object"), "a number");
	ok(refused("\"{\\\"gender\\\": \\\"Men\\\"}\"", "must be a JSON "
	    "object"), "a doubly encoded string");
	ok(refused("null", "must be a JSON object"), "null");
	ok(refused("{\"year\": NaN}", "out of range") &&
	    refused("{\"year >\": -Infinity}", "out of range"),
	    "NaN, -Infinity (json-c reads them)");
	ok(refused("{\"year <\": 1e999}", "not one out of range"), "1e999");
	ok(refused("{\"year\": [1e999]}", "out of range"), "1e999 in a list");
	ok(refused("{\"gender\": \"\xff\"}", "not valid JSON"),
	    "invalid UTF-8");
	ok(refused_n("{\"gender\": \"Men\"}\0", 18, FILTER_BAD, "NUL byte"),
	    "a NUL byte");
	ok(refused("[[[[[1]]]]]", "nested deeper"), "too deep");
	ok(refused("[{\"gender\": [[[\"Men\"]]]}]", "nested deeper"),
	    "too deep inside");

	/* Limits. */
	big = malloc(FILTER_MAX_LEN + 64);
	memset(big, ' ', FILTER_MAX_LEN + 1);
	big[0] = '{';
	big[FILTER_MAX_LEN] = '}';
	ok(refused_n(big, FILTER_MAX_LEN + 1, FILTER_BAD, "more than"),
	    "more than %d bytes", FILTER_MAX_LEN);
	big[FILTER_MAX_LEN - 1] = '}';
	ok(accepted_n(big, FILTER_MAX_LEN), "exactly %d bytes is fine",
	    FILTER_MAX_LEN);
	off = (size_t)sprintf(big, "{\"year\": [");
	for (i = 0; i <= FILTER_MAX_VALUES; i++)
		off += (size_t)sprintf(big + off, "%s%zu", i ? "," : "", i);
	sprintf(big + off, "]}");
	ok(refused(big, "more than 1024 values"), "too many values");
	off = (size_t)sprintf(big, "[");
	for (i = 0; i <= FILTER_MAX_TERMS; i++)
		off += (size_t)sprintf(big + off, "%s{\"year\": %zu}", i ?
		    "," : "", i);
	sprintf(big + off, "]");
	ok(refused(big, "more than 64 conditions"), "too many conditions");
	free(big);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[300];

	snprintf(path, sizeof(path), "%s/vsd_filter.%ld.snap", tmp != NULL &&
	    tmp[0] != '\0' ? tmp : "/tmp", (long)getpid());
	if (build(path) != 0)
		return 1;
	unlink(path);		/* the mapping stays */
	test_accepted();
	test_refused();
	snapshot_close(&snap);
	return done_testing();
}
