/*
 * invocation.h - the body of POST /serving-endpoints/{name}/invocations,
 * in the Databricks Model Serving / MLflow pyfunc scoring formats, turned
 * into rows of text or image for the model.
 *
 * Accepted, with exactly one format key at the top (other keys, such as
 * "params", are ignored):
 *   {"dataframe_records": [{"text": "red dress"}, {"image": "<b64>"}]}
 *   {"dataframe_split": {"columns": ["text", "image"],
 *                        "data": [["red dress", null], [null, "<b64>"]],
 *                        "index": [0, 1]}}                 (index optional)
 *   {"inputs" or "instances": [{"text": ...}, ...]}        list of records
 *   {"inputs" or "instances": {"text": [...], "image": [...]}}  columns
 *   {"inputs" or "instances": ["red dress", ...]}          list of texts
 * The only columns are "text" and "image".  A row has exactly one of them as
 * a JSON string (null is absent).  Text: valid UTF-8 without NUL, not empty
 * once ASCII whitespace is trimmed, at most max_text bytes as sent.  Image:
 * base64 (see base64.h), optionally behind "data:image/<type>;base64,", at
 * most max_image bytes decoded, not empty; whether it is a JPEG or a PNG is
 * for image_prepare() to say.
 */
#ifndef CLIPD_INVOCATION_H
#define CLIPD_INVOCATION_H

#include <stddef.h>

#define INV_OK		 0
#define INV_ERROR	-1

/* Row kinds. */
#define INV_TEXT	1
#define INV_IMAGE	2

/* JSON nesting accepted (json-c counts every value, scalars included). */
#define INV_JSON_DEPTH	10

struct inv_row {
	int		 kind;		/* INV_TEXT or INV_IMAGE */
	char		*text;		/* INV_TEXT: trimmed, NUL-terminated */
	size_t		 text_len;	/* strlen(text) */
	unsigned char	*image;		/* INV_IMAGE: decoded bytes */
	size_t		 image_len;	/* > 0 */
};

struct invocation {
	struct inv_row	*rows;		/* n rows in request order */
	size_t		 n;		/* 1 .. max_rows after INV_OK */
};

/*
 * Parse BODY (LEN bytes, need not be NUL-terminated) into INV (overwritten,
 * not freed), which then owns every row's memory: see invocation_free().
 * Returns INV_OK, or INV_ERROR with *STATUS the HTTP status to answer (400
 * for anything the client sent wrong, 413 for a body json-c cannot take,
 * 500 when out of memory) and MSG (MSGLEN bytes, may be cut) saying what is
 * wrong, e.g. "row 3: image is not valid base64"; INV is then empty.
 */
int	invocation_parse(const char *body, size_t len, size_t max_rows,
	    size_t max_text, size_t max_image, struct invocation *inv,
	    int *status, char *msg, size_t msglen);

/* Free what INV holds and empty it; safe on an empty or failed one. */
void	invocation_free(struct invocation *inv);

#endif
