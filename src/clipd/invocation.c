/* invocation.c - see invocation.h */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json.h>

#include "base64.h"
#include "buf.h"
#include "invocation.h"

#define HTTP_BAD_REQUEST	400
#define HTTP_TOO_LARGE		413
#define HTTP_NOMEM		500

#define NAME_SHOWN	40	/* bytes of a client's key shown in a message */

/* The top-level keys naming a format; exactly one must be present. */
static const char *const format_keys[] = {
	"dataframe_split", "dataframe_records", "instances", "inputs"
};
#define NFORMATS	(sizeof(format_keys) / sizeof(format_keys[0]))

/* One call of invocation_parse(). */
struct inv_ctx {
	struct invocation	*inv;
	size_t			 max_rows;
	size_t			 max_text;	/* bytes of text as sent */
	size_t			 max_image;	/* bytes of image decoded */
	int			*status;
	char			*msg;
	size_t			 msglen;
};

static int	fail(struct inv_ctx *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/*
 * Record the error and return INV_ERROR.  A message cut to fit MSG is
 * still a useful message, so truncation is not an error here.
 */
static int
fail(struct inv_ctx *c, int status, const char *fmt, ...)
{
	va_list ap;

	*c->status = status;
	if (c->msg != NULL && c->msglen > 0) {
		va_start(ap, fmt);
		if (vsnprintf(c->msg, c->msglen, fmt, ap) < 0)
			c->msg[0] = '\0';
		va_end(ap);
	}
	return INV_ERROR;
}

static int
is_space(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' ||
	    ch == '\f' || ch == '\r';
}

/* Column named NAME: INV_TEXT, INV_IMAGE, or 0 for none of ours. */
static int
column_of(const char *name)
{
	if (strcmp(name, "text") == 0)
		return INV_TEXT;
	if (strcmp(name, "image") == 0)
		return INV_IMAGE;
	return 0;
}

static const char *
column_name(int col)
{
	return col == INV_TEXT ? "text" : "image";
}

/* Check the batch size N and allocate its rows. */
static int
rows_alloc(struct inv_ctx *c, size_t n)
{
	if (n == 0)
		return fail(c, HTTP_BAD_REQUEST, "empty batch: no rows given");
	if (n > c->max_rows)
		return fail(c, HTTP_BAD_REQUEST,
		    "batch of %zu rows exceeds the limit of %zu", n,
		    c->max_rows);
	if ((c->inv->rows = calloc(n, sizeof(*c->inv->rows))) == NULL)
		return fail(c, HTTP_NOMEM, "out of memory");
	c->inv->n = n;
	return INV_OK;
}

static int
row_text(struct inv_ctx *c, size_t i, struct json_object *v)
{
	struct inv_row *r = &c->inv->rows[i];
	const char *s;
	size_t len, b, e;
	int slen;

	s = json_object_get_string(v);
	if ((slen = json_object_get_string_len(v)) < 0 || s == NULL)
		return fail(c, HTTP_BAD_REQUEST, "row %zu: bad text", i);
	len = (size_t)slen;
	if (len > c->max_text)
		return fail(c, HTTP_BAD_REQUEST,
		    "row %zu: text longer than %zu bytes", i, c->max_text);
	if (memchr(s, '\0', len) != NULL)
		return fail(c, HTTP_BAD_REQUEST,
		    "row %zu: text contains a NUL character", i);
	if (!utf8_valid(s, len))
		return fail(c, HTTP_BAD_REQUEST,
		    "row %zu: text is not valid UTF-8", i);
	for (b = 0; b < len && is_space((unsigned char)s[b]); b++)
		continue;
	for (e = len; e > b && is_space((unsigned char)s[e - 1]); e--)
		continue;
	if (e == b)
		return fail(c, HTTP_BAD_REQUEST, "row %zu: text is empty", i);
	if ((r->text = malloc(e - b + 1)) == NULL)
		return fail(c, HTTP_NOMEM, "out of memory");
	memcpy(r->text, s + b, e - b);
	r->text[e - b] = '\0';
	r->text_len = e - b;
	r->kind = INV_TEXT;
	return INV_OK;
}

/*
 * Length of a leading "data:image/<subtype>;base64," in S (LEN bytes;
 * "data:" and "base64" in any case), 0 when S does not start with "data:",
 * and (size_t)-1 when it does but is not such a prefix.
 */
static size_t
data_url_prefix(const char *s, size_t len)
{
	static const char data[] = "data:image/", b64[] = ";base64,";
	size_t i, sub;

	if (len < 5 || strncasecmp(s, data, 5) != 0)
		return 0;
	if (len < sizeof(data) - 1 ||
	    strncasecmp(s, data, sizeof(data) - 1) != 0)
		return (size_t)-1;
	i = sizeof(data) - 1;
	for (sub = i; i < len && i - sub < 64; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '+' || s[i] == '-'))
			break;
	if (i == sub || len - i < sizeof(b64) - 1 ||
	    strncasecmp(s + i, b64, sizeof(b64) - 1) != 0)
		return (size_t)-1;
	return i + sizeof(b64) - 1;
}

