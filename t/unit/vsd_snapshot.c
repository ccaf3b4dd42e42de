/*
 * vsd_snapshot.c - the fashion-vsd snapshot file (src/vsd/snapshot.c)
 * through its writer, with synthetic rows: every accessor, NULLs, the
 * dictionaries, refused rows, damaged files (CRC, truncation, bad layout
 * behind a valid CRC), and the atomic replace a reader relies on.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "vsd/snapshot.h"
#include "tap.h"

#define DIM	24
#define NROWS	300

static char dir[256], path[300];
static char err[512];

static const char *const colours[] = {
	"Black", "Blue", "Navy Blue", "Red", "White", "Off White", "Grey",
	"Ros\xc3\xa9", ""	/* UTF-8, and an empty string */
};
#define NCOLOURS	(sizeof(colours) / sizeof(colours[0]))

static const struct snap_colspec cols[] = {
	{ "base_color", SNAP_TEXT },
	{ "year", SNAP_INT },
	{ "price", SNAP_DOUBLE },
	{ "product_display_name", SNAP_TEXT },
};
#define NCOLS	4

/* Row R of the synthetic data set, generation G (changes every value). */
static void
row(int r, int g, int64_t *id, float *vec, struct snap_value *v,
    char *name, size_t namelen)
{
	int d;

	*id = 1000 + 7 * (int64_t)r + g;
	for (d = 0; d < DIM; d++)
		vec[d] = (float)sin(0.1 * (r + 1) * (d + 1) + g);
	memset(v, 0, NCOLS * sizeof(*v));
	v[0].null = r % 10 == 3;
	v[0].s = colours[(r + g) % NCOLOURS];
	v[0].len = strlen(v[0].s);
	v[1].null = r % 17 == 5;
	v[1].i = r == 0 ? INT64_MIN : r == 1 ? INT64_MAX : 2000 + r % 19;
	v[2].null = r % 13 == 2;
	v[2].d = r == 4 ? NAN : r == 6 ? INFINITY : 9.99 + r * 0.25 + g;
	snprintf(name, namelen, "Item %d of generation %d", r, g);
	v[3].s = name;
	v[3].len = strlen(name);
}

static int
write_set(const char *p, int g, int nrows, char *e, size_t elen)
{
	struct snapshot_writer *w;
	struct snap_spec spec = { DIM, "product_id", "embedding", cols,
	    NCOLS };
	struct snap_value v[NCOLS];
	char name[64];
	float vec[DIM];
	int64_t id;
	int r;

	if (snapshot_writer_begin(p, &spec, &w, e, elen) != SNAP_OK)
		return SNAP_ERROR;
	for (r = 0; r < nrows; r++) {
		row(r, g, &id, vec, v, name, sizeof(name));
		if (snapshot_writer_add(w, id, vec, v, e, elen) != SNAP_OK) {
			snapshot_writer_abort(w);
			return SNAP_ERROR;
		}
	}
	snapshot_writer_skip(w);
	snapshot_writer_skip(w);
	return snapshot_writer_finish(w, e, elen);
}

/* Every value of S equals generation G's. */
static int
matches_set(const struct snapshot *s, int g, int nrows)
{
	struct snap_value want[NCOLS], got;
	char name[64];
	float vec[DIM];
	int64_t id;
	int r, k;

	if ((int)snapshot_rows(s) != nrows || snapshot_dim(s) != DIM)
		return 0;
	for (r = 0; r < nrows; r++) {
		row(r, g, &id, vec, want, name, sizeof(name));
		if (snapshot_id(s, (size_t)r) != id ||
		    memcmp(snapshot_vector(s, (size_t)r), vec, sizeof(vec)) !=
		    0)
			return 0;
		for (k = 0; k < NCOLS; k++) {
			snapshot_get(s, (size_t)r, k, &got);
			if (k == 2 && !isfinite(want[k].d))
				want[k].null = 1;
			if (got.null != want[k].null ||
			    snapshot_is_null(s, (size_t)r, k) != got.null) {
				printf("# row %d col %d: null %d, want %d\n",
				    r, k, got.null, want[k].null);
				return 0;
			}
			if (got.null)
				continue;
			if ((cols[k].type == SNAP_TEXT &&
			    (got.len != want[k].len ||
			    memcmp(got.s, want[k].s, got.len) != 0 ||
			    got.s[got.len] != '\0')) ||
			    (cols[k].type == SNAP_INT && got.i != want[k].i) ||
			    (cols[k].type == SNAP_DOUBLE && got.d != want[k].d)) {
				printf("# row %d col %d differs\n", r, k);
				return 0;
			}
		}
	}
	return 1;
}

