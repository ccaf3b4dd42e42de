/*
 * snapshot.h - the data of one fashion-vsd index: an immutable, versioned,
 * checksummed file of N rows, each with a primary key (int64), a float32
 * vector and the index's kept columns (text, integer or double, each value
 * possibly NULL).  The format is described in doc/VSD-FORMAT.md.
 *
 * Reading: snapshot_open() maps a file read-only (MAP_SHARED, so every
 * worker shares the pages), checks everything a reader relies on (magic,
 * version, sizes, offsets, CRC-32, finite vectors, sorted dictionaries) and
 * then never fails again: the accessors below are plain loads.  A mapping
 * stays valid when the file is replaced or removed, so a worker finishes its
 * queries on the snapshot it opened and opens the new one when it likes.
 *
 * Writing: a snapshot_writer streams vectors to PATH.tmp.<pid> as rows
 * arrive (only ids, norms and column values are kept in memory), then
 * finish writes the rest, fsyncs and renames over PATH, so a reader sees
 * either the old file or the new one, never a partial one.
 * snapshot_build() drives a writer from a PostgreSQL query.
 *
 * Files are little-endian and used in place: a big-endian host refuses
 * them (and refuses to write them).
 */
#ifndef VSD_SNAPSHOT_H
#define VSD_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#define SNAP_OK		 0
#define SNAP_ERROR	-1

/* Column types. */
#define SNAP_TEXT	1	/* text, varchar, bpchar, name: UTF-8, no NUL */
#define SNAP_INT	2	/* int2, int4, int8 */
#define SNAP_DOUBLE	3	/* float4, float8, numeric */

#define SNAP_DIM	512		/* what snapshot_build() accepts */
#define SNAP_MAX_DIM	65536
#define SNAP_MAX_COLS	64
#define SNAP_MAX_NAME	63		/* bytes of a column name (PostgreSQL's) */
#define SNAP_MAX_ROWS	(1u << 30)
#define SNAP_MAX_TEXT	(1u << 20)	/* bytes of one text value */

/* One kept column of an open snapshot (all pointers into the mapping). */
struct snap_col {
	const char	*name;		/* NUL-terminated */
	int		 type;		/* SNAP_TEXT, SNAP_INT or SNAP_DOUBLE */
	const uint64_t	*nulls;		/* bit r set: row r is NULL */
	const uint32_t	*sid;		/* SNAP_TEXT: [nrows] dictionary ids */
	const int64_t	*ival;		/* SNAP_INT: [nrows] (0 when NULL) */
	const double	*dval;		/* SNAP_DOUBLE: [nrows] finite (0 when NULL) */
	const uint32_t	*dict;		/* SNAP_TEXT: [ndict][2] pool offset,
					   length; sorted by bytes, distinct */
	uint32_t	 ndict;		/* SNAP_TEXT: distinct values */
};

struct snapshot {
	void		*map;		/* the whole file, PROT_READ */
	size_t		 size;
	size_t		 nrows;
	uint32_t	 dim;
	int		 ncols;
	uint64_t	 generation;	/* build time, microseconds since 1970 */
	uint64_t	 nskipped;	/* source rows left out (NULL vector) */
	const char	*pk_name;	/* primary key column, as built */
	const char	*vec_name;	/* vector column, as built */
	const int64_t	*ids;		/* [nrows] primary keys, distinct */
	const float	*vecs;		/* [nrows][dim], 64-byte aligned */
	const float	*norms;		/* [nrows] |v|^2, computed in double */
	float		 max_norm;	/* largest |v| (not squared) */
	const char	*pool;		/* names and text values, NUL-ended */
	size_t		 pool_size;
	struct snap_col	*cols;		/* [ncols], allocated */
};

/* A value: what snapshot_get() returns and snapshot_writer_add() takes. */
struct snap_value {
	int		 null;		/* 1: NULL, the rest is meaningless */
	int64_t		 i;		/* SNAP_INT */
	double		 d;		/* SNAP_DOUBLE; non-finite is NULL */
	const char	*s;		/* SNAP_TEXT: LEN bytes (NUL-terminated
					   when returned by snapshot_get) */
	size_t		 len;
};

/* Map and check PATH.  SNAP_OK, or SNAP_ERROR with the reason in ERR. */
int	snapshot_open(const char *path, struct snapshot *s, char *err,
	    size_t errlen);
