/*
 * vsd_topk.c - exact top-k (src/vsd/topk.c) against a brute-force search
 * in double precision: random unit vectors (fixed seed), k = 1, 10, 100 and
 * more than the matching rows, filters, pagination, queries that are not
 * unit length, exact ties and near-ties that float32 cannot tell apart.
 * Exact means the same rows in the same order and the same scores.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vsd/snapshot.h"
#include "vsd/topk.h"
#include "tap.h"

#define NQUERIES	40

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double
uniform(void)
{
	return (double)(rng() >> 11) / 9007199254740992.0;
}

static double
gauss(void)
{
	double u = uniform() + 1e-300, v = uniform();

	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static void
random_unit(float *v, size_t dim)
{
	double ss = 0;
	size_t i;

	for (i = 0; i < dim; i++) {
		v[i] = (float)gauss();
		ss += (double)v[i] * v[i];
	}
	for (i = 0; i < dim; i++)
		v[i] = (float)(v[i] / sqrt(ss));
}

struct ref {
	double	 d2;
	size_t	 row;
};

static int
cmp_ref(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;

	if (x->d2 != y->d2)
		return x->d2 < y->d2 ? -1 : 1;
	return (x->row > y->row) - (x->row < y->row);
}

/* Every allowed row, best first, in double precision: the definition. */
static size_t
brute_force(const struct snapshot *s, const float *q, const uint64_t *allow,
    struct ref *out)
{
	size_t r, i, n = 0;
	const float *v;
	double d2, t;

	for (r = 0; r < s->nrows; r++) {
		if (allow != NULL && !(allow[r / 64] >> (r % 64) & 1))
			continue;
		v = snapshot_vector(s, r);
		d2 = 0;
		for (i = 0; i < s->dim; i++) {
			t = (double)q[i] - (double)v[i];
			d2 += t * t;
		}
		out[n].d2 = d2;
		out[n].row = r;
		n++;
	}
	qsort(out, n, sizeof(*out), cmp_ref);
	return n;
}

/* topk_search(OFFSET, K) equals the reference ranks OFFSET.. exactly. */
static int
exact(const struct snapshot *s, const float *q, const uint64_t *allow,
    size_t offset, size_t k, struct ref *ref, struct topk_hit *hits)
{
	size_t n, nh, want, i;

	n = brute_force(s, q, allow, ref);
	if (topk_search(s, q, allow, offset, k, hits, &nh) != TOPK_OK) {
		printf("# topk_search failed\n");
		return 0;
	}
	want = offset >= n ? 0 : (n - offset < k ? n - offset : k);
	if (nh != want) {
		printf("# %zu hits, want %zu (offset %zu, k %zu, %zu rows)\n",
		    nh, want, offset, k, n);
		return 0;
	}
	for (i = 0; i < nh; i++) {
		if (hits[i].row != ref[offset + i].row ||
		    fabs(hits[i].d2 - ref[offset + i].d2) > 1e-12 ||
		    fabs(hits[i].score - 1 / (1 + ref[offset + i].d2)) >
		    1e-12) {
			printf("# rank %zu: row %zu d2 %.17g, want row %zu "
			    "d2 %.17g\n", offset + i, hits[i].row, hits[i].d2,
			    ref[offset + i].row, ref[offset + i].d2);
			return 0;
		}
	}
	return 1;
}

/* Write a snapshot of N rows from VECS (N x DIM) and open it. */
static int
make(const char *path, const float *vecs, size_t n, uint32_t dim,
    struct snapshot *s)
{
	struct snapshot_writer *w;
	struct snap_spec spec = { dim, "id", "v", NULL, 0 };
	char err[256];
	size_t r;

	if (snapshot_writer_begin(path, &spec, &w, err, sizeof(err)) !=
	    SNAP_OK)
		goto fail;
	for (r = 0; r < n; r++)
		if (snapshot_writer_add(w, (int64_t)r * 3 + 1,
		    vecs + r * dim, NULL, err, sizeof(err)) != SNAP_OK) {
			snapshot_writer_abort(w);
			goto fail;
		}
	if (snapshot_writer_finish(w, err, sizeof(err)) != SNAP_OK ||
	    snapshot_open(path, s, err, sizeof(err)) != SNAP_OK)
		goto fail;
	unlink(path);
	return 1;
fail:
	printf("# %s\n", err);
	return 0;
}

static void
random_bitmap(uint64_t *bits, size_t n, double p)
{
	size_t r;

	memset(bits, 0, (n + 63) / 64 * 8);
	for (r = 0; r < n; r++)
		if (uniform() < p)
			bits[r / 64] |= (uint64_t)1 << (r % 64);
}

