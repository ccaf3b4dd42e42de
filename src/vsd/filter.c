/*
 * filter.c - see filter.h.
 *
 * Compiling does the per-value work once: a text condition becomes a table
 * over the column's dictionary (one byte per distinct value: does it
 * match?), so evaluating it is one load per row whatever the operator; an
 * integer comparison becomes an inclusive range; numeric lists are sorted.
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "buf.h"
#include "filter.h"

#define NAME_SHOWN	40	/* bytes of a client's key shown in a message */
#define MAX_WORDS	32	/* words in a LIKE value */

enum op {
	OP_EQ,		/* any of */
	OP_NOT,		/* none of */
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE,
	OP_LIKE
};

static const struct {
	const char	*name;
	enum op		 op;
} ops[] = {
	{ "NOT", OP_NOT }, { "<", OP_LT }, { "<=", OP_LE }, { ">", OP_GT },
	{ ">=", OP_GE }, { "LIKE", OP_LIKE }
};
#define NOPS	(sizeof(ops) / sizeof(ops[0]))

/* A JSON number, exactly. */
struct num {
	int		 is_int;	/* i holds it; else d */
	int64_t		 i;
	double		 d;
};

/* One compiled condition. */
struct term {
	int		 col;
	int		 type;		/* the column's */
	int		 null_match;	/* what a NULL gives: 1 only for NOT */
	unsigned char	*dmatch;	/* SNAP_TEXT: [ndict], NOT applied */
	/* SNAP_INT: the matching values are in [lo, hi] (OP_LT..OP_GE), or
	   among iv[nv] sorted (OP_EQ, OP_NOT: then invert). */
	int64_t		 lo, hi;
	int64_t		*iv;
	/* SNAP_DOUBLE: compare with bound (OP_LT..OP_GE), or dv[nv] sorted. */
	double		 bound;
	double		*dv;
	size_t		 nv;
	enum op		 op;
};

struct filter {
	const struct snapshot	*s;
	struct term		*terms;
	size_t			 n, cap;
};

/* One call of filter_parse(). */
struct fctx {
	struct filter	*f;
	char		*msg;
	size_t		 msglen;
};

static int	fail(struct fctx *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
fail(struct fctx *c, int rc, const char *fmt, ...)
{
	va_list ap;

	if (c->msg != NULL && c->msglen > 0) {
		va_start(ap, fmt);
		if (vsnprintf(c->msg, c->msglen, fmt, ap) < 0)
			c->msg[0] = '\0';
		va_end(ap);
	}
	return rc;
}

static int
is_space(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' ||
	    ch == '\f' || ch == '\r';
}

static int
word_char(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= 'A' && ch <= 'Z') || ch >= 0x80;
}

static unsigned char
lower(unsigned char ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch;
}

static int
op_eq_nocase(const char *a, size_t alen, const char *b)
{
	size_t i;

	if (alen != strlen(b))
		return 0;
	for (i = 0; i < alen; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return 1;
}

/* ----------------------------------------------------------------------
 * LIKE
 */

struct words {
	const char	*w[MAX_WORDS];	/* into the client's string */
	size_t		 len[MAX_WORDS];
	size_t		 n;
};

/* Split S into words; -1 when there are more than MAX_WORDS. */
static int
split_words(const char *s, size_t len, struct words *out)
{
	size_t i = 0, start;

	out->n = 0;
	while (i < len) {
		while (i < len && !word_char((unsigned char)s[i]))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && word_char((unsigned char)s[i]))
			i++;
		if (out->n == MAX_WORDS)
			return -1;
		out->w[out->n] = s + start;
		out->len[out->n] = i - start;
		out->n++;
	}
	return 0;
}

/* S[*I..) starts with word W (case-insensitive) ending at a word end. */
static int
word_at(const char *s, size_t len, size_t *i, const char *w, size_t wlen)
{
	size_t k;

	if (len - *i < wlen)
		return 0;
	for (k = 0; k < wlen; k++)
		if (lower((unsigned char)s[*i + k]) !=
		    lower((unsigned char)w[k]))
			return 0;
	if (*i + wlen < len && word_char((unsigned char)s[*i + wlen]))
		return 0;
	*i += wlen;
	return 1;
}

