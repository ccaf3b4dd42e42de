/*
 * csv.h - a small RFC 4180 reader over an in-memory buffer.
 *
 * Quoted fields may hold commas, newlines and "" (an escaped quote).  The
 * reader never guesses: it reports what it saw in csv_row.flags and the
 * caller decides whether such a row is acceptable.
 */
#ifndef FASHIONCTL_CSV_H
#define FASHIONCTL_CSV_H

#include <stddef.h>

#define CSV_ROW		 1	/* a row was read */
#define CSV_EOF		 0	/* no more rows */
#define CSV_NOMEM	-1	/* out of memory */

#define CSV_MAXFIELDS	32	/* fields kept per row; more are only counted */

/* csv_row.flags */
#define CSV_BAREQUOTE	0x01	/* '"' inside an unquoted field (kept literally) */
#define CSV_JUNK	0x02	/* text between a closing quote and the delimiter */
#define CSV_UNTERM	0x04	/* quoted field still open at end of input */

struct csv {
	const char	*data;		/* input, not owned */
	size_t		 len;
	size_t		 pos;		/* next byte to read */
	unsigned long	 line;		/* 1-based line of data[pos] */
	char		*scratch;	/* unescaped fields of the current row */
	size_t		 cap;
};

struct csv_row {
	size_t		 nfields;	/* fields in the row, may be > CSV_MAXFIELDS */
	char		*field[CSV_MAXFIELDS];	/* NUL-terminated, into csv.scratch */
	size_t		 flen[CSV_MAXFIELDS];	/* lengths (fields may hold NUL) */
	unsigned	 flags;		/* CSV_BAREQUOTE | CSV_JUNK | CSV_UNTERM */
	unsigned long	 line;		/* line the row starts on */
};

void	csv_init(struct csv *, const char *data, size_t len);
void	csv_free(struct csv *);

/*
 * Read the next row into ROW (valid until the next call).  Blank lines are
 * skipped.  Returns CSV_ROW, CSV_EOF or CSV_NOMEM.
 */
int	csv_next(struct csv *, struct csv_row *row);

/* Bytes consumed so far (for progress). */
size_t	csv_offset(const struct csv *);

#endif