static void
run_random(const char *path, size_t n, uint32_t dim)
{
	static const size_t ks[] = { 1, 10, 100 };
	struct snapshot s;
	struct ref *ref;
	struct topk_hit *hits;
	uint64_t *bits;
	float *vecs, *q;
	size_t i, j, r, nh;
	int bad;

	vecs = malloc(n * dim * sizeof(*vecs));
	q = malloc(dim * sizeof(*q));
	ref = malloc(n * sizeof(*ref));
	hits = malloc((n + 10) * sizeof(*hits));
	bits = calloc((n + 63) / 64, 8);
	for (r = 0; r < n; r++)
		random_unit(vecs + r * dim, dim);
	if (!make(path, vecs, n, dim, &s)) {
		ok(0, "snapshot of %zu x %u", n, dim);
		return;
	}
	for (j = 0; j < 3; j++) {
		for (bad = 0, i = 0; i < NQUERIES; i++) {
			random_unit(q, dim);
			bad += !exact(&s, q, NULL, 0, ks[j], ref, hits);
		}
		ok(bad == 0, "%zu x %u, k %zu, no filter: %d of %d queries "
		    "exact", n, dim, ks[j], NQUERIES - bad, NQUERIES);
		for (bad = 0, i = 0; i < NQUERIES; i++) {
			random_unit(q, dim);
			/* Dense filters take the read-every-row path. */
			random_bitmap(bits, n, i % 3 == 0 ? 0.5 : i % 3 == 1 ?
			    0.1 : 0.01);
			bad += !exact(&s, q, bits, 0, ks[j], ref, hits);
		}
		ok(bad == 0, "%zu x %u, k %zu, filter of 50%%, 10%% or 1%%: %d "
		    "of %d exact", n, dim, ks[j], NQUERIES - bad, NQUERIES);
	}
	/* A stored vector finds itself (or its first copy: dim 1). */
	memcpy(q, vecs + 17 * dim, dim * sizeof(*q));
	for (r = 0; memcmp(vecs + r * dim, q, dim * sizeof(*q)) != 0; r++)
		;
	ok(topk_search(&s, q, NULL, 0, 1, hits, &nh) == TOPK_OK && nh == 1 &&
	    hits[0].row == r && hits[0].d2 == 0 && hits[0].score == 1,
	    "a stored vector is its own nearest, d2 0, score 1");
	ok(snapshot_id(&s, hits[0].row) == (int64_t)r * 3 + 1,
	    "its primary key");
	/* Unit vectors: d2 = 2 - 2 cos. */
	random_unit(q, dim);
	ok(topk_search(&s, q, NULL, 0, 1, hits, &nh) == TOPK_OK && nh == 1 &&
	    hits[0].d2 >= 0 && hits[0].d2 <= 4 && hits[0].score > 0.2 &&
	    hits[0].score <= 1, "score = 1 / (1 + d2) in (0.2, 1] for unit "
	    "vectors");
	/* k beyond the matching rows. */
	random_bitmap(bits, n, 0.002);
	random_unit(q, dim);
	nh = brute_force(&s, q, bits, ref);
	ok(exact(&s, q, bits, 0, n, ref, hits), "k larger than the %zu "
	    "matching rows: all of them, ranked", nh);
	memset(bits, 0, (n + 63) / 64 * 8);
	ok(topk_search(&s, q, bits, 0, 10, hits, &nh) == TOPK_OK && nh == 0,
	    "no matching row: no hit");
	bits[0] = 1;
	ok(exact(&s, q, bits, 0, 10, ref, hits) && hits[0].row == 0,
	    "one matching row");
	ok(exact(&s, q, NULL, 0, n + 5, ref, hits), "k > rows, no filter");
	/* Pagination. */
	for (bad = 0, i = 0; i < 10; i++) {
		random_unit(q, dim);
		bad += !exact(&s, q, NULL, 5 * i, 10, ref, hits);
	}
	ok(bad == 0, "offset 0, 5, .. 45 with k 10: exact pages");
	random_bitmap(bits, n, 0.05);
	for (bad = 0, i = 0; i < 10; i++)
		bad += !exact(&s, q, bits, 7 * i, 10, ref, hits);
	ok(bad == 0, "filtered pages exact");
	ok(exact(&s, q, NULL, n - 3, 10, ref, hits), "last page is short");
	ok(topk_search(&s, q, NULL, n, 10, hits, &nh) == TOPK_OK && nh == 0,
	    "offset past the end: nothing");
	ok(topk_search(&s, q, NULL, SIZE_MAX, SIZE_MAX, hits, &nh) ==
	    TOPK_OK && nh == 0, "huge offset and k: no overflow");
	ok(topk_search(&s, q, NULL, 0, 0, hits, &nh) == TOPK_OK && nh == 0,
	    "k 0: nothing");
	/* Queries that are not unit length. */
	for (bad = 0, i = 0; i < NQUERIES; i++) {
		random_unit(q, dim);
		for (j = 0; j < dim; j++)
			q[j] *= i % 2 ? 3.5f : 0.01f;
		bad += !exact(&s, q, NULL, 0, 10, ref, hits);
	}
	ok(bad == 0, "queries of length 3.5 and 0.01: exact");
	memset(q, 0, dim * sizeof(*q));
	ok(exact(&s, q, NULL, 0, 10, ref, hits), "zero query: all rows at "
	    "d2 = |v|^2, ties by row");
	/* Refused queries. */
	random_unit(q, dim);
	q[dim / 2] = NAN;
	ok(topk_search(&s, q, NULL, 0, 10, hits, &nh) == TOPK_ERROR &&
	    nh == 0, "NaN in the query refused");
	q[dim / 2] = INFINITY;
	ok(topk_search(&s, q, NULL, 0, 10, hits, &nh) == TOPK_ERROR,
	    "infinity in the query refused");
	q[dim / 2] = 3e30f;
	ok(topk_search(&s, q, NULL, 0, 10, hits, &nh) == TOPK_ERROR,
	    "|q|^2 beyond float refused");
	snapshot_close(&s);
	free(vecs);
	free(q);
	free(ref);
	free(hits);
	free(bits);
}