/* The words of NEEDLE occur consecutively in S. */
static int
like(const char *s, size_t len, const struct words *needle)
{
	size_t i = 0, j, k;

	while (i < len) {
		while (i < len && !word_char((unsigned char)s[i]))
			i++;
		if (i == len)
			break;
		/* A word starts at i: try the needle here. */
		j = i;
		for (k = 0; k < needle->n; k++) {
			if (k > 0) {
				while (j < len &&
				    !word_char((unsigned char)s[j]))
					j++;
				if (j == len)
					break;
			}
			if (!word_at(s, len, &j, needle->w[k], needle->len[k]))
				break;
		}
		if (k == needle->n)
			return 1;
		while (i < len && word_char((unsigned char)s[i]))
			i++;
	}
	return 0;
}

/* ----------------------------------------------------------------------
 * Compiling
 */

/*
 * JSON number V into *N: 0, or -1 when V is not a number, -2 when it is
 * out of range (json-c reads 1e999 as infinity).  Integers beyond int64
 * come saturated from json-c: those above are told apart through their
 * uint64 value and kept as a double; those below stay INT64_MIN.
 */
static int
get_num(struct json_object *v, struct num *n)
{
	memset(n, 0, sizeof(*n));
	if (json_object_is_type(v, json_type_int)) {
		n->i = json_object_get_int64(v);
		if (n->i == INT64_MAX &&
		    json_object_get_uint64(v) != (uint64_t)INT64_MAX) {
			n->d = (double)json_object_get_uint64(v);
			return 0;
		}
		n->is_int = 1;
		n->d = (double)n->i;
		return 0;
	}
	if (json_object_is_type(v, json_type_double)) {
		n->d = json_object_get_double(v);
		return isfinite(n->d) ? 0 : -2;
	}
	return -1;
}

/* N as an int64 when it is an integer in range. */
static int
num_as_int(const struct num *n, int64_t *out)
{
	if (n->is_int) {
		*out = n->i;
		return 1;
	}
	if (n->d >= -9223372036854775808.0 && n->d < 9223372036854775808.0 &&
	    n->d == floor(n->d)) {
		*out = (int64_t)n->d;
		return 1;
	}
	return 0;
}

/*
 * The integers v with "v OP n" as [*LO, *HI] (empty when *LO > *HI).
 * Doubles beyond int64 saturate; ceil/floor of anything in range fit.
 */