static int
row_image(struct inv_ctx *c, size_t i, struct json_object *v)
{
	struct inv_row *r = &c->inv->rows[i];
	unsigned char *img = NULL;
	const char *s;
	size_t len, skip, n;
	int slen, rc;

	s = json_object_get_string(v);
	if ((slen = json_object_get_string_len(v)) < 0 || s == NULL)
		return fail(c, HTTP_BAD_REQUEST, "row %zu: bad image", i);
	len = (size_t)slen;
	while (len > 0 && is_space((unsigned char)*s)) {
		s++;
		len--;
	}
	if ((skip = data_url_prefix(s, len)) == (size_t)-1)
		return fail(c, HTTP_BAD_REQUEST, "row %zu: image data URL is "
		    "not data:image/<type>;base64,", i);
	rc = base64_decode(s + skip, len - skip, &img, &n);
	if (rc == BASE64_NOMEM)
		return fail(c, HTTP_NOMEM, "out of memory");
	if (rc != BASE64_OK)
		return fail(c, HTTP_BAD_REQUEST,
		    "row %zu: image is not valid base64", i);
	if (n == 0) {
		free(img);
		return fail(c, HTTP_BAD_REQUEST, "row %zu: image is empty", i);
	}
	if (n > c->max_image) {
		free(img);
		return fail(c, HTTP_BAD_REQUEST, "row %zu: image of %zu bytes "
		    "exceeds the limit of %zu bytes", i, n, c->max_image);
	}
	r->image = img;
	r->image_len = n;
	r->kind = INV_IMAGE;
	return INV_OK;
}

/* Fill row I from its TEXT and IMAGE cells (NULL: absent). */
static int
row_set(struct inv_ctx *c, size_t i, struct json_object *text,
    struct json_object *image)
{
	/* json-c represents JSON null as NULL: absent, as wanted. */
	if (text != NULL && !json_object_is_type(text, json_type_string))
		return fail(c, HTTP_BAD_REQUEST,
		    "row %zu: text must be a string", i);
	if (image != NULL && !json_object_is_type(image, json_type_string))
		return fail(c, HTTP_BAD_REQUEST,
		    "row %zu: image must be a base64 string", i);
	if (text != NULL && image != NULL)
		return fail(c, HTTP_BAD_REQUEST,
		    "row %zu: a row has either text or image, not both", i);
	if (text != NULL)
		return row_text(c, i, text);
	if (image != NULL)
		return row_image(c, i, image);
	return fail(c, HTTP_BAD_REQUEST, "row %zu: a row needs text or image",
	    i);
}

/* Row I given as a record {"text": ...} or {"image": ...}. */
static int
record_row(struct inv_ctx *c, size_t i, struct json_object *rec)
{
	struct json_object *cell[3] = { NULL, NULL, NULL };
	char name[NAME_SHOWN + 4];
	int col;

	if (!json_object_is_type(rec, json_type_object))
		return fail(c, HTTP_BAD_REQUEST,
		    "row %zu: expected an object with text or image", i);
	json_object_object_foreach(rec, key, val) {
		if ((col = column_of(key)) == 0) {
			str_shown(key, strlen(key), NAME_SHOWN, name,
			    sizeof(name));
			return fail(c, HTTP_BAD_REQUEST, "row %zu: unknown "
			    "column \"%s\" (expected text or image)", i, name);
		}
		cell[col] = val;
	}
	return row_set(c, i, cell[INV_TEXT], cell[INV_IMAGE]);
}