static double
sqnorm(const float *v)
{
	double ss = 0;
	int d;

	for (d = 0; d < DIM; d++)
		ss += (double)v[d] * v[d];
	return ss;
}

static size_t
file_size(const char *p)
{
	struct stat sb;

	return stat(p, &sb) == 0 ? (size_t)sb.st_size : 0;
}

static unsigned char *
slurp(const char *p, size_t *n)
{
	unsigned char *b;
	FILE *f;

	*n = file_size(p);
	if ((f = fopen(p, "rb")) == NULL || (b = malloc(*n + 1)) == NULL)
		return NULL;
	if (fread(b, 1, *n, f) != *n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	return b;
}

static int
spit(const char *p, const unsigned char *b, size_t n)
{
	FILE *f;
	int ok;

	if ((f = fopen(p, "wb")) == NULL)
		return 0;
	ok = fwrite(b, 1, n, f) == n;
	return fclose(f) == 0 && ok;
}

static uint64_t
rd64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void
wr32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = v >> 24;
}

/* Recompute the trailing CRC, so only the layout checks can object. */
static void
reseal(unsigned char *b, size_t n)
{
	wr32(b + n - 4, (uint32_t)crc32(0L, b, (uInt)(n - 4)));
}

/* Open of P fails and ERR mentions WANT. */
static int
refused(const char *p, const char *want)
{
	struct snapshot s;

	if (snapshot_open(p, &s, err, sizeof(err)) == SNAP_OK) {
		snapshot_close(&s);
		printf("# opened, wanted \"%s\"\n", want);
		return 0;
	}
	if (strstr(err, want) == NULL) {
		printf("# error \"%s\", wanted \"%s\"\n", err, want);
		return 0;
	}
	return s.map == NULL && s.cols == NULL;
}

static int
opens(const char *p)
{
	struct snapshot s;

	if (snapshot_open(p, &s, err, sizeof(err)) != SNAP_OK) {
		printf("# %s\n", err);
		return 0;
	}
	snapshot_close(&s);
	return 1;
}

/* Temporary files left in DIR. */
static int
stray_files(void)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".tmp.") != NULL) {
			printf("# stray %s\n", de->d_name);
			n++;
		}
	closedir(d);
	return n;
}

