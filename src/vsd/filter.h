/*
 * filter.h - the filters_json of a Databricks Vector Search query
 * (standard endpoint syntax), compiled against one snapshot and evaluated
 * to a bitmap of matching rows.
 *
 * FILTERS_JSON is the text of a JSON object (the request carries it as a
 * JSON string).  Each key names a kept column, optionally followed by
 * spaces and an operator; the keys are ANDed:
 *
 *   {"col": v}          equal to v
 *   {"col": [a, b]}     equal to any of them ([] matches no row)
 *   {"col NOT": v}      not equal to v
 *   {"col NOT": [a, b]} equal to none of them ([] matches every row)
 *   {"col <": n}  {"col <=": n}  {"col >": n}  {"col >=": n}
 *                       numeric comparison (integer and double columns)
 *   {"col LIKE": "w"}   text contains the word(s) of w, whole words,
 *                       ASCII case-insensitive (see below)
 *
 * Also accepted: a JSON array of such objects, all ANDed; "{}" or "[]"
 * (no condition).  Operators are case-insensitive ("not", "like").
 *
 * Types: a text column takes JSON strings (compared byte for byte, case
 * sensitive); an integer or double column takes JSON numbers, compared by
 * value (2012 equals 2012.0; an integer column never equals 2012.5).  A
 * string for a numeric column, a number for a text column, true/false,
 * null, an object, a nested list or a list for a comparison is refused.
 *
 * NULL values match no condition except NOT (a NULL is "none of" any
 * list).  A row matches the filter when it matches every key.
 *
 * LIKE: words are maximal runs of ASCII letters and digits and bytes
 * >= 0x80 (so UTF-8 letters stay inside words); everything else separates
 * words.  The value matches when the words of w occur in it consecutively
 * ("navy blue" matches "Navy Blue Shirt" but not "Blue Navy"; "t-shirt"
 * matches "Men T Shirt").  w needs at least one word; '%' is refused (no
 * SQL patterns).
 *
 * Refused, with a message naming the key: unknown columns, unknown or
 * unsupported operators ("a OR b" across columns, "!=", "="), wrong value
 * types, malformed JSON, a top level that is not an object or an array of
 * objects, more than FILTER_MAX_TERMS keys or FILTER_MAX_VALUES values in a
 * list, more than FILTER_MAX_LEN bytes, nesting deeper than
 * FILTER_JSON_DEPTH.
 */
#ifndef VSD_FILTER_H
#define VSD_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

#define FILTER_OK	 0
#define FILTER_BAD	-1	/* the client's fault: answer 400 with MSG */
#define FILTER_NOMEM	-2	/* answer 500 */

#define FILTER_MAX_LEN		65536	/* bytes of filters_json */
#define FILTER_MAX_TERMS	64	/* keys, over all objects */
#define FILTER_MAX_VALUES	1024	/* values in one list */
#define FILTER_JSON_DEPTH	4	/* array > object > list > value */

struct filter;

/*
 * Compile JSON (LEN bytes, need not be NUL-terminated) against S, which
 * must stay open while *FP is used.  FILTER_OK and *FP, or FILTER_BAD /
 * FILTER_NOMEM with *FP NULL and MSG (MSGLEN bytes, may be cut) saying
 * what is wrong, e.g. `filters_json: unknown column "colour"`.
 */
int	filter_parse(const struct snapshot *s, const char *json, size_t len,
	    struct filter **fp, char *msg, size_t msglen);
void	filter_free(struct filter *);		/* NULL is ok */

/* 1 when F has no condition (every row matches: search without it). */
int	filter_empty(const struct filter *f);

/* uint64_t words of a bitmap of NROWS rows (bit r of word r / 64). */
size_t	filter_words(size_t nrows);

/*
 * Set BITS (filter_words(nrows) words) to the rows matching F, padding
 * bits clear; the number of matching rows.  Cannot fail.
 */
size_t	filter_eval(const struct filter *f, uint64_t *bits);

#endif