/* A list of records, as dataframe_records or inputs/instances. */
static int
parse_records(struct inv_ctx *c, struct json_object *list)
{
	size_t i, n;

	n = json_object_array_length(list);
	if (rows_alloc(c, n) != INV_OK)
		return INV_ERROR;
	for (i = 0; i < n; i++)
		if (record_row(c, i, json_object_array_get_idx(list, i)) !=
		    INV_OK)
			return INV_ERROR;
	return INV_OK;
}

/* A list of strings, as inputs/instances: every row is a text. */
static int
parse_texts(struct inv_ctx *c, struct json_object *list)
{
	struct json_object *v;
	size_t i, n;

	n = json_object_array_length(list);
	if (rows_alloc(c, n) != INV_OK)
		return INV_ERROR;
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(list, i);
		if (!json_object_is_type(v, json_type_string))
			return fail(c, HTTP_BAD_REQUEST, "row %zu: expected a "
			    "string like the rows before it", i);
		if (row_text(c, i, v) != INV_OK)
			return INV_ERROR;
	}
	return INV_OK;
}

/*
 * The columns of dataframe_split: 1 or 2 distinct names out of text and
 * image.  COLS[j] gets the kind of column j.
 */
static int
split_columns(struct inv_ctx *c, struct json_object *list, int cols[2],
    size_t *ncols)
{
	struct json_object *v;
	char name[NAME_SHOWN + 4];
	size_t j, n;

	if (list == NULL || !json_object_is_type(list, json_type_array))
		return fail(c, HTTP_BAD_REQUEST,
		    "dataframe_split: columns must be a list of names");
	if ((n = json_object_array_length(list)) == 0)
		return fail(c, HTTP_BAD_REQUEST,
		    "dataframe_split: columns is empty");
	if (n > 2)
		return fail(c, HTTP_BAD_REQUEST, "dataframe_split: %zu columns,"
		    " expected text and/or image", n);
	for (j = 0; j < n; j++) {
		v = json_object_array_get_idx(list, j);
		if (!json_object_is_type(v, json_type_string))
			return fail(c, HTTP_BAD_REQUEST,
			    "dataframe_split: column %zu is not a name", j);
		if ((cols[j] = column_of(json_object_get_string(v))) == 0) {
			str_shown(json_object_get_string(v),
			    strlen(json_object_get_string(v)), NAME_SHOWN,
			    name, sizeof(name));
			return fail(c, HTTP_BAD_REQUEST, "dataframe_split: "
			    "unknown column \"%s\" (expected text or image)",
			    name);
		}
		if (j == 1 && cols[0] == cols[1])
			return fail(c, HTTP_BAD_REQUEST, "dataframe_split: "
			    "column %s given twice", column_name(cols[1]));
	}
	*ncols = n;
	return INV_OK;
}

/* {"columns": [...], "data": [[...], ...], "index": [...]} */
static int
parse_split(struct inv_ctx *c, struct json_object *obj)
{
	struct json_object *columns = NULL, *data = NULL, *index = NULL;
	struct json_object *row, *cell[3];
	char name[NAME_SHOWN + 4];
	size_t i, j, n, w, ncols = 0;
	int cols[2] = { 0, 0 };

	if (!json_object_is_type(obj, json_type_object))
		return fail(c, HTTP_BAD_REQUEST, "dataframe_split must be an "
		    "object with columns and data");
	json_object_object_foreach(obj, key, val) {
		if (strcmp(key, "columns") == 0)
			columns = val;
		else if (strcmp(key, "data") == 0)
			data = val;
		else if (strcmp(key, "index") == 0)
			index = val;
		else {
			str_shown(key, strlen(key), NAME_SHOWN, name,
			    sizeof(name));
			return fail(c, HTTP_BAD_REQUEST, "dataframe_split: "
			    "unexpected key \"%s\"", name);
		}
	}
	if (split_columns(c, columns, cols, &ncols) != INV_OK)
		return INV_ERROR;
	if (data == NULL || !json_object_is_type(data, json_type_array))
		return fail(c, HTTP_BAD_REQUEST,
		    "dataframe_split: data must be a list of rows");
	n = json_object_array_length(data);
	if (index != NULL) {
		if (!json_object_is_type(index, json_type_array))
			return fail(c, HTTP_BAD_REQUEST,
			    "dataframe_split: index must be a list");
		if (json_object_array_length(index) != n)
			return fail(c, HTTP_BAD_REQUEST, "dataframe_split: "
			    "index has %zu entries for %zu rows",
			    json_object_array_length(index), n);
	}
	if (rows_alloc(c, n) != INV_OK)
		return INV_ERROR;
	for (i = 0; i < n; i++) {
		row = json_object_array_get_idx(data, i);
		if (!json_object_is_type(row, json_type_array))
			return fail(c, HTTP_BAD_REQUEST,
			    "row %zu: expected a list of values", i);
		if ((w = json_object_array_length(row)) != ncols)
			return fail(c, HTTP_BAD_REQUEST, "row %zu: %zu values "
			    "for %zu columns", i, w, ncols);
		cell[INV_TEXT] = cell[INV_IMAGE] = NULL;
		for (j = 0; j < ncols; j++)
			cell[cols[j]] = json_object_array_get_idx(row, j);
		if (row_set(c, i, cell[INV_TEXT], cell[INV_IMAGE]) != INV_OK)
			return INV_ERROR;
	}
	return INV_OK;
}