static void
int_range(enum op op, const struct num *n, int64_t *lo, int64_t *hi)
{
	const double two63 = 9223372036854775808.0;
	double x = n->d;

	*lo = INT64_MIN;
	*hi = INT64_MAX;
	if (n->is_int) {
		switch (op) {
		case OP_LT:
			if (n->i == INT64_MIN)
				*lo = 0, *hi = -1;
			else
				*hi = n->i - 1;
			break;
		case OP_LE:
			*hi = n->i;
			break;
		case OP_GT:
			if (n->i == INT64_MAX)
				*lo = 0, *hi = -1;
			else
				*lo = n->i + 1;
			break;
		default:
			*lo = n->i;
			break;
		}
		return;
	}
	switch (op) {
	case OP_LT:		/* v <= ceil(x) - 1 */
		if (x >= two63)
			break;
		if (x <= -two63)
			*lo = 0, *hi = -1;
		else
			*hi = (int64_t)ceil(x) - 1;
		break;
	case OP_LE:		/* v <= floor(x) */
		if (x >= two63)
			break;
		if (x < -two63)
			*lo = 0, *hi = -1;
		else
			*hi = (int64_t)floor(x);
		break;
	case OP_GT:		/* v >= floor(x) + 1 */
		if (x >= two63)
			*lo = 0, *hi = -1;
		else if (x >= -two63)
			*lo = (int64_t)floor(x) + 1;
		break;
	default:		/* v >= ceil(x) */
		if (x > two63 || x == two63)
			*lo = 0, *hi = -1;
		else if (x > -two63)
			*lo = (int64_t)ceil(x);
		break;
	}
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int
cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static struct term *
new_term(struct fctx *c)
{
	struct filter *f = c->f;
	struct term *t;

	if (f->n == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 8;

		if ((t = reallocarray(f->terms, ncap, sizeof(*t))) == NULL)
			return NULL;
		f->terms = t;
		f->cap = ncap;
	}
	t = &f->terms[f->n++];
	memset(t, 0, sizeof(*t));
	return t;
}

/* The values of V (a value or a list of them) as an array, or -1. */
static int
values_of(struct fctx *c, struct json_object *v, const char *key,
    struct json_object ***vals, size_t *n)
{
	size_t i;

	if (json_object_is_type(v, json_type_array)) {
		*n = json_object_array_length(v);
		if (*n > FILTER_MAX_VALUES)
			return fail(c, FILTER_BAD, "filters_json: \"%s\": more "
			    "than %d values", key, FILTER_MAX_VALUES);
		if (*n == 0) {
			*vals = NULL;
			return FILTER_OK;
		}
		if ((*vals = calloc(*n, sizeof(**vals))) == NULL)
			return fail(c, FILTER_NOMEM, "out of memory");
		for (i = 0; i < *n; i++)
			(*vals)[i] = json_object_array_get_idx(v, i);
		return FILTER_OK;
	}
	if ((*vals = calloc(1, sizeof(**vals))) == NULL)
		return fail(c, FILTER_NOMEM, "out of memory");
	(*vals)[0] = v;
	*n = 1;
	return FILTER_OK;
}

static const char *
type_name(int type)
{
	switch (type) {
	case SNAP_TEXT:
		return "a text";
	case SNAP_INT:
		return "an integer";
	default:
		return "a numeric";
	}
}

static const char *
json_kind(struct json_object *v)
{
	if (v == NULL)
		return "null";
	switch (json_object_get_type(v)) {
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
	case json_type_int:
		return "a number";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "a list";
	case json_type_string:
		return "a string";
	default:
		return "null";
	}
}

/* Text column: EQ, NOT or LIKE into T->dmatch. */
static int
compile_text(struct fctx *c, struct term *t, const char *key,
    struct json_object *v)
{
	const struct snapshot *s = c->f->s;
	const struct snap_col *col = &s->cols[t->col];
	struct json_object **vals = NULL;
	struct words needle;
	const char *str;
	size_t n = 0, i, len;
	uint32_t d;
	long id;
	int rc;

	if (t->op != OP_EQ && t->op != OP_NOT && t->op != OP_LIKE)
		return fail(c, FILTER_BAD, "filters_json: \"%s\": comparison "
		    "needs a numeric column, %s is text", key,
		    col->name);
	if ((t->dmatch = calloc(col->ndict > 0 ? col->ndict : 1, 1)) == NULL)
		return fail(c, FILTER_NOMEM, "out of memory");
	if (t->op == OP_LIKE) {
		if (!json_object_is_type(v, json_type_string))
			return fail(c, FILTER_BAD, "filters_json: \"%s\": "
			    "LIKE takes a string, not %s", key, json_kind(v));
		str = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		if (memchr(str, '%', len) != NULL)
			return fail(c, FILTER_BAD, "filters_json: \"%s\": "
			    "LIKE takes words, not a %% pattern", key);
		if (split_words(str, len, &needle) != 0)
			return fail(c, FILTER_BAD, "filters_json: \"%s\": "
			    "more than %d words", key, MAX_WORDS);
		if (needle.n == 0)
			return fail(c, FILTER_BAD, "filters_json: \"%s\": "
			    "LIKE needs a word", key);
		for (d = 0; d < col->ndict; d++)
			t->dmatch[d] = (unsigned char)like(s->pool +
			    col->dict[2 * d], col->dict[2 * d + 1], &needle);
		return FILTER_OK;
	}
	if ((rc = values_of(c, v, key, &vals, &n)) != FILTER_OK)
		return rc;
	for (i = 0; i < n; i++) {
		if (!json_object_is_type(vals[i], json_type_string)) {
			rc = fail(c, FILTER_BAD, "filters_json: \"%s\": %s is "
			    "a text column, got %s", key, col->name,
			    json_kind(vals[i]));
			goto out;
		}
		id = snapshot_dict_find(s, t->col,
		    json_object_get_string(vals[i]),
		    (size_t)json_object_get_string_len(vals[i]));
		if (id >= 0)
			t->dmatch[id] = 1;
	}
	if (t->op == OP_NOT)
		for (d = 0; d < col->ndict; d++)
			t->dmatch[d] = !t->dmatch[d];
	rc = FILTER_OK;
out:
	free(vals);
	return rc;
}

/* Numeric column: a range, or a sorted list of values. */
static int
compile_num(struct fctx *c, struct term *t, const char *key,
    struct json_object *v)
{
	const struct snap_col *col = &c->f->s->cols[t->col];
	struct json_object **vals = NULL;
	struct num n;
	size_t nv = 0, i;
	int64_t iv;
	int rc;

	if (t->op == OP_LIKE)
		return fail(c, FILTER_BAD, "filters_json: \"%s\": LIKE needs "
		    "a text column, %s is %s column", key, col->name,
		    type_name(col->type));
	if (t->op != OP_EQ && t->op != OP_NOT) {
		if ((rc = get_num(v, &n)) != 0)
			return fail(c, FILTER_BAD, "filters_json: \"%s\": "
			    "comparison takes a number, not %s", key,
			    rc == -2 ? "one out of range" : json_kind(v));
		if (t->type == SNAP_INT)
			int_range(t->op, &n, &t->lo, &t->hi);
		else
			t->bound = n.d;
		return FILTER_OK;
	}
	if ((rc = values_of(c, v, key, &vals, &nv)) != FILTER_OK)
		return rc;
	if (nv > 0 && ((t->type == SNAP_INT &&
	    (t->iv = calloc(nv, sizeof(*t->iv))) == NULL) ||
	    (t->type == SNAP_DOUBLE &&
	    (t->dv = calloc(nv, sizeof(*t->dv))) == NULL))) {
		rc = fail(c, FILTER_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nv; i++) {
		if ((rc = get_num(vals[i], &n)) != 0) {
			rc = fail(c, FILTER_BAD, "filters_json: \"%s\": %s is "
			    "%s column, got %s", key, col->name,
			    type_name(col->type), rc == -2 ?
			    "a number out of range" : json_kind(vals[i]));
			goto out;
		}
		if (t->type == SNAP_DOUBLE)
			t->dv[t->nv++] = n.d;
		else if (num_as_int(&n, &iv))
			t->iv[t->nv++] = iv;
		/* else: no integer equals it */
	}
	if (t->iv != NULL)
		qsort(t->iv, t->nv, sizeof(*t->iv), cmp_i64);
	if (t->dv != NULL)
		qsort(t->dv, t->nv, sizeof(*t->dv), cmp_dbl);
	rc = FILTER_OK;
out:
	free(vals);
	return rc;
}

/*
 * Split KEY into a column name [0, *NAMELEN) and an operator.  FILTER_OK,
 * or FILTER_BAD with a message.
 */
static int
parse_key(struct fctx *c, const char *key, const char *shown,
    size_t *namelen, enum op *op)
{
	size_t len = strlen(key), end, sp;
	const char *suffix;
	size_t i;

	*op = OP_EQ;
	end = len;
	while (end > 0 && is_space((unsigned char)key[end - 1]))
		end--;
	for (sp = end; sp > 0 && !is_space((unsigned char)key[sp - 1]); sp--)
		;
	if (sp > 0) {
		suffix = key + sp;
		for (i = 0; i < NOPS; i++)
			if (op_eq_nocase(suffix, end - sp, ops[i].name))
				break;
		if (i < NOPS) {
			*op = ops[i].op;
			end = sp;
			while (end > 0 && is_space((unsigned char)key[end - 1]))
				end--;
		} else if (strspn(suffix, "<>=!") == end - sp)
			return fail(c, FILTER_BAD, "filters_json: \"%s\": "
			    "unsupported operator", shown);
	}
	/* "a OR b": Databricks' OR across columns, which we do not do. */
	for (i = 0; i + 4 <= end; i++)
		if (is_space((unsigned char)key[i]) &&
		    op_eq_nocase(key + i + 1, 2, "OR") &&
		    is_space((unsigned char)key[i + 3]))
			return fail(c, FILTER_BAD, "filters_json: \"%s\": OR "
			    "between columns is not supported", shown);
	if (end == 0)
		return fail(c, FILTER_BAD, "filters_json: \"%s\": no column "
		    "name", shown);
	*namelen = end;
	return FILTER_OK;
}

static int
compile_key(struct fctx *c, const char *key, struct json_object *v)
{
	const struct snapshot *s = c->f->s;
	char shown[NAME_SHOWN + 8], name[SNAP_MAX_NAME + 1];
	struct term *t;
	size_t namelen = 0;
	enum op op;
	int rc, col;

	str_shown(key, strlen(key), NAME_SHOWN, shown, sizeof(shown));
	if ((rc = parse_key(c, key, shown, &namelen, &op)) != FILTER_OK)
		return rc;
	col = -1;
	if (namelen <= SNAP_MAX_NAME) {
		memcpy(name, key, namelen);
		name[namelen] = '\0';
		col = snapshot_column(s, name);
	}
	if (col < 0) {
		str_shown(key, namelen, NAME_SHOWN, shown, sizeof(shown));
		return fail(c, FILTER_BAD, "filters_json: unknown column "
		    "\"%s\"", shown);
	}
	if (c->f->n >= FILTER_MAX_TERMS)
		return fail(c, FILTER_BAD, "filters_json: more than %d "
		    "conditions", FILTER_MAX_TERMS);
	if (v == NULL || json_object_is_type(v, json_type_boolean) ||
	    json_object_is_type(v, json_type_object))
		return fail(c, FILTER_BAD, "filters_json: \"%s\": %s is not "
		    "a valid value", shown, json_kind(v));
	if (json_object_is_type(v, json_type_array) && op != OP_EQ &&
	    op != OP_NOT)
		return fail(c, FILTER_BAD, "filters_json: \"%s\": a list "
		    "is only for equality or NOT", shown);
	if ((t = new_term(c)) == NULL)
		return fail(c, FILTER_NOMEM, "out of memory");
	t->col = col;
	t->type = s->cols[col].type;
	t->op = op;
	t->null_match = op == OP_NOT;
	if (t->type == SNAP_TEXT)
		return compile_text(c, t, shown, v);
	return compile_num(c, t, shown, v);
}

static int
compile_object(struct fctx *c, struct json_object *obj)
{
	int rc;

	json_object_object_foreach(obj, key, val) {
		if ((rc = compile_key(c, key, val)) != FILTER_OK)
			return rc;
	}
	return FILTER_OK;
}

/* Parse JSON into *ROOT (an object or an array). */
static int
parse_json(struct fctx *c, const char *json, size_t len,
    struct json_object **root)
{
	struct json_tokener *tok = NULL;
	enum json_tokener_error jerr;
	size_t end;
	int flags = JSON_TOKENER_STRICT, rc;

#ifdef JSON_TOKENER_VALIDATE_UTF8
	flags |= JSON_TOKENER_VALIDATE_UTF8;
#endif
	*root = NULL;
	if (len > FILTER_MAX_LEN)
		return fail(c, FILTER_BAD, "filters_json: more than %d bytes",
		    FILTER_MAX_LEN);
	if (memchr(json, '\0', len) != NULL)
		return fail(c, FILTER_BAD, "filters_json is not valid JSON: "
		    "it contains a NUL byte");
	if ((tok = json_tokener_new_ex(FILTER_JSON_DEPTH)) == NULL)
		return fail(c, FILTER_NOMEM, "out of memory");
	json_tokener_set_flags(tok, flags);
	*root = json_tokener_parse_ex(tok, json, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (*root == NULL && jerr == json_tokener_continue) {
		/* Only a top-level scalar ends at the end: json-c needs a NUL. */
		*root = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
		if (jerr != json_tokener_success &&
		    jerr != json_tokener_error_depth) {
			rc = fail(c, FILTER_BAD, "filters_json is not valid "
			    "JSON: %s", len == 0 ? "it is empty" :
			    "it ends too early");
			goto fail;
		}
	}
	if (jerr == json_tokener_error_depth) {
		rc = fail(c, FILTER_BAD, "filters_json is not valid JSON: "
		    "nested deeper than %d levels", FILTER_JSON_DEPTH);
		goto fail;
	}
	if (jerr != json_tokener_success) {
		rc = fail(c, FILTER_BAD, "filters_json is not valid JSON: %s "
		    "at byte %zu", json_tokener_error_desc(jerr), end);
		goto fail;
	}
	while (end < len && is_space((unsigned char)json[end]))
		end++;
	if (end != len) {
		rc = fail(c, FILTER_BAD, "filters_json is not valid JSON: "
		    "unexpected data at byte %zu", end);
		goto fail;
	}
	if (*root == NULL || (!json_object_is_type(*root, json_type_object) &&
	    !json_object_is_type(*root, json_type_array))) {
		rc = fail(c, FILTER_BAD, "filters_json must be a JSON object");
		goto fail;
	}
	json_tokener_free(tok);
	return FILTER_OK;
fail:
	json_object_put(*root);
	*root = NULL;
	json_tokener_free(tok);
	return rc;
}

void
filter_free(struct filter *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->terms[i].dmatch);
		free(f->terms[i].iv);
		free(f->terms[i].dv);
	}
	free(f->terms);
	free(f);
}

int
filter_parse(const struct snapshot *s, const char *json, size_t len,
    struct filter **fp, char *msg, size_t msglen)
{
	struct fctx c;
	struct json_object *root = NULL, *el;
	size_t i, n;
	int rc = FILTER_OK;

	*fp = NULL;
	memset(&c, 0, sizeof(c));
	c.msg = msg;
	c.msglen = msglen;
	if (msg != NULL && msglen > 0)
		msg[0] = '\0';
	if ((c.f = calloc(1, sizeof(*c.f))) == NULL)
		return fail(&c, FILTER_NOMEM, "out of memory");
	c.f->s = s;
	if (json == NULL) {
		json = "";
		len = 0;
	}
	if ((rc = parse_json(&c, json, len, &root)) != FILTER_OK)
		goto fail;
	if (json_object_is_type(root, json_type_object))
		rc = compile_object(&c, root);
	else {
		n = json_object_array_length(root);
		for (i = 0; i < n && rc == FILTER_OK; i++) {
			el = json_object_array_get_idx(root, i);
			if (!json_object_is_type(el, json_type_object))
				rc = fail(&c, FILTER_BAD, "filters_json: a "
				    "list must hold objects, item %zu is %s",
				    i, json_kind(el));
			else
				rc = compile_object(&c, el);
		}
	}
	if (rc != FILTER_OK)
		goto fail;
	json_object_put(root);
	*fp = c.f;
	return FILTER_OK;
fail:
	json_object_put(root);
	filter_free(c.f);
	return rc;
}

int
filter_empty(const struct filter *f)
{
	return f->n == 0;
}

size_t
filter_words(size_t nrows)
{
	return (nrows + 63) / 64;
}

/* ----------------------------------------------------------------------
 * Evaluation
 */

static int
in_i64(const int64_t *v, size_t n, int64_t x)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v[mid] == x)
			return 1;
		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int