static void
test_roundtrip(void)
{
	struct snapshot s;
	size_t len, i;
	const char *str, *prev = NULL;
	long id;
	int k;

	err[0] = '\0';
	ok(write_set(path, 0, NROWS, err, sizeof(err)) == SNAP_OK,
	    "write %d rows x %d dims, 4 columns %s", NROWS, DIM, err);
	ok(snapshot_open(path, &s, err, sizeof(err)) == SNAP_OK, "open %s",
	    err);
	ok(snapshot_rows(&s) == NROWS && snapshot_dim(&s) == DIM &&
	    snapshot_ncols(&s) == NCOLS, "rows, dim, columns");
	ok(snapshot_generation(&s) > 1600000000000000ull,
	    "generation is a build time in microseconds (%" PRIu64 ")",
	    snapshot_generation(&s));
	ok(s.nskipped == 2, "two skipped rows recorded");
	ok(strcmp(s.pk_name, "product_id") == 0 &&
	    strcmp(s.vec_name, "embedding") == 0, "key and vector names");
	ok(((uintptr_t)s.vecs & 63) == 0, "vectors are 64-byte aligned");
	ok(matches_set(&s, 0, NROWS), "every id, vector and value read back");
	for (k = 0; k < NCOLS; k++)
		ok(snapshot_column(&s, cols[k].name) == k &&
		    snapshot_column_type(&s, k) == cols[k].type &&
		    strcmp(snapshot_column_name(&s, k), cols[k].name) == 0,
		    "column %s: index, type, name", cols[k].name);
	ok(snapshot_column(&s, "Base_Color") == -1 &&
	    snapshot_column(&s, "") == -1, "column lookup is exact");
	ok(s.cols[0].ndict == NCOLOURS, "text column: %zu distinct values "
	    "(got %u)", NCOLOURS, s.cols[0].ndict);
	for (i = 0; i < s.cols[0].ndict; i++) {
		str = snapshot_dict_str(&s, 0, (uint32_t)i, &len);
		if (prev != NULL && strcmp(prev, str) >= 0)
			break;
		prev = str;
	}
	ok(i == s.cols[0].ndict, "dictionary sorted by bytes");
	id = snapshot_dict_find(&s, 0, "Navy Blue", 9);
	str = id >= 0 ? snapshot_dict_str(&s, 0, (uint32_t)id, &len) : NULL;
	ok(str != NULL && len == 9 && strcmp(str, "Navy Blue") == 0,
	    "dictionary lookup");
	ok(snapshot_dict_find(&s, 0, "Navy", 4) == -1 &&
	    snapshot_dict_find(&s, 0, "navy blue", 9) == -1 &&
	    snapshot_dict_find(&s, 1, "2001", 4) == -1,
	    "lookup misses: prefix, case, non-text column");
	ok(snapshot_dict_find(&s, 0, "", 0) >= 0, "empty string is a value");
	ok(snapshot_dict_find(&s, 0, "Ros\xc3\xa9", 5) >= 0, "UTF-8 value");
	ok(snapshot_text(&s, 3, 0, NULL) == NULL && snapshot_is_null(&s, 3, 0),
	    "NULL text: snapshot_text gives NULL");
	ok(snapshot_text(&s, 0, 1, NULL) == NULL, "snapshot_text of an int "
	    "column gives NULL");
	str = snapshot_text(&s, 7, 3, &len);
	ok(str != NULL && strcmp(str, "Item 7 of generation 0") == 0 &&
	    len == strlen(str), "snapshot_text");
	ok(snapshot_find_id(&s, 1000 + 7 * 123) == 123 &&
	    snapshot_find_id(&s, 1) == -1, "find by primary key");
	ok(s.cols[1].ival[0] == INT64_MIN && s.cols[1].ival[1] == INT64_MAX,
	    "int64 extremes kept");
	ok(snapshot_is_null(&s, 4, 2) && snapshot_is_null(&s, 6, 2),
	    "NaN and infinity stored as NULL");
	ok(s.norms[10] == (float)sqnorm(snapshot_vector(&s, 10)),
	    "stored |v|^2, computed in double");
	snapshot_close(&s);
	snapshot_close(&s);
	ok(s.map == NULL, "close twice is harmless");
	ok(stray_files() == 0, "no temporary file left");
}

static void
test_empty(void)
{
	char p[320];
	struct snapshot s;

	snprintf(p, sizeof(p), "%s/empty.snap", dir);
	ok(write_set(p, 0, 0, err, sizeof(err)) == SNAP_OK, "zero rows %s",
	    err);
	ok(snapshot_open(p, &s, err, sizeof(err)) == SNAP_OK &&
	    snapshot_rows(&s) == 0 && snapshot_ncols(&s) == NCOLS &&
	    s.cols[0].ndict == 0, "open an empty snapshot %s", err);
	snapshot_close(&s);
}

