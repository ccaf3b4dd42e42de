/*
 * snapshot.c - see snapshot.h; the format is doc/VSD-FORMAT.md.
 *
 * Three parts: the reader (snapshot_open and the accessors), the writer
 * (snapshot_writer_*) and the PostgreSQL source (snapshot_build), which
 * only decodes rows for the writer.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <zlib.h>

#include "buf.h"
#include "snapshot.h"

#define MAGIC		"FVSDSNAP"
#define VERSION		1
#define HDR_SIZE	128
#define COL_SIZE	64	/* one column table entry */
#define ALIGN		64	/* every section starts on this */
#define MAX_FILE	((uint64_t)1 << 40)

/* Header fields (byte offsets). */
#define H_MAGIC		0
#define H_VERSION	8
#define H_HDRSIZE	12
#define H_NROWS		16
#define H_DIM		24
#define H_NCOLS		28
#define H_GENERATION	32
#define H_NSKIPPED	40
#define H_VECS		48
#define H_IDS		56
#define H_NORMS		64
#define H_COLTAB	72
#define H_POOL		80
#define H_POOLSIZE	88
#define H_PKNAME	96
#define H_VECNAME	100
#define H_FILESIZE	104
#define H_RESERVED	112

/* Column table entry fields. */
#define C_TYPE		0
#define C_NAME		4
#define C_NDICT		8
#define C_RESERVED0	12
#define C_NULLS		16
#define C_DATA		24
#define C_DICT		32
#define C_RESERVED	40

/* PostgreSQL type OIDs (catalog/pg_type.h, stable). */
#define OID_NAME	19
#define OID_INT8	20
#define OID_INT2	21
#define OID_INT4	23
#define OID_TEXT	25
#define OID_FLOAT4	700
#define OID_FLOAT8	701
#define OID_FLOAT4ARR	1021
#define OID_FLOAT8ARR	1022
#define OID_BPCHAR	1042
#define OID_VARCHAR	1043
#define OID_NUMERIC	1700

static int	seterr(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		if (vsnprintf(err, errlen, fmt, ap) < 0)
			err[0] = '\0';
		va_end(ap);
	}
	return SNAP_ERROR;
}