void	snapshot_close(struct snapshot *s);	/* idempotent */

size_t		 snapshot_rows(const struct snapshot *);
uint32_t	 snapshot_dim(const struct snapshot *);
uint64_t	 snapshot_generation(const struct snapshot *);
int64_t		 snapshot_id(const struct snapshot *, size_t row);
const float	*snapshot_vector(const struct snapshot *, size_t row);
/* The row holding primary key ID, or -1.  A linear scan. */
long		 snapshot_find_id(const struct snapshot *, int64_t id);

int		 snapshot_ncols(const struct snapshot *);
/* Index of the column NAME (exact, case-sensitive), or -1. */
int		 snapshot_column(const struct snapshot *, const char *name);
const char	*snapshot_column_name(const struct snapshot *, int col);
int		 snapshot_column_type(const struct snapshot *, int col);

/* Value of (ROW, COL); ROW < nrows and COL < ncols are the caller's job. */
void		 snapshot_get(const struct snapshot *, size_t row, int col,
		    struct snap_value *out);
int		 snapshot_is_null(const struct snapshot *, size_t row, int col);
/* Text value (NUL-terminated, *LEN its length when LEN is not NULL), or
 * NULL when NULL or the column is not SNAP_TEXT. */
const char	*snapshot_text(const struct snapshot *, size_t row, int col,
		    size_t *len);

/* Dictionary of a SNAP_TEXT column: id of a value (binary search), or -1. */
long		 snapshot_dict_find(const struct snapshot *, int col,
		    const char *str, size_t len);
const char	*snapshot_dict_str(const struct snapshot *, int col,
		    uint32_t id, size_t *len);

/* Writing. */
struct snap_colspec {
	const char	*name;		/* 1..SNAP_MAX_NAME bytes, distinct */
	int		 type;
};

struct snap_spec {
	uint32_t			 dim;	/* 1..SNAP_MAX_DIM */
	const char			*pk_name;	/* recorded only */
	const char			*vec_name;	/* recorded only */
	const struct snap_colspec	*cols;
	int				 ncols;	/* 0..SNAP_MAX_COLS */
};

struct snapshot_writer;

/* Create PATH.tmp.<pid>.  SNAP_OK and *WP, or SNAP_ERROR and ERR. */
int	snapshot_writer_begin(const char *path, const struct snap_spec *spec,
	    struct snapshot_writer **wp, char *err, size_t errlen);
/*
 * Add a row: ID (distinct: checked at finish), VEC (dim floats, finite)
 * and VALS[ncols] in column order (text: valid UTF-8 without NUL, at most
 * SNAP_MAX_TEXT bytes).  SNAP_ERROR leaves the writer usable only for
 * snapshot_writer_abort().
 */
int	snapshot_writer_add(struct snapshot_writer *w, int64_t id,
	    const float *vec, const struct snap_value *vals, char *err,
	    size_t errlen);
/* Count a source row that was left out (recorded as nskipped). */
void	snapshot_writer_skip(struct snapshot_writer *w);
/*
 * Write the rest, fsync, rename over PATH, fsync the directory.  Frees W
 * whatever happens; on SNAP_ERROR the temporary file is gone and PATH is
 * untouched.
 */
int	snapshot_writer_finish(struct snapshot_writer *w, char *err,
	    size_t errlen);
void	snapshot_writer_abort(struct snapshot_writer *w);	/* NULL is ok */

/*
 * Run SELECT_SQL on CONN (idle, not in a failed transaction) in single-row
 * mode with binary results and write PATH from it.  PK names an int2/4/8
 * column (never NULL), VEC_COL a real[] or double precision[] column of
 * SNAP_DIM finite values without NULLs (a NULL array: the row is skipped);
 * COLS[NCOLS] the kept columns, typed from the result: text, varchar,
 * bpchar, name -> SNAP_TEXT; int2, int4, int8 -> SNAP_INT; float4, float8,
 * numeric -> SNAP_DOUBLE (NaN and infinities are stored as NULL).  Names
 * are matched exactly against the result's column names.  Rows keep the
 * query's order: add ORDER BY for a reproducible file.
 * SNAP_OK, or SNAP_ERROR with the reason in ERR (PATH untouched).
 */
int	snapshot_build(PGconn *conn, const char *select_sql, const char *pk,
	    const char *vec_col, const char *const *cols, int ncols,
	    const char *path, char *err, size_t errlen);

#endif