static void
test_writer_refuses(void)
{
	struct snapshot_writer *w;
	struct snap_spec spec = { DIM, "id", "v", cols, NCOLS };
	struct snap_colspec dup[2] = { { "a", SNAP_INT }, { "a", SNAP_TEXT } };
	struct snap_value v[NCOLS];
	char p[320], name[64];
	float vec[DIM];
	int64_t id;

	snprintf(p, sizeof(p), "%s/refused.snap", dir);
	spec.dim = 0;
	ok(snapshot_writer_begin(p, &spec, &w, err, sizeof(err)) ==
	    SNAP_ERROR && w == NULL, "dim 0 refused");
	spec.dim = DIM;
	spec.cols = dup;
	spec.ncols = 2;
	ok(snapshot_writer_begin(p, &spec, &w, err, sizeof(err)) ==
	    SNAP_ERROR && strstr(err, "twice") != NULL,
	    "a column named twice refused");
	spec.cols = cols;
	spec.ncols = NCOLS;
	spec.pk_name = "";
	ok(snapshot_writer_begin(p, &spec, &w, err, sizeof(err)) ==
	    SNAP_ERROR, "empty key name refused");
	spec.pk_name = "id";

	ok(snapshot_writer_begin(p, &spec, &w, err, sizeof(err)) == SNAP_OK,
	    "begin");
	row(1, 0, &id, vec, v, name, sizeof(name));
	vec[5] = NAN;
	ok(snapshot_writer_add(w, id, vec, v, err, sizeof(err)) == SNAP_ERROR
	    && strstr(err, "non-finite") != NULL, "NaN in a vector refused");
	vec[5] = INFINITY;
	ok(snapshot_writer_add(w, id, vec, v, err, sizeof(err)) == SNAP_ERROR,
	    "infinity in a vector refused");
	vec[5] = 3e38f;
	vec[6] = 3e38f;
	ok(snapshot_writer_add(w, id, vec, v, err, sizeof(err)) == SNAP_ERROR
	    && strstr(err, "overflow") != NULL, "|v|^2 beyond float refused");
	row(1, 0, &id, vec, v, name, sizeof(name));
	v[3].s = "bad \xff byte";
	v[3].len = strlen(v[3].s);
	ok(snapshot_writer_add(w, id, vec, v, err, sizeof(err)) == SNAP_ERROR
	    && strstr(err, "product_display_name") != NULL,
	    "invalid UTF-8 refused, naming the column");
	v[3].s = "nul\0inside";
	v[3].len = 10;
	ok(snapshot_writer_add(w, id, vec, v, err, sizeof(err)) == SNAP_ERROR,
	    "NUL inside text refused");
	snapshot_writer_abort(w);
	ok(stray_files() == 0 && file_size(p) == 0, "abort leaves nothing");

	/* Duplicate keys: found at finish, the old file stays. */
	ok(write_set(p, 5, 10, err, sizeof(err)) == SNAP_OK, "write a file");
	ok(snapshot_writer_begin(p, &spec, &w, err, sizeof(err)) == SNAP_OK,
	    "begin over it");
	row(1, 0, &id, vec, v, name, sizeof(name));
	ok(snapshot_writer_add(w, 42, vec, v, err, sizeof(err)) == SNAP_OK &&
	    snapshot_writer_add(w, 43, vec, v, err, sizeof(err)) == SNAP_OK &&
	    snapshot_writer_add(w, 42, vec, v, err, sizeof(err)) == SNAP_OK,
	    "rows added");
	ok(snapshot_writer_finish(w, err, sizeof(err)) == SNAP_ERROR &&
	    strstr(err, "duplicate primary key 42") != NULL,
	    "duplicate primary key refused at finish (%s)", err);
	ok(stray_files() == 0, "temporary file removed");
	{
		struct snapshot s;

		ok(snapshot_open(p, &s, err, sizeof(err)) == SNAP_OK &&
		    matches_set(&s, 5, 10), "the old file is untouched");
		snapshot_close(&s);
	}
	snprintf(p, sizeof(p), "%s/no/such/dir/x.snap", dir);
	ok(snapshot_writer_begin(p, &spec, &w, err, sizeof(err)) ==
	    SNAP_ERROR && strstr(err, "x.snap.tmp.") != NULL,
	    "unwritable place refused, naming the file");
}