static int
host_is_big_endian(void)
{
	const uint16_t one = 1;

	return *(const unsigned char *)&one == 0;
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static void
put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* CRC-32 of any length (zlib takes uInt). */
static uLong
crc_update(uLong crc, const void *p, size_t n)
{
	const unsigned char *b = p;
	uInt chunk;

	while (n > 0) {
		chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
		crc = crc32(crc, b, chunk);
		b += chunk;
		n -= chunk;
	}
	return crc;
}

static uint64_t
round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* Byte order of dictionary values: memcmp, then the shorter first. */
static int
bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c;

	c = memcmp(a, b, alen < blen ? alen : blen);
	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* ----------------------------------------------------------------------
 * Reader
 */

/* [OFF, OFF+LEN) lies between the header and the CRC, OFF aligned. */
static int
section_ok(const struct snapshot *s, uint64_t off, uint64_t len)
{
	uint64_t end = s->size - 4;

	return off % ALIGN == 0 && off >= HDR_SIZE && off <= end &&
	    len <= end - off;
}

/* The NUL-terminated pool string at OFF with 1..MAXLEN bytes, or NULL. */
static const char *
pool_name(const struct snapshot *s, uint32_t off, size_t maxlen)
{
	const char *p, *nul;

	if (off >= s->pool_size)
		return NULL;
	p = s->pool + off;
	if ((nul = memchr(p, '\0', s->pool_size - off)) == NULL ||
	    nul == p || (size_t)(nul - p) > maxlen)
		return NULL;
	return p;
}

/* Any non-finite float among N (exponent bits all ones). */
static int
has_nonfinite(const float *v, size_t n)
{
	const uint32_t *u = (const uint32_t *)(const void *)v;
	uint32_t bad = 0;
	size_t i;

	for (i = 0; i < n; i++)
		bad |= ((u[i] & 0x7f800000u) == 0x7f800000u);
	return bad != 0;
}

static int
bind_column(struct snapshot *s, int k, char *err, size_t errlen)
{
	const unsigned char *e;
	struct snap_col *c = &s->cols[k];
	uint64_t nulls, data, dict, nwords, r, rem;
	const char *str, *prev = NULL;
	size_t prevlen = 0;
	uint32_t off, len, i;
	int j;

	e = (const unsigned char *)s->map + le64((const unsigned char *)s->map +
	    H_COLTAB) + (size_t)k * COL_SIZE;
	c->type = (int)le32(e + C_TYPE);
	if ((c->name = pool_name(s, le32(e + C_NAME), SNAP_MAX_NAME)) == NULL)
		return seterr(err, errlen, "column %d: bad name", k);
	for (j = 0; j < k; j++)
		if (strcmp(s->cols[j].name, c->name) == 0)
			return seterr(err, errlen, "column %s twice", c->name);
	if (le32(e + C_RESERVED0) != 0)
		goto bad;
	for (i = C_RESERVED; i < COL_SIZE; i++)
		if (e[i] != 0)
			goto bad;
	nulls = le64(e + C_NULLS);
	data = le64(e + C_DATA);
	dict = le64(e + C_DICT);
	nwords = ((uint64_t)s->nrows + 63) / 64;
	if (!section_ok(s, nulls, nwords * 8))
		goto bad;
	c->nulls = (const uint64_t *)(const void *)((const char *)s->map +
	    nulls);
	switch (c->type) {
	case SNAP_TEXT:
		c->ndict = le32(e + C_NDICT);
		if (c->ndict > s->nrows || !section_ok(s, data,
		    (uint64_t)s->nrows * 4) ||
		    !section_ok(s, dict, (uint64_t)c->ndict * 8))
			goto bad;
		c->sid = (const uint32_t *)(const void *)((const char *)s->map +
		    data);
		c->dict = (const uint32_t *)(const void *)((const char *)s->map
		    + dict);
		for (i = 0; i < c->ndict; i++) {
			off = c->dict[2 * i];
			len = c->dict[2 * i + 1];
			if (off >= s->pool_size || len >= s->pool_size - off)
				goto bad;
			str = s->pool + off;
			if (str[len] != '\0' || memchr(str, '\0', len) != NULL ||
			    !utf8_valid(str, len))
				goto bad;
			if (prev != NULL && bytes_cmp(prev, prevlen, str, len)
			    >= 0)
				return seterr(err, errlen, "column %s: "
				    "dictionary not sorted", c->name);
			prev = str;
			prevlen = len;
		}
		for (r = 0; r < s->nrows; r++)
			if (!(c->nulls[r / 64] >> (r % 64) & 1) &&
			    c->sid[r] >= c->ndict)
				goto bad;
		break;
	case SNAP_INT:
		if (le32(e + C_NDICT) != 0 || dict != 0 ||
		    !section_ok(s, data, (uint64_t)s->nrows * 8))
			goto bad;
		c->ival = (const int64_t *)(const void *)((const char *)s->map +
		    data);
		break;
	case SNAP_DOUBLE:
		if (le32(e + C_NDICT) != 0 || dict != 0 ||
		    !section_ok(s, data, (uint64_t)s->nrows * 8))
			goto bad;
		c->dval = (const double *)(const void *)((const char *)s->map +
		    data);
		for (r = 0; r < s->nrows; r++)
			if (!isfinite(c->dval[r]))
				goto bad;
		break;
	default:
		return seterr(err, errlen, "column %s: unknown type %d",
		    c->name, c->type);
	}
	/* Padding bits past nrows are zero. */
	rem = s->nrows % 64;
	if (rem != 0 && (c->nulls[nwords - 1] >> rem) != 0)
		goto bad;
	return SNAP_OK;
bad:
	return seterr(err, errlen, "column %s: bad layout", c->name != NULL ?
	    c->name : "?");
}

static int
check_header(struct snapshot *s, char *err, size_t errlen)
{
	const unsigned char *p = s->map;
	uint64_t nrows, vecs, ids, norms, coltab, pool, poolsize, i;
	uint32_t ncols;

	if (memcmp(p + H_MAGIC, MAGIC, 8) != 0)
		return seterr(err, errlen, "not a snapshot file");
	if (le32(p + H_VERSION) != VERSION || le32(p + H_HDRSIZE) != HDR_SIZE)
		return seterr(err, errlen, "snapshot version %u, this build "
		    "reads version %d", le32(p + H_VERSION), VERSION);
	if (le64(p + H_FILESIZE) != s->size)
		return seterr(err, errlen, "truncated or extended (header "
		    "says %" PRIu64 " bytes, file has %zu)",
		    le64(p + H_FILESIZE), s->size);
	if (crc_update(crc32(0L, Z_NULL, 0), p, s->size - 4) !=
	    le32(p + s->size - 4))
		return seterr(err, errlen, "checksum mismatch (damaged file)");
	for (i = H_RESERVED; i < HDR_SIZE; i++)
		if (p[i] != 0)
			return seterr(err, errlen, "bad header");
	nrows = le64(p + H_NROWS);
	s->dim = le32(p + H_DIM);
	ncols = le32(p + H_NCOLS);
	if (nrows > SNAP_MAX_ROWS || s->dim == 0 || s->dim > SNAP_MAX_DIM ||
	    ncols > SNAP_MAX_COLS)
		return seterr(err, errlen, "bad header (rows %" PRIu64
		    ", dim %u, columns %u)", nrows, s->dim, ncols);
	s->nrows = (size_t)nrows;
	s->ncols = (int)ncols;
	s->generation = le64(p + H_GENERATION);
	s->nskipped = le64(p + H_NSKIPPED);
	vecs = le64(p + H_VECS);
	ids = le64(p + H_IDS);
	norms = le64(p + H_NORMS);
	coltab = le64(p + H_COLTAB);
	pool = le64(p + H_POOL);
	poolsize = le64(p + H_POOLSIZE);
	if (!section_ok(s, vecs, nrows * s->dim * 4) ||
	    !section_ok(s, ids, nrows * 8) ||
	    !section_ok(s, norms, nrows * 4) ||
	    !section_ok(s, coltab, (uint64_t)ncols * COL_SIZE) ||
	    poolsize == 0 || poolsize > UINT32_MAX ||
	    !section_ok(s, pool, poolsize) ||
	    ((const char *)p)[pool + poolsize - 1] != '\0')
		return seterr(err, errlen, "bad header (sections)");
	s->vecs = (const float *)(const void *)(p + vecs);
	s->ids = (const int64_t *)(const void *)(p + ids);
	s->norms = (const float *)(const void *)(p + norms);
	s->pool = (const char *)p + pool;
	s->pool_size = (size_t)poolsize;
	if ((s->pk_name = pool_name(s, le32(p + H_PKNAME), SNAP_MAX_NAME)) ==
	    NULL || (s->vec_name = pool_name(s, le32(p + H_VECNAME),
	    SNAP_MAX_NAME)) == NULL)
		return seterr(err, errlen, "bad header (names)");
	return SNAP_OK;
}

int
snapshot_open(const char *path, struct snapshot *s, char *err, size_t errlen)
{
	struct stat sb;
	size_t r;
	double maxsq = 0;
	int fd, k;

	memset(s, 0, sizeof(*s));
	if (host_is_big_endian())
		return seterr(err, errlen, "%s: snapshots are little-endian",
		    path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return seterr(err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_size < HDR_SIZE + 4 || (uint64_t)sb.st_size > MAX_FILE) {
		close(fd);
		return seterr(err, errlen, "%s: not a snapshot file (size)",
		    path);
	}
	s->size = (size_t)sb.st_size;
	s->map = mmap(NULL, s->size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		return seterr(err, errlen, "mmap: %s: %s", path,
		    strerror(errno));
	}
	if (check_header(s, err, errlen) != SNAP_OK)
		goto fail;
	if (s->ncols > 0 && (s->cols = calloc((size_t)s->ncols,
	    sizeof(*s->cols))) == NULL) {
		seterr(err, errlen, "out of memory");
		goto fail;
	}
	for (k = 0; k < s->ncols; k++)
		if (bind_column(s, k, err, errlen) != SNAP_OK)
			goto fail;
	if (has_nonfinite(s->vecs, s->nrows * s->dim) ||
	    has_nonfinite(s->norms, s->nrows)) {
		seterr(err, errlen, "non-finite vector");
		goto fail;
	}
	for (r = 0; r < s->nrows; r++) {
		if (s->norms[r] < 0) {
			seterr(err, errlen, "negative norm");
			goto fail;
		}
		if (s->norms[r] > maxsq)
			maxsq = s->norms[r];
	}
	s->max_norm = (float)sqrt(maxsq);
	return SNAP_OK;
fail:
	/* Say which file, keeping the reason. */
	if (err != NULL && errlen > 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", err);
		seterr(err, errlen, "%s: %s", path, why);
	}
	snapshot_close(s);
	return SNAP_ERROR;
}

void
snapshot_close(struct snapshot *s)
{
	if (s->map != NULL)
		munmap(s->map, s->size);
	free(s->cols);
	memset(s, 0, sizeof(*s));
}

size_t
snapshot_rows(const struct snapshot *s)
{
	return s->nrows;
}

uint32_t
snapshot_dim(const struct snapshot *s)
{
	return s->dim;
}

uint64_t
snapshot_generation(const struct snapshot *s)
{
	return s->generation;
}

int64_t
snapshot_id(const struct snapshot *s, size_t row)
{
	return s->ids[row];
}

const float *
snapshot_vector(const struct snapshot *s, size_t row)
{
	return s->vecs + row * s->dim;
}

long
snapshot_find_id(const struct snapshot *s, int64_t id)
{
	size_t r;

	for (r = 0; r < s->nrows; r++)
		if (s->ids[r] == id)
			return (long)r;
	return -1;
}

int
snapshot_ncols(const struct snapshot *s)
{
	return s->ncols;
}

int
snapshot_column(const struct snapshot *s, const char *name)
{
	int k;

	for (k = 0; k < s->ncols; k++)
		if (strcmp(s->cols[k].name, name) == 0)
			return k;
	return -1;
}

const char *
snapshot_column_name(const struct snapshot *s, int col)
{
	return s->cols[col].name;
}

int
snapshot_column_type(const struct snapshot *s, int col)
{
	return s->cols[col].type;
}

int
snapshot_is_null(const struct snapshot *s, size_t row, int col)
{
	return (int)(s->cols[col].nulls[row / 64] >> (row % 64) & 1);
}

const char *
snapshot_dict_str(const struct snapshot *s, int col, uint32_t id,
    size_t *len)
{
	const struct snap_col *c = &s->cols[col];

	if (c->type != SNAP_TEXT || id >= c->ndict)
		return NULL;
	if (len != NULL)
		*len = c->dict[2 * id + 1];
	return s->pool + c->dict[2 * id];
}

long
snapshot_dict_find(const struct snapshot *s, int col, const char *str,
    size_t len)
{
	const struct snap_col *c = &s->cols[col];
	size_t lo = 0, hi, mid;
	int cmp;

	if (c->type != SNAP_TEXT)
		return -1;
	hi = c->ndict;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		cmp = bytes_cmp(s->pool + c->dict[2 * mid], c->dict[2 * mid + 1],
		    str, len);
		if (cmp == 0)
			return (long)mid;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

const char *
snapshot_text(const struct snapshot *s, size_t row, int col, size_t *len)
{
	const struct snap_col *c = &s->cols[col];

	if (c->type != SNAP_TEXT || snapshot_is_null(s, row, col))
		return NULL;
	return snapshot_dict_str(s, col, c->sid[row], len);
}

void
snapshot_get(const struct snapshot *s, size_t row, int col,
    struct snap_value *out)
{
	const struct snap_col *c = &s->cols[col];

	memset(out, 0, sizeof(*out));
	if (snapshot_is_null(s, row, col)) {
		out->null = 1;
		return;
	}
	switch (c->type) {
	case SNAP_TEXT:
		out->s = snapshot_dict_str(s, col, c->sid[row], &out->len);
		break;
	case SNAP_INT:
		out->i = c->ival[row];
		break;
	case SNAP_DOUBLE:
		out->d = c->dval[row];
		break;
	}
}

/* ----------------------------------------------------------------------
 * Writer
 */

/* One kept column while writing. */
struct wcol {
	char		 name[SNAP_MAX_NAME + 1];
	int		 type;
	uint64_t	*nulls;		/* [(cap + 63) / 64] */
	uint32_t	*sid;		/* SNAP_TEXT: first-seen ids until finish */
	int64_t		*ival;
	double		*dval;
	/* SNAP_TEXT interning: the distinct values in first-seen order. */
	struct buf	 strs;		/* each value followed by a NUL */
	uint64_t	*soff;		/* [ndict] offset in strs */
	uint32_t	*slen;		/* [ndict] */
	uint32_t	 ndict, dcap;
	uint32_t	*htab;		/* [hcap] id + 1, 0 empty */
	size_t		 hcap;		/* power of two, > 2 * ndict */
};

struct snapshot_writer {
	char		*path;
	char		*tmp;		/* path.tmp.<pid> */
	FILE		*fp;
	uint32_t	 dim;
	char		 pk_name[SNAP_MAX_NAME + 1];
	char		 vec_name[SNAP_MAX_NAME + 1];
	int		 ncols;
	struct wcol	*cols;
	int64_t		*ids;		/* [cap] */
	float		*norms;		/* [cap] */
	size_t		 n, cap;	/* rows added, room for */
	uint64_t	 nskipped;
	uint64_t	 off;		/* bytes written */
	uLong		 crc;		/* of bytes HDR_SIZE..off */
	uint64_t	 generation;
};

/* Append N bytes to the file, updating the offset and the CRC. */
static int
wput(struct snapshot_writer *w, const void *p, size_t n)
{
	if (n == 0)
		return SNAP_OK;
	if (fwrite(p, 1, n, w->fp) != n)
		return SNAP_ERROR;
	if (w->off >= HDR_SIZE)
		w->crc = crc_update(w->crc, p, n);
	w->off += n;
	return SNAP_OK;
}

/* Zeros up to the next multiple of ALIGN. */
static int
wpad(struct snapshot_writer *w)
{
	static const unsigned char zero[ALIGN];

	return wput(w, zero, (size_t)(round_up(w->off, ALIGN) - w->off));
}

static uint32_t
hash_bytes(const char *s, size_t n)
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static int
intern_grow(struct wcol *c)
{
	uint32_t *nt, id, h;
	size_t ncap, i;

	ncap = c->hcap ? c->hcap * 2 : 1024;
	if ((nt = calloc(ncap, sizeof(*nt))) == NULL)
		return SNAP_ERROR;
	for (id = 0; id < c->ndict; id++) {
		h = hash_bytes(c->strs.data + c->soff[id], c->slen[id]);
		for (i = h & (ncap - 1); nt[i] != 0; i = (i + 1) & (ncap - 1))
			;
		nt[i] = id + 1;
	}
	free(c->htab);
	c->htab = nt;
	c->hcap = ncap;
	return SNAP_OK;
}

/* The first-seen id of S[0..LEN), adding it when new; -1 out of memory. */
static long
intern(struct wcol *c, const char *s, size_t len)
{
	uint32_t h, id, *p32;
	uint64_t *p64;
	size_t i;

	if ((size_t)c->ndict * 2 >= c->hcap && intern_grow(c) != SNAP_OK)
		return -1;
	h = hash_bytes(s, len);
	for (i = h & (c->hcap - 1); c->htab[i] != 0;
	    i = (i + 1) & (c->hcap - 1)) {
		id = c->htab[i] - 1;
		if (c->slen[id] == len &&
		    memcmp(c->strs.data + c->soff[id], s, len) == 0)
			return id;
	}
	if (c->ndict == c->dcap) {
		if (c->dcap > UINT32_MAX / 2 - 1)
			return -1;
		c->dcap = c->dcap ? c->dcap * 2 : 256;
		if ((p64 = reallocarray(c->soff, c->dcap, sizeof(*p64))) ==
		    NULL)
			return -1;
		c->soff = p64;
		if ((p32 = reallocarray(c->slen, c->dcap, sizeof(*p32))) ==
		    NULL)
			return -1;
		c->slen = p32;
	}
	c->soff[c->ndict] = c->strs.len;
	c->slen[c->ndict] = (uint32_t)len;
	buf_add(&c->strs, s, len);
	buf_add(&c->strs, "", 1);
	if (buf_failed(&c->strs))
		return -1;
	c->htab[i] = c->ndict + 1;
	return c->ndict++;
}

static void
wcol_free(struct wcol *c)
{
	free(c->nulls);
	free(c->sid);
	free(c->ival);
	free(c->dval);
	buf_free(&c->strs);
	free(c->soff);
	free(c->slen);
	free(c->htab);
}

void
snapshot_writer_abort(struct snapshot_writer *w)
{
	int k;

	if (w == NULL)
		return;
	if (w->fp != NULL)
		fclose(w->fp);
	if (w->tmp != NULL)
		unlink(w->tmp);
	for (k = 0; k < w->ncols; k++)
		wcol_free(&w->cols[k]);
	free(w->cols);
	free(w->ids);
	free(w->norms);
	free(w->path);
	free(w->tmp);
	free(w);
}

static int
name_ok(const char *name)
{
	size_t n;

	return name != NULL && (n = strlen(name)) > 0 && n <= SNAP_MAX_NAME &&
	    utf8_valid(name, n);
}

int
snapshot_writer_begin(const char *path, const struct snap_spec *spec,
    struct snapshot_writer **wp, char *err, size_t errlen)
{
	static const unsigned char zero[HDR_SIZE];
	struct snapshot_writer *w = NULL;
	struct timeval tv;
	int k, j, n, fd = -1;

	*wp = NULL;
	if (host_is_big_endian())
		return seterr(err, errlen, "snapshots are little-endian");
	if (spec->dim == 0 || spec->dim > SNAP_MAX_DIM || spec->ncols < 0 ||
	    spec->ncols > SNAP_MAX_COLS)
		return seterr(err, errlen, "bad snapshot spec (dim %u, %d "
		    "columns)", spec->dim, spec->ncols);
	if (!name_ok(spec->pk_name) || !name_ok(spec->vec_name))
		return seterr(err, errlen, "bad key or vector column name");
	for (k = 0; k < spec->ncols; k++) {
		if (!name_ok(spec->cols[k].name))
			return seterr(err, errlen, "column %d: bad name", k);
		if (spec->cols[k].type != SNAP_TEXT &&
		    spec->cols[k].type != SNAP_INT &&
		    spec->cols[k].type != SNAP_DOUBLE)
			return seterr(err, errlen, "column %s: bad type %d",
			    spec->cols[k].name, spec->cols[k].type);
		for (j = 0; j < k; j++)
			if (strcmp(spec->cols[j].name, spec->cols[k].name) == 0)
				return seterr(err, errlen, "column %s named "
				    "twice", spec->cols[k].name);
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		goto nomem;
	w->dim = spec->dim;
	snprintf(w->pk_name, sizeof(w->pk_name), "%s", spec->pk_name);
	snprintf(w->vec_name, sizeof(w->vec_name), "%s", spec->vec_name);
	if (spec->ncols > 0 && (w->cols = calloc((size_t)spec->ncols,
	    sizeof(*w->cols))) == NULL)
		goto nomem;
	w->ncols = spec->ncols;
	for (k = 0; k < w->ncols; k++) {
		snprintf(w->cols[k].name, sizeof(w->cols[k].name), "%s",
		    spec->cols[k].name);
		w->cols[k].type = spec->cols[k].type;
		buf_init(&w->cols[k].strs);
	}
	if ((w->path = strdup(path)) == NULL)
		goto nomem;
	n = snprintf(NULL, 0, "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (w->tmp = malloc((size_t)n + 1)) == NULL)
		goto nomem;
	snprintf(w->tmp, (size_t)n + 1, "%s.tmp.%ld", path, (long)getpid());
	if ((fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		seterr(err, errlen, "%s: %s", w->tmp, strerror(errno));
		free(w->tmp);
		w->tmp = NULL;	/* not ours to unlink */
		goto fail;
	}
	if ((w->fp = fdopen(fd, "wb")) == NULL) {
		seterr(err, errlen, "fdopen: %s", strerror(errno));
		close(fd);
		goto fail;
	}
	gettimeofday(&tv, NULL);
	w->generation = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
	w->crc = crc32(0L, Z_NULL, 0);
	/* The header is written last; vectors follow it at once. */
	if (wput(w, zero, sizeof(zero)) != SNAP_OK) {
		seterr(err, errlen, "%s: %s", w->tmp, strerror(errno));
		goto fail;
	}
	*wp = w;
	return SNAP_OK;
nomem:
	seterr(err, errlen, "out of memory");
fail:
	snapshot_writer_abort(w);
	return SNAP_ERROR;
}

/* Room for one more row in every per-row array. */
static int
grow_rows(struct snapshot_writer *w)
{
	size_t ncap, words;
	struct wcol *c;
	void *p;
	int k;

	if (w->n < w->cap)
		return SNAP_OK;
	ncap = w->cap ? w->cap * 2 : 1024;
	if (ncap > SNAP_MAX_ROWS)
		ncap = SNAP_MAX_ROWS;
	if ((p = reallocarray(w->ids, ncap, sizeof(*w->ids))) == NULL)
		return SNAP_ERROR;
	w->ids = p;
	if ((p = reallocarray(w->norms, ncap, sizeof(*w->norms))) == NULL)
		return SNAP_ERROR;
	w->norms = p;
	words = (ncap + 63) / 64;
	for (k = 0; k < w->ncols; k++) {
		c = &w->cols[k];
		if ((p = reallocarray(c->nulls, words, 8)) == NULL)
			return SNAP_ERROR;
		c->nulls = p;
		memset(c->nulls + (w->cap + 63) / 64, 0,
		    (words - (w->cap + 63) / 64) * 8);
		switch (c->type) {
		case SNAP_TEXT:
			if ((p = reallocarray(c->sid, ncap, 4)) == NULL)
				return SNAP_ERROR;
			c->sid = p;
			break;
		case SNAP_INT:
			if ((p = reallocarray(c->ival, ncap, 8)) == NULL)
				return SNAP_ERROR;
			c->ival = p;
			break;
		case SNAP_DOUBLE:
			if ((p = reallocarray(c->dval, ncap, 8)) == NULL)
				return SNAP_ERROR;
			c->dval = p;
			break;
		}
	}
	w->cap = ncap;
	return SNAP_OK;
}

int
snapshot_writer_add(struct snapshot_writer *w, int64_t id, const float *vec,
    const struct snap_value *vals, char *err, size_t errlen)
{
	const struct snap_value *v;
	struct wcol *c;
	double ss = 0;
	size_t r = w->n;
	uint32_t d;
	long sid;
	int k, null;

	if (w->n >= SNAP_MAX_ROWS)
		return seterr(err, errlen, "more than %u rows", SNAP_MAX_ROWS);
	if (has_nonfinite(vec, w->dim))
		return seterr(err, errlen, "id %" PRId64 ": vector has a "
		    "non-finite value", id);
	for (d = 0; d < w->dim; d++)
		ss += (double)vec[d] * vec[d];
	if (!isfinite((float)ss))
		return seterr(err, errlen, "id %" PRId64 ": vector norm "
		    "overflows", id);
	for (k = 0; k < w->ncols; k++) {
		v = &vals[k];
		if (v->null || w->cols[k].type != SNAP_TEXT || v->len == 0)
			continue;
		if (v->len > SNAP_MAX_TEXT || v->s == NULL ||
		    memchr(v->s, '\0', v->len) != NULL ||
		    !utf8_valid(v->s, v->len))
			return seterr(err, errlen, "id %" PRId64 ": column %s "
			    "is not valid UTF-8 text of at most %u bytes", id,
			    w->cols[k].name, SNAP_MAX_TEXT);
	}
	if (grow_rows(w) != SNAP_OK)
		return seterr(err, errlen, "out of memory");
	for (k = 0; k < w->ncols; k++) {
		c = &w->cols[k];
		v = &vals[k];
		null = v->null || (c->type == SNAP_DOUBLE && !isfinite(v->d));
		if (null)
			c->nulls[r / 64] |= (uint64_t)1 << (r % 64);
		switch (c->type) {
		case SNAP_TEXT:
			sid = 0;
			if (!null && (sid = intern(c, v->len ? v->s : "",
			    v->len)) < 0)
				return seterr(err, errlen, "out of memory");
			c->sid[r] = (uint32_t)sid;
			break;
		case SNAP_INT:
			c->ival[r] = null ? 0 : v->i;
			break;
		case SNAP_DOUBLE:
			c->dval[r] = null ? 0 : v->d;
			break;
		}
	}
	if (wput(w, vec, (size_t)w->dim * sizeof(float)) != SNAP_OK)
		return seterr(err, errlen, "%s: %s", w->tmp, strerror(errno));
	w->ids[r] = id;
	w->norms[r] = (float)ss;
	w->n++;
	return SNAP_OK;
}

void
snapshot_writer_skip(struct snapshot_writer *w)
{
	w->nskipped++;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* A dictionary entry being sorted. */
struct dent {
	const char	*s;
	uint32_t	 len;
	uint32_t	 old;	/* first-seen id */
};

static int
cmp_dent(const void *a, const void *b)
{
	const struct dent *x = a, *y = b;

	return bytes_cmp(x->s, x->len, y->s, y->len);
}

/*
 * Sort C's dictionary, renumber its rows, append its values to POOL and
 * leave its [ndict][2] pool offset/length table in *DICTP.
 */
static int
finish_dict(struct snapshot_writer *w, struct wcol *c, struct buf *pool,
    uint32_t **dictp)
{
	struct dent *e = NULL;
	uint32_t *remap = NULL, *dict = NULL, i;
	size_t r;
	int rc = SNAP_ERROR;

	*dictp = NULL;
	if (c->ndict > 0 && ((e = calloc(c->ndict, sizeof(*e))) == NULL ||
	    (remap = calloc(c->ndict, sizeof(*remap))) == NULL ||
	    (dict = calloc(c->ndict, 2 * sizeof(*dict))) == NULL))
		goto out;
	for (i = 0; i < c->ndict; i++) {
		e[i].s = c->strs.data + c->soff[i];
		e[i].len = c->slen[i];
		e[i].old = i;
	}
	if (c->ndict > 1)
		qsort(e, c->ndict, sizeof(*e), cmp_dent);
	for (i = 0; i < c->ndict; i++) {
		remap[e[i].old] = i;
		if (pool->len > UINT32_MAX - e[i].len - 1)
			goto out;
		dict[2 * i] = (uint32_t)pool->len;
		dict[2 * i + 1] = e[i].len;
		buf_add(pool, e[i].s, e[i].len);
		buf_add(pool, "", 1);
	}
	if (buf_failed(pool))
		goto out;
	for (r = 0; r < w->n; r++)
		if (!(c->nulls[r / 64] >> (r % 64) & 1))
			c->sid[r] = remap[c->sid[r]];
		else
			c->sid[r] = 0;
	*dictp = dict;
	dict = NULL;
	rc = SNAP_OK;
out:
	free(e);
	free(remap);
	free(dict);
	return rc;
}

/* Append NAME to POOL; its offset, or -1. */
static long
pool_add(struct buf *pool, const char *name)
{
	size_t off = pool->len;

	buf_add(pool, name, strlen(name) + 1);
	if (buf_failed(pool) || pool->len > UINT32_MAX)
		return -1;
	return (long)off;
}

static int
fsync_dir(const char *path)
{
	char *dir, *slash;
	int fd, rc = SNAP_ERROR;

	if ((dir = malloc(strlen(path) + 2)) == NULL)
		return SNAP_ERROR;
	memcpy(dir, path, strlen(path) + 1);
	if ((slash = strrchr(dir, '/')) == NULL)
		memcpy(dir, ".", 2);
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		if (fsync(fd) == 0 || errno == EINVAL)
			rc = SNAP_OK;
		close(fd);
	}
	free(dir);
	return rc;
}

int
snapshot_writer_finish(struct snapshot_writer *w, char *err, size_t errlen)
{
	unsigned char hdr[HDR_SIZE], ent[COL_SIZE], tail[4];
	struct buf pool;
	int64_t *sorted = NULL;
	uint32_t **dicts = NULL;
	uint64_t *nulls_off = NULL, *data_off = NULL, *dict_off = NULL;
	uint64_t ids_off, norms_off, pool_off, coltab_off, body_len;
	long pk_name, vec_name, *name_off = NULL;
	struct wcol *c;
	size_t i, words = (w->n + 63) / 64;
	uLong crc;
	int k, fd;

	buf_init(&pool);
	/* Distinct primary keys. */
	if (w->n > 0) {
		if ((sorted = calloc(w->n, sizeof(*sorted))) == NULL)
			goto nomem;
		memcpy(sorted, w->ids, w->n * sizeof(*sorted));
		qsort(sorted, w->n, sizeof(*sorted), cmp_i64);
		for (i = 1; i < w->n; i++)
			if (sorted[i] == sorted[i - 1]) {
				seterr(err, errlen, "duplicate primary key %"
				    PRId64, sorted[i]);
				goto fail;
			}
	}
	/* The pool: names, then each text column's sorted values. */
	if ((pk_name = pool_add(&pool, w->pk_name)) < 0 ||
	    (vec_name = pool_add(&pool, w->vec_name)) < 0)
		goto nomem;
	if (w->ncols > 0 &&
	    ((dicts = calloc((size_t)w->ncols, sizeof(*dicts))) == NULL ||
	    (name_off = calloc((size_t)w->ncols, sizeof(*name_off))) == NULL ||
	    (nulls_off = calloc((size_t)w->ncols, 8)) == NULL ||
	    (data_off = calloc((size_t)w->ncols, 8)) == NULL ||
	    (dict_off = calloc((size_t)w->ncols, 8)) == NULL))
		goto nomem;
	for (k = 0; k < w->ncols; k++)
		if ((name_off[k] = pool_add(&pool, w->cols[k].name)) < 0)
			goto nomem;
	for (k = 0; k < w->ncols; k++)
		if (w->cols[k].type == SNAP_TEXT &&
		    finish_dict(w, &w->cols[k], &pool, &dicts[k]) != SNAP_OK) {
			seterr(err, errlen, "out of memory or string pool "
			    "over 4 GiB");
			goto fail;
		}

	/* Sections after the vectors. */
	if (wpad(w) != SNAP_OK)
		goto ioerr;
	ids_off = w->off;
	if (wput(w, w->ids, w->n * 8) != SNAP_OK || wpad(w) != SNAP_OK)
		goto ioerr;
	norms_off = w->off;
	if (wput(w, w->norms, w->n * 4) != SNAP_OK || wpad(w) != SNAP_OK)
		goto ioerr;
	for (k = 0; k < w->ncols; k++) {
		c = &w->cols[k];
		nulls_off[k] = w->off;
		if (wput(w, c->nulls, words * 8) != SNAP_OK ||
		    wpad(w) != SNAP_OK)
			goto ioerr;
		data_off[k] = w->off;
		switch (c->type) {
		case SNAP_TEXT:
			if (wput(w, c->sid, w->n * 4) != SNAP_OK ||
			    wpad(w) != SNAP_OK)
				goto ioerr;
			dict_off[k] = w->off;
			if (wput(w, dicts[k], (size_t)c->ndict * 8) !=
			    SNAP_OK || wpad(w) != SNAP_OK)
				goto ioerr;
			break;
		case SNAP_INT:
			if (wput(w, c->ival, w->n * 8) != SNAP_OK ||
			    wpad(w) != SNAP_OK)
				goto ioerr;
			break;
		case SNAP_DOUBLE:
			if (wput(w, c->dval, w->n * 8) != SNAP_OK ||
			    wpad(w) != SNAP_OK)
				goto ioerr;
			break;
		}
	}
	pool_off = w->off;
	if (wput(w, pool.data, pool.len) != SNAP_OK || wpad(w) != SNAP_OK)
		goto ioerr;
	coltab_off = w->off;
	for (k = 0; k < w->ncols; k++) {
		c = &w->cols[k];
		memset(ent, 0, sizeof(ent));
		put32(ent + C_TYPE, (uint32_t)c->type);
		put32(ent + C_NAME, (uint32_t)name_off[k]);
		put32(ent + C_NDICT, c->type == SNAP_TEXT ? c->ndict : 0);
		put64(ent + C_NULLS, nulls_off[k]);
		put64(ent + C_DATA, data_off[k]);
		put64(ent + C_DICT, dict_off[k]);
		if (wput(w, ent, sizeof(ent)) != SNAP_OK)
			goto ioerr;
	}

	/* The header, then the CRC of everything before the CRC. */
	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr + H_MAGIC, MAGIC, 8);
	put32(hdr + H_VERSION, VERSION);
	put32(hdr + H_HDRSIZE, HDR_SIZE);
	put64(hdr + H_NROWS, w->n);
	put32(hdr + H_DIM, w->dim);
	put32(hdr + H_NCOLS, (uint32_t)w->ncols);
	put64(hdr + H_GENERATION, w->generation);
	put64(hdr + H_NSKIPPED, w->nskipped);
	put64(hdr + H_VECS, HDR_SIZE);
	put64(hdr + H_IDS, ids_off);
	put64(hdr + H_NORMS, norms_off);
	put64(hdr + H_COLTAB, coltab_off);
	put64(hdr + H_POOL, pool_off);
	put64(hdr + H_POOLSIZE, pool.len);
	put32(hdr + H_PKNAME, (uint32_t)pk_name);
	put32(hdr + H_VECNAME, (uint32_t)vec_name);
	put64(hdr + H_FILESIZE, w->off + 4);
	body_len = w->off - HDR_SIZE;
	crc = crc_update(crc32(0L, Z_NULL, 0), hdr, HDR_SIZE);
	crc = crc32_combine64(crc, w->crc, (z_off64_t)body_len);
	put32(tail, (uint32_t)crc);
	if (fwrite(tail, 1, 4, w->fp) != 4 ||
	    fseeko(w->fp, 0, SEEK_SET) != 0 ||
	    fwrite(hdr, 1, HDR_SIZE, w->fp) != HDR_SIZE ||
	    fflush(w->fp) != 0)
		goto ioerr;
	fd = fileno(w->fp);
	if (fsync(fd) != 0)
		goto ioerr;
	if (fclose(w->fp) != 0) {
		w->fp = NULL;
		goto ioerr;
	}
	w->fp = NULL;
	if (rename(w->tmp, w->path) != 0) {
		seterr(err, errlen, "rename %s: %s", w->path, strerror(errno));
		goto fail;
	}
	free(w->tmp);
	w->tmp = NULL;		/* nothing to unlink any more */
	/*
	 * Best effort: the new file is in place and readers see it; only
	 * its survival of a crash right now depends on this.
	 */
	(void)fsync_dir(w->path);
	for (k = 0; k < w->ncols; k++)
		free(dicts != NULL ? dicts[k] : NULL);
	free(dicts);
	free(name_off);
	free(nulls_off);
	free(data_off);
	free(dict_off);
	free(sorted);
	buf_free(&pool);
	snapshot_writer_abort(w);
	return SNAP_OK;
ioerr:
	seterr(err, errlen, "%s: %s", w->tmp, strerror(errno));
	goto fail;
nomem:
	seterr(err, errlen, "out of memory");
fail:
	for (k = 0; dicts != NULL && k < w->ncols; k++)
		free(dicts[k]);
	free(dicts);
	free(name_off);
	free(nulls_off);
	free(data_off);
	free(dict_off);
	free(sorted);
	buf_free(&pool);
	snapshot_writer_abort(w);
	return SNAP_ERROR;
}

/* ----------------------------------------------------------------------
 * PostgreSQL source
 */

/* Decoded binary values: big-endian on the wire. */
static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t
be64(const unsigned char *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static double
be_float8(const unsigned char *p)
{
	uint64_t u = be64(p);
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

static float
be_float4(const unsigned char *p)
{
	uint32_t u = be32(p);
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

/* An int2/4/8 of LEN bytes at P into *OUT. */
static int
pg_int(Oid type, const unsigned char *p, int len, int64_t *out)
{
	switch (type) {
	case OID_INT2:
		if (len != 2)
			return SNAP_ERROR;
		*out = (int16_t)((uint16_t)p[0] << 8 | p[1]);
		return SNAP_OK;
	case OID_INT4:
		if (len != 4)
			return SNAP_ERROR;
		*out = (int32_t)be32(p);
		return SNAP_OK;
	case OID_INT8:
		if (len != 8)
			return SNAP_ERROR;
		*out = (int64_t)be64(p);
		return SNAP_OK;
	}
	return SNAP_ERROR;
}

/*
 * A numeric in binary form (ndigits, weight, sign, dscale, then base-10000
 * digits, all int16) into *OUT, correctly rounded through strtod.  NaN and
 * infinities give a non-finite double (stored as NULL).
 */
static int
pg_numeric(const unsigned char *p, int len, double *out)
{
	struct buf b;
	uint16_t ndigits, sign, dig;
	int16_t weight;
	int i, rc = SNAP_ERROR;
	char *end;

	if (len < 8)
		return SNAP_ERROR;
	ndigits = (uint16_t)(p[0] << 8 | p[1]);
	weight = (int16_t)(p[2] << 8 | p[3]);
	sign = (uint16_t)(p[4] << 8 | p[5]);
	if (len != 8 + 2 * ndigits)
		return SNAP_ERROR;
	switch (sign) {
	case 0xc000:
		*out = NAN;
		return SNAP_OK;
	case 0xd000:
		*out = INFINITY;
		return SNAP_OK;
	case 0xf000:
		*out = -INFINITY;
		return SNAP_OK;
	case 0x0000:
	case 0x4000:
		break;
	default:
		return SNAP_ERROR;
	}
	if (ndigits == 0) {
		*out = 0;
		return SNAP_OK;
	}
	/* 0.DDDD DDDD ... e(4 * (weight + 1)) */
	buf_init(&b);
	buf_puts(&b, sign == 0x4000 ? "-0." : "0.");
	for (i = 0; i < ndigits; i++) {
		dig = (uint16_t)(p[8 + 2 * i] << 8 | p[9 + 2 * i]);
		if (dig > 9999)
			goto out;
		buf_printf(&b, "%04u", dig);
	}
	buf_printf(&b, "e%d", 4 * (weight + 1));
	if (buf_failed(&b))
		goto out;
	errno = 0;
	*out = strtod(b.data, &end);
	if (*end == '\0')
		rc = SNAP_OK;	/* overflow gives inf: NULL, as said */
out:
	buf_free(&b);
	return rc;
}

/*
 * A one-dimensional float4[] or float8[] of DIM elements, no NULLs, in
 * binary form into VEC.  SNAP_OK, or SNAP_ERROR with a reason in WHY.
 */
static int
pg_vector(const unsigned char *p, int len, uint32_t dim, float *vec,
    const char **why)
{
	uint32_t ndim, elem, n, i;
	int32_t elen;
	size_t off, need;

	*why = "malformed array";
	if (len < 12)
		return SNAP_ERROR;
	ndim = be32(p);
	elem = be32(p + 8);
	if (ndim == 0) {
		*why = "empty array";
		return SNAP_ERROR;
	}
	if (ndim != 1) {
		*why = "not a one-dimensional array";
		return SNAP_ERROR;
	}
	if (len < 20)
		return SNAP_ERROR;
	n = be32(p + 12);
	if (n != dim) {
		*why = "wrong dimension";
		return SNAP_ERROR;
	}
	if (elem != OID_FLOAT4 && elem != OID_FLOAT8) {
		*why = "not an array of real or double precision";
		return SNAP_ERROR;
	}
	need = elem == OID_FLOAT4 ? 4 : 8;
	off = 20;
	for (i = 0; i < n; i++) {
		if ((size_t)len - off < 4)
			return SNAP_ERROR;
		elen = (int32_t)be32(p + off);
		off += 4;
		if (elen == -1) {
			*why = "array has a NULL element";
			return SNAP_ERROR;
		}
		if ((size_t)elen != need || (size_t)len - off < need)
			return SNAP_ERROR;
		vec[i] = elem == OID_FLOAT4 ? be_float4(p + off) :
		    (float)be_float8(p + off);
		off += need;
	}
	if (off != (size_t)len)
		return SNAP_ERROR;
	if (has_nonfinite(vec, dim)) {
		*why = "non-finite value";
		return SNAP_ERROR;
	}
	return SNAP_OK;
}

/* The result column named exactly NAME, or -1. */
static int
field_of(const PGresult *r, const char *name)
{
	int i, n = PQnfields(r);
	const char *f;

	for (i = 0; i < n; i++)
		if ((f = PQfname(r, i)) != NULL && strcmp(f, name) == 0)
			return i;
	return -1;
}

static int
snap_type_of(Oid t)
{
	switch (t) {
	case OID_TEXT:
	case OID_VARCHAR:
	case OID_BPCHAR:
	case OID_NAME:
		return SNAP_TEXT;
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
		return SNAP_INT;
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_NUMERIC:
		return SNAP_DOUBLE;
	}
	return 0;
}

/* One snapshot_build() run. */
struct build {
	PGconn			*conn;
	const char		*path;
	const char		*pk, *vec_col;
	const char *const	*cols;
	int			 ncols;
	struct snapshot_writer	*w;
	int			 pkf, vecf;	/* result column numbers */
	int			 fld[SNAP_MAX_COLS];
	Oid			 oid[SNAP_MAX_COLS];
	float			 vec[SNAP_DIM];
	struct snap_value	 vals[SNAP_MAX_COLS];
};

/* Learn the columns from the first result and start the writer. */
static int
build_start(struct build *b, const PGresult *r, char *err, size_t errlen)
{
	struct snap_colspec spec[SNAP_MAX_COLS];
	struct snap_spec ss;
	Oid t;
	int k;

	if ((b->pkf = field_of(r, b->pk)) < 0)
		return seterr(err, errlen, "query has no column %s (primary "
		    "key)", b->pk);
	t = PQftype(r, b->pkf);
	if (t != OID_INT2 && t != OID_INT4 && t != OID_INT8)
		return seterr(err, errlen, "primary key %s is not an integer "
		    "column (type oid %u)", b->pk, (unsigned)t);
	if ((b->vecf = field_of(r, b->vec_col)) < 0)
		return seterr(err, errlen, "query has no column %s (vector)",
		    b->vec_col);
	t = PQftype(r, b->vecf);
	if (t != OID_FLOAT4ARR && t != OID_FLOAT8ARR)
		return seterr(err, errlen, "vector column %s is not real[] "
		    "or double precision[] (type oid %u)", b->vec_col,
		    (unsigned)t);
	for (k = 0; k < b->ncols; k++) {
		if ((b->fld[k] = field_of(r, b->cols[k])) < 0)
			return seterr(err, errlen, "query has no column %s",
			    b->cols[k]);
		b->oid[k] = PQftype(r, b->fld[k]);
		if ((spec[k].type = snap_type_of(b->oid[k])) == 0)
			return seterr(err, errlen, "column %s has a type "
			    "that cannot be kept (oid %u): use text, integer "
			    "or numeric", b->cols[k], (unsigned)b->oid[k]);
		spec[k].name = b->cols[k];
	}
	memset(&ss, 0, sizeof(ss));
	ss.dim = SNAP_DIM;
	ss.pk_name = b->pk;
	ss.vec_name = b->vec_col;
	ss.cols = spec;
	ss.ncols = b->ncols;
	return snapshot_writer_begin(b->path, &ss, &b->w, err, errlen);
}

static int
build_row(struct build *b, const PGresult *r, char *err, size_t errlen)
{
	const unsigned char *p;
	struct snap_value *v;
	const char *why;
	int64_t id;
	float f;
	int k, len;

	if (PQgetisnull(r, 0, b->pkf))
		return seterr(err, errlen, "primary key %s is NULL", b->pk);
	if (pg_int(PQftype(r, b->pkf), (const unsigned char *)PQgetvalue(r, 0,
	    b->pkf), PQgetlength(r, 0, b->pkf), &id) != SNAP_OK)
		return seterr(err, errlen, "primary key %s: bad value",
		    b->pk);
	if (PQgetisnull(r, 0, b->vecf)) {
		snapshot_writer_skip(b->w);
		return SNAP_OK;
	}
	if (pg_vector((const unsigned char *)PQgetvalue(r, 0, b->vecf),
	    PQgetlength(r, 0, b->vecf), SNAP_DIM, b->vec, &why) != SNAP_OK)
		return seterr(err, errlen, "id %" PRId64 ": %s: %s (want %d "
		    "finite values)", id, b->vec_col, why, SNAP_DIM);
	for (k = 0; k < b->ncols; k++) {
		v = &b->vals[k];
		memset(v, 0, sizeof(*v));
		if (PQgetisnull(r, 0, b->fld[k])) {
			v->null = 1;
			continue;
		}
		p = (const unsigned char *)PQgetvalue(r, 0, b->fld[k]);
		len = PQgetlength(r, 0, b->fld[k]);
		switch (b->oid[k]) {
		case OID_TEXT:
		case OID_VARCHAR:
		case OID_BPCHAR:
		case OID_NAME:
			v->s = (const char *)p;
			v->len = (size_t)len;
			if (b->oid[k] == OID_NAME)	/* NUL-padded */
				v->len = strnlen(v->s, v->len);
			break;
		case OID_INT2:
		case OID_INT4:
		case OID_INT8:
			if (pg_int(b->oid[k], p, len, &v->i) != SNAP_OK)
				goto bad;
			break;
		case OID_FLOAT4:
			if (len != 4)
				goto bad;
			f = be_float4(p);
			v->d = f;
			break;
		case OID_FLOAT8:
			if (len != 8)
				goto bad;
			v->d = be_float8(p);
			break;
		case OID_NUMERIC:
			if (pg_numeric(p, len, &v->d) != SNAP_OK)
				goto bad;
			break;
		default:
			goto bad;
		}
	}
	return snapshot_writer_add(b->w, id, b->vec, b->vals, err, errlen);
bad:
	return seterr(err, errlen, "id %" PRId64 ": column %s: bad value", id,
	    b->cols[k]);
}

/*
 * Read what is left so CONN is idle again, first asking the server to stop
 * when rows are still coming.
 */
static void
drain(PGconn *conn, int streaming)
{
	PGcancel *cancel;
	PGresult *r;
	char buf[256];

	if (streaming && (cancel = PQgetCancel(conn)) != NULL) {
		(void)PQcancel(cancel, buf, sizeof(buf));
		PQfreeCancel(cancel);
	}
	while ((r = PQgetResult(conn)) != NULL)
		PQclear(r);
}

int
snapshot_build(PGconn *conn, const char *select_sql, const char *pk,
    const char *vec_col, const char *const *cols, int ncols,
    const char *path, char *err, size_t errlen)
{
	struct build *b;
	PGresult *r = NULL;
	ExecStatusType st;
	char msg[512];
	int k, j, rc = SNAP_ERROR, busy = 0, streaming = 0;

	if (ncols < 0 || ncols > SNAP_MAX_COLS)
		return seterr(err, errlen, "%d columns (at most %d)", ncols,
		    SNAP_MAX_COLS);
	for (k = 0; k < ncols; k++)
		for (j = 0; j < k; j++)
			if (strcmp(cols[j], cols[k]) == 0)
				return seterr(err, errlen, "column %s named "
				    "twice", cols[k]);
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return seterr(err, errlen, "out of memory");
	b->conn = conn;
	b->path = path;
	b->pk = pk;
	b->vec_col = vec_col;
	b->cols = cols;
	b->ncols = ncols;
	if (!PQsendQueryParams(conn, select_sql, 0, NULL, NULL, NULL, NULL,
	    1)) {
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(conn));
		msg[strcspn(msg, "\n")] = '\0';
		seterr(err, errlen, "query: %s", msg);
		goto out;
	}
	busy = 1;
	if (!PQsetSingleRowMode(conn)) {
		seterr(err, errlen, "cannot use single-row mode");
		goto out;
	}
	while ((r = PQgetResult(conn)) != NULL) {
		st = PQresultStatus(r);
		if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK) {
			const char *m;

			if ((m = PQresultErrorField(r,
			    PG_DIAG_MESSAGE_PRIMARY)) == NULL)
				m = PQresultErrorMessage(r);
			snprintf(msg, sizeof(msg), "%s", m);
			msg[strcspn(msg, "\n")] = '\0';
			seterr(err, errlen, "query: %s", msg[0] ? msg :
			    PQresStatus(st));
			goto out;
		}
		if (b->w == NULL && build_start(b, r, err, errlen) != SNAP_OK)
			goto out;
		streaming = st == PGRES_SINGLE_TUPLE;
		if (streaming && build_row(b, r, err, errlen) != SNAP_OK)
			goto out;
		PQclear(r);
		r = NULL;
	}
	busy = 0;
	if (b->w == NULL) {
		seterr(err, errlen, "query returned no result");
		goto out;
	}
	rc = snapshot_writer_finish(b->w, err, errlen);
	b->w = NULL;
out:
	PQclear(r);
	if (busy)
		drain(conn, streaming);
	snapshot_writer_abort(b->w);
	free(b);
	return rc;
}