/* {"text": [...], "image": [...]} in inputs/instances, named FMT. */
static int
parse_column_lists(struct inv_ctx *c, const char *fmt,
    struct json_object *obj)
{
	struct json_object *list[3] = { NULL, NULL, NULL }, *text, *image;
	char name[NAME_SHOWN + 4];
	size_t i, n = 0, len;
	int col, first = 0;

	json_object_object_foreach(obj, key, val) {
		if ((col = column_of(key)) == 0) {
			str_shown(key, strlen(key), NAME_SHOWN, name,
			    sizeof(name));
			return fail(c, HTTP_BAD_REQUEST, "%s: unknown column "
			    "\"%s\" (expected text or image)", fmt, name);
		}
		if (!json_object_is_type(val, json_type_array))
			return fail(c, HTTP_BAD_REQUEST,
			    "%s: column %s must be a list", fmt, key);
		len = json_object_array_length(val);
		if (first == 0) {
			first = col;
			n = len;
		} else if (len != n)
			return fail(c, HTTP_BAD_REQUEST, "%s: columns %s and "
			    "%s have different lengths (%zu and %zu)", fmt,
			    column_name(first), key, n, len);
		list[col] = val;
	}
	if (first == 0)
		return fail(c, HTTP_BAD_REQUEST,
		    "%s: no text or image column given", fmt);
	if (rows_alloc(c, n) != INV_OK)
		return INV_ERROR;
	for (i = 0; i < n; i++) {
		text = image = NULL;
		if (list[INV_TEXT] != NULL)
			text = json_object_array_get_idx(list[INV_TEXT], i);
		if (list[INV_IMAGE] != NULL)
			image = json_object_array_get_idx(list[INV_IMAGE], i);
		if (row_set(c, i, text, image) != INV_OK)
			return INV_ERROR;
	}
	return INV_OK;
}

/* inputs / instances (named FMT): records, columns or texts. */
static int
parse_tensor(struct inv_ctx *c, const char *fmt, struct json_object *v)
{
	struct json_object *first;

	if (json_object_is_type(v, json_type_object))
		return parse_column_lists(c, fmt, v);
	if (!json_object_is_type(v, json_type_array))
		return fail(c, HTTP_BAD_REQUEST, "%s must be a list of records "
		    "or strings, or an object of columns", fmt);
	if (json_object_array_length(v) == 0)
		return rows_alloc(c, 0);
	/* The first row says which of the two lists this is. */
	first = json_object_array_get_idx(v, 0);
	if (json_object_is_type(first, json_type_object))
		return parse_records(c, v);
	if (json_object_is_type(first, json_type_string))
		return parse_texts(c, v);
	return fail(c, HTTP_BAD_REQUEST,
	    "row 0: expected an object with text or image, or a string");
}