/*
 * Rows float32 cannot rank: one base vector plus noise of 1e-7 per
 * component, copies of it (exact ties), and random rows around them.
 */
static void
run_ties(const char *path)
{
	const size_t n = 2000;
	const uint32_t dim = 512;
	struct snapshot s;
	struct ref *ref;
	struct topk_hit *hits;
	float *vecs, *q, base[512];
	size_t r, i;
	int bad = 0;

	vecs = malloc(n * dim * sizeof(*vecs));
	q = malloc(dim * sizeof(*q));
	ref = malloc(n * sizeof(*ref));
	hits = malloc(n * sizeof(*hits));
	random_unit(base, dim);
	for (r = 0; r < n; r++) {
		if (r % 4 == 0)
			random_unit(vecs + r * dim, dim);
		else if (r % 4 == 1)
			memcpy(vecs + r * dim, base, sizeof(base));
		else
			for (i = 0; i < dim; i++)
				vecs[r * dim + i] = base[i] +
				    (float)(1e-7 * gauss());
	}
	if (!make(path, vecs, n, dim, &s)) {
		ok(0, "snapshot with ties");
		return;
	}
	for (i = 0; i < 20; i++) {
		memcpy(q, base, sizeof(base));
		q[i] += 1e-4f;
		q[i + 100] -= 1e-5f * (float)i;
		bad += !exact(&s, q, NULL, 0, 100, ref, hits);
		bad += !exact(&s, q, NULL, 300, 50, ref, hits);
	}
	ok(bad == 0, "near-ties below float precision: exact order");
	memcpy(q, base, sizeof(base));
	ok(exact(&s, q, NULL, 0, 600, ref, hits) && hits[0].d2 == 0 &&
	    hits[0].row == 1 && hits[1].row == 5 && hits[2].row == 9,
	    "exact ties (copies of the query) in row order");
	ok(topk_search(&s, q, NULL, 0, 3, hits, &r) == TOPK_OK && r == 3 &&
	    topk_search(&s, q, NULL, 0, 3, hits + 3, &r) == TOPK_OK &&
	    memcmp(hits, hits + 3, 3 * sizeof(*hits)) == 0,
	    "same query, same bytes");
	snapshot_close(&s);
	free(vecs);
	free(q);
	free(ref);
	free(hits);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[300];

	snprintf(path, sizeof(path), "%s/vsd_topk.%ld.snap", tmp != NULL &&
	    tmp[0] != '\0' ? tmp : "/tmp", (long)getpid());
	run_random(path, 3000, 512);	/* the specialised kernel */
	run_random(path, 1000, 37);	/* any dim: tails of the sums */
	run_random(path, 130, 1);
	run_ties(path);
	return done_testing();
}