in_dbl(const double *v, size_t n, double x)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v[mid] == x)
			return 1;
		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/*
 * Bit b of the result: does row base + b match T, NULLs aside?  NULL rows
 * hold 0 (text: id 0, and dmatch has at least one byte), so reading them is
 * safe; the caller replaces their bits.
 */
static uint64_t
match_word(const struct snapshot *s, const struct term *t, size_t base,
    size_t n)
{
	const struct snap_col *c = &s->cols[t->col];
	uint64_t m = 0;
	size_t b;
	double x;

	switch (t->type) {
	case SNAP_TEXT:
		for (b = 0; b < n; b++)
			m |= (uint64_t)t->dmatch[c->sid[base + b]] << b;
		return m;
	case SNAP_INT:
		if (t->op == OP_EQ || t->op == OP_NOT) {
			for (b = 0; b < n; b++)
				m |= (uint64_t)in_i64(t->iv, t->nv,
				    c->ival[base + b]) << b;
			return t->op == OP_NOT ? ~m : m;
		}
		for (b = 0; b < n; b++)
			m |= (uint64_t)(c->ival[base + b] >= t->lo &&
			    c->ival[base + b] <= t->hi) << b;
		return m;
	}
	for (b = 0; b < n; b++) {
		x = c->dval[base + b];
		switch (t->op) {
		case OP_EQ:
		case OP_NOT:
			m |= (uint64_t)in_dbl(t->dv, t->nv, x) << b;
			break;
		case OP_LT:
			m |= (uint64_t)(x < t->bound) << b;
			break;
		case OP_LE:
			m |= (uint64_t)(x <= t->bound) << b;
			break;
		case OP_GT:
			m |= (uint64_t)(x > t->bound) << b;
			break;
		default:
			m |= (uint64_t)(x >= t->bound) << b;
			break;
		}
	}
	return t->op == OP_NOT ? ~m : m;
}

size_t
filter_eval(const struct filter *f, uint64_t *bits)
{
	const struct snapshot *s = f->s;
	const struct term *t;
	const uint64_t *nulls;
	size_t nw = filter_words(s->nrows), w, i, n, count = 0;
	uint64_t m, nm;

	for (w = 0; w < nw; w++)
		bits[w] = ~(uint64_t)0;
	if (s->nrows % 64 != 0)
		bits[nw - 1] = ((uint64_t)1 << (s->nrows % 64)) - 1;
	for (i = 0; i < f->n; i++) {
		t = &f->terms[i];
		nulls = s->cols[t->col].nulls;
		for (w = 0; w < nw; w++) {
			if (bits[w] == 0)
				continue;
			n = s->nrows - w * 64 < 64 ? s->nrows - w * 64 : 64;
			m = match_word(s, t, w * 64, n);
			nm = nulls[w];
			m = (m & ~nm) | (t->null_match ? nm : 0);
			bits[w] &= m;	/* padding bits are already clear */
		}
	}
	for (w = 0; w < nw; w++)
		count += (size_t)__builtin_popcountll(bits[w]);
	return count;
}