/* Parse BODY into *ROOT, which must be an object. */
static int
parse_json(struct inv_ctx *c, const char *body, size_t len,
    struct json_object **root)
{
	struct json_tokener *tok = NULL;
	enum json_tokener_error jerr;
	size_t end;
	int flags = JSON_TOKENER_STRICT, rc = INV_ERROR;

#ifdef JSON_TOKENER_VALIDATE_UTF8
	flags |= JSON_TOKENER_VALIDATE_UTF8;
#endif
	*root = NULL;
	if (len > INT_MAX)
		return fail(c, HTTP_TOO_LARGE, "body of %zu bytes is too large",
		    len);
	/* json-c stops at a NUL byte, which JSON never has outside \u0000. */
	if (memchr(body, '\0', len) != NULL)
		return fail(c, HTTP_BAD_REQUEST,
		    "body is not valid JSON: it contains a NUL byte");
	if ((tok = json_tokener_new_ex(INV_JSON_DEPTH)) == NULL)
		return fail(c, HTTP_NOMEM, "out of memory");
	json_tokener_set_flags(tok, flags);
	*root = json_tokener_parse_ex(tok, body, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (*root == NULL && jerr == json_tokener_continue) {
		/*
		 * All of BODY was taken and more is expected.  Only a
		 * top-level scalar ("42") ends at the end of the input:
		 * json-c learns of that from a NUL.
		 */
		*root = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
		if (jerr != json_tokener_success && jerr !=
		    json_tokener_error_depth) {
			fail(c, HTTP_BAD_REQUEST, "body is not valid JSON: %s",
			    len == 0 ? "it is empty" : "it ends too early");
			goto fail;
		}
	}
	if (jerr == json_tokener_error_depth) {
		fail(c, HTTP_BAD_REQUEST, "body is not valid JSON: nested "
		    "deeper than %d levels", INV_JSON_DEPTH);
		goto fail;
	}
	if (jerr != json_tokener_success) {
		fail(c, HTTP_BAD_REQUEST, "body is not valid JSON: %s at byte "
		    "%zu", json_tokener_error_desc(jerr), end);
		goto fail;
	}
	while (end < len && is_space((unsigned char)body[end]))
		end++;
	if (end != len) {
		fail(c, HTTP_BAD_REQUEST, "body is not valid JSON: "
		    "unexpected data at byte %zu", end);
		goto fail;
	}
	/* *root is NULL for a JSON null. */
	if (*root == NULL || !json_object_is_type(*root, json_type_object)) {
		fail(c, HTTP_BAD_REQUEST, "body must be a JSON object");
		goto fail;
	}
	rc = INV_OK;
	goto out;
fail:
	json_object_put(*root);
	*root = NULL;
out:
	json_tokener_free(tok);
	return rc;
}

int
invocation_parse(const char *body, size_t len, size_t max_rows,
    size_t max_text, size_t max_image, struct invocation *inv,
    int *status, char *msg, size_t msglen)
{
	struct inv_ctx c;
	struct json_object *root = NULL, *v, *val = NULL;
	const char *fmt = NULL;
	size_t k;
	int rc = INV_ERROR, ignored;

	memset(inv, 0, sizeof(*inv));
	memset(&c, 0, sizeof(c));
	c.inv = inv;
	c.max_rows = max_rows;
	c.max_text = max_text;
	c.max_image = max_image;
	c.status = status != NULL ? status : &ignored;
	c.msg = msg;
	c.msglen = msglen;
	if (msg != NULL && msglen > 0)
		msg[0] = '\0';

	if (parse_json(&c, body, len, &root) != INV_OK)
		goto fail;
	for (k = 0; k < NFORMATS; k++) {
		if (!json_object_object_get_ex(root, format_keys[k], &v))
			continue;
		if (fmt != NULL) {
			fail(&c, HTTP_BAD_REQUEST, "body has both %s and %s: "
			    "send exactly one format", fmt, format_keys[k]);
			goto fail;
		}
		fmt = format_keys[k];
		val = v;
	}
	if (fmt == NULL) {
		fail(&c, HTTP_BAD_REQUEST, "body needs one of dataframe_split, "
		    "dataframe_records, instances or inputs");
		goto fail;
	}
	if (strcmp(fmt, "dataframe_split") == 0)
		rc = parse_split(&c, val);
	else if (strcmp(fmt, "dataframe_records") == 0) {
		if (json_object_is_type(val, json_type_array))
			rc = parse_records(&c, val);
		else
			rc = fail(&c, HTTP_BAD_REQUEST,
			    "dataframe_records must be a list of records");
	} else
		rc = parse_tensor(&c, fmt, val);
	if (rc != INV_OK)
		goto fail;
	json_object_put(root);
	return INV_OK;
fail:
	json_object_put(root);
	invocation_free(inv);
	return INV_ERROR;
}

void
invocation_free(struct invocation *inv)
{
	size_t i;

	if (inv->rows != NULL)
		for (i = 0; i < inv->n; i++) {
			free(inv->rows[i].text);
			free(inv->rows[i].image);
		}
	free(inv->rows);
	inv->rows = NULL;
	inv->n = 0;
}