static void
test_damage(void)
{
	unsigned char *b, *c;
	char p[320];
	size_t n, i, pos, ids, pool, coltab, dict;
	int bad = 0;

	ok(write_set(path, 0, NROWS, err, sizeof(err)) == SNAP_OK, "write");
	b = slurp(path, &n);
	ok(b != NULL && n > 1000, "read the file back (%zu bytes)", n);
	if (b == NULL)
		return;
	c = malloc(n);
	snprintf(p, sizeof(p), "%s/damaged.snap", dir);

	/* One flipped byte anywhere: refused. */
	for (i = 0; i < 64; i++) {
		pos = i < 60 ? i * (n / 60) + 7 : n - 1 - (i - 60);
		memcpy(c, b, n);
		c[pos] ^= 0x20;
		if (!spit(p, c, n) || !refused(p, "")) {
			printf("# flip at %zu opened\n", pos);
			bad++;
		}
	}
	ok(bad == 0, "a flipped byte at 64 places is refused");
	memcpy(c, b, n);
	c[n / 2] ^= 1;
	ok(spit(p, c, n) && refused(p, "checksum mismatch"),
	    "a flipped bit in the data: checksum mismatch");
	memcpy(c, b, n);
	c[0] = 'X';
	ok(spit(p, c, n) && refused(p, "not a snapshot file"), "bad magic");
	memcpy(c, b, n);
	c[8] = 2;
	ok(spit(p, c, n) && refused(p, "version 2"), "another version");

	/* Truncated, extended. */
	ok(spit(p, b, n - 1) && refused(p, "truncated"), "one byte short");
	ok(spit(p, b, n / 2) && refused(p, "truncated"), "half the file");
	ok(spit(p, b, 100) && refused(p, "size"), "100 bytes");
	ok(spit(p, b, 0) && refused(p, "size"), "empty file");
	memcpy(c, b, n);
	ok(spit(p, c, n) && truncate(p, (off_t)n + 64) == 0 &&
	    refused(p, "truncated or extended"), "64 bytes appended");
	ok(refused(dir, "size") || refused(dir, "not a snapshot"),
	    "a directory");
	ok(refused("/nonexistent/x.snap", "No such file"), "a missing file");

	/* Valid CRC, bad layout: the checks behind the CRC. */
	ids = (size_t)rd64(b + 56);
	pool = (size_t)rd64(b + 80);
	coltab = (size_t)rd64(b + 72);

	memcpy(c, b, n);
	c[16] = 0xff;	/* nrows */
	c[17] = 0xff;
	reseal(c, n);
	ok(spit(p, c, n) && refused(p, "bad header"), "row count beyond the "
	    "file");
	memcpy(c, b, n);
	c[56] = (unsigned char)(ids + 8);	/* misaligned ids */
	reseal(c, n);
	ok(spit(p, c, n) && refused(p, "bad header"), "misaligned section");
	memcpy(c, b, n);
	c[120] = 1;	/* reserved */
	reseal(c, n);
	ok(spit(p, c, n) && refused(p, "bad header"), "reserved byte set");
	memcpy(c, b, n);
	wr32(c + 128 + 4 * 5, 0x7fc00000u);	/* NaN in row 0 */
	reseal(c, n);
	ok(spit(p, c, n) && refused(p, "non-finite"), "NaN in a vector");
	memcpy(c, b, n);
	wr32(c + coltab + 0, 9);	/* column type */
	reseal(c, n);
	ok(spit(p, c, n) && refused(p, "unknown type"), "unknown column type");
	memcpy(c, b, n);
	memcpy(c + coltab + 64 + 4, c + coltab + 4, 4);	/* name of col 0 */
	reseal(c, n);
	ok(spit(p, c, n) && refused(p, "twice"), "two columns, one name");
	/* Swap the first two dictionary entries of base_color. */
	dict = (size_t)rd64(b + coltab + 32);
	memcpy(c, b, n);
	memcpy(c + dict, b + dict + 8, 8);
	memcpy(c + dict + 8, b + dict, 8);
	reseal(c, n);
	ok(spit(p, c, n) && refused(p, "not sorted"), "unsorted dictionary");
	memcpy(c, b, n);
	wr32(c + dict, (uint32_t)(n));	/* offset beyond the pool */
	reseal(c, n);
	ok(spit(p, c, n) && refused(p, "bad layout"), "string outside pool");
	/* A text row id beyond the dictionary. */
	memcpy(c, b, n);
	wr32(c + (size_t)rd64(b + coltab + 24), 1000);
	reseal(c, n);
	ok(spit(p, c, n) && refused(p, "bad layout"), "dictionary id out of "
	    "range");
	memcpy(c, b, n);
	c[pool + (size_t)rd64(b + 88) - 1] = 'x';	/* pool's last NUL */
	reseal(c, n);
	ok(spit(p, c, n) && refused(p, "bad"), "pool without its last NUL");
	ok(spit(p, b, n) && opens(p), "the untouched copy opens");
	free(c);
	free(b);
}

static void
test_replace(void)
{
	struct snapshot old, cur;
	uint64_t g0;

	ok(write_set(path, 1, NROWS, err, sizeof(err)) == SNAP_OK,
	    "write generation 1");
	ok(snapshot_open(path, &old, err, sizeof(err)) == SNAP_OK, "open it");
	g0 = snapshot_generation(&old);
	usleep(2000);
	ok(write_set(path, 2, NROWS / 2, err, sizeof(err)) == SNAP_OK,
	    "write generation 2 over it while it is open");
	ok(matches_set(&old, 1, NROWS), "the open mapping still reads "
	    "generation 1, every byte");
	ok(snapshot_open(path, &cur, err, sizeof(err)) == SNAP_OK &&
	    matches_set(&cur, 2, NROWS / 2), "a fresh open reads generation "
	    "2");
	ok(snapshot_generation(&cur) > g0, "its generation is later");
	snapshot_close(&cur);
	ok(unlink(path) == 0 && matches_set(&old, 1, NROWS),
	    "the old mapping survives the file's removal");
	snapshot_close(&old);
	ok(stray_files() == 0, "no temporary file left");
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/vsd_snapshot.XXXXXX", tmp != NULL &&
	    tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp %s: %s\n", dir, strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/index.snap", dir);
	test_roundtrip();
	test_empty();
	test_writer_refuses();
	test_damage();
	test_replace();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return done_testing();
}
