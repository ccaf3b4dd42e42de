/* csv.c - see csv.h */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

void
csv_init(struct csv *c, const char *data, size_t len)
{
	memset(c, 0, sizeof(*c));
	c->data = data;
	c->len = len;
	c->line = 1;
}

void
csv_free(struct csv *c)
{
	free(c->scratch);
	c->scratch = NULL;
	c->cap = 0;
}

size_t
csv_offset(const struct csv *c)
{
	return c->pos;
}

/* Make room for one more byte at *used in the scratch buffer. */
static int
scratch_put(struct csv *c, size_t *used, char ch)
{
	char *p;
	size_t ncap;

	if (*used == c->cap) {
		if (c->cap > SIZE_MAX / 2)
			return CSV_NOMEM;
		ncap = c->cap ? c->cap * 2 : 1024;
		if ((p = realloc(c->scratch, ncap)) == NULL)
			return CSV_NOMEM;
		c->scratch = p;
		c->cap = ncap;
	}
	c->scratch[(*used)++] = ch;
	return 0;
}

/* At data[pos]: is this the end of a line ("\n" or "\r\n")? Its length. */
static size_t
eol_len(const struct csv *c, size_t pos)
{
	if (pos < c->len && c->data[pos] == '\n')
		return 1;
	if (pos + 1 < c->len && c->data[pos] == '\r' && c->data[pos + 1] == '\n')
		return 2;
	return 0;
}

int
csv_next(struct csv *c, struct csv_row *row)
{
	size_t offs[CSV_MAXFIELDS];
	size_t used = 0, start, n, i;
	int quoted, closed;
	char ch;

	memset(row, 0, sizeof(*row));

	/* Skip blank lines. */
	while ((n = eol_len(c, c->pos)) != 0) {
		c->pos += n;
		c->line++;
	}
	if (c->pos >= c->len)
		return CSV_EOF;
	row->line = c->line;

	for (;;) {			/* one field per iteration */
		start = used;
		quoted = closed = 0;
		if (c->pos < c->len && c->data[c->pos] == '"') {
			quoted = 1;
			c->pos++;
		}
		for (;;) {		/* one byte per iteration */
			if (c->pos >= c->len) {
				if (quoted && !closed)
					row->flags |= CSV_UNTERM;
				break;
			}
			ch = c->data[c->pos];
			if (quoted && !closed) {
				c->pos++;
				if (ch == '"') {
					if (c->pos < c->len && c->data[c->pos] == '"') {
						c->pos++;	/* "" */
					} else {
						closed = 1;
						continue;
					}
				} else if (ch == '\n')
					c->line++;
				if (scratch_put(c, &used, ch) != 0)
					return CSV_NOMEM;
				continue;
			}
			if (ch == ',' || eol_len(c, c->pos) != 0)
				break;
			if (closed)
				row->flags |= CSV_JUNK;
			else if (ch == '"')
				row->flags |= CSV_BAREQUOTE;
			c->pos++;
			if (scratch_put(c, &used, ch) != 0)
				return CSV_NOMEM;
		}
		if (row->nfields < CSV_MAXFIELDS) {
			offs[row->nfields] = start;
			row->flen[row->nfields] = used - start;
		}
		row->nfields++;
		if (scratch_put(c, &used, '\0') != 0)
			return CSV_NOMEM;

		if (c->pos < c->len && c->data[c->pos] == ',') {
			c->pos++;
			continue;
		}
		if ((n = eol_len(c, c->pos)) != 0) {
			c->pos += n;
			c->line++;
		}
		break;			/* end of line or of input */
	}
	for (i = 0; i < row->nfields && i < CSV_MAXFIELDS; i++)
		row->field[i] = c->scratch + offs[i];
	return CSV_ROW;
}
