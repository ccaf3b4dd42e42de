/*
 * topk.c - see topk.h.
 *
 * Pass 1 (the only one that reads the vectors, ~90 MB for 44k x 512): the
 * float32 distance of every allowed row into a scratch array.  Then a
 * max-heap of the offset+k smallest finds T, the (offset+k)-th smallest
 * float distance.  Float rounding moves a distance by at most eps (below),
 * so every row of the true top offset+k has a float distance <= T + 2 eps:
 * those rows, usually offset+k and a few more, are rescored in double and
 * sorted by (d2, row).
 *
 * The error bound: q.v summed in float in any order (FMA or not) is off by
 * at most gamma_n sum |q_i v_i| <= gamma_n |q||v|, gamma_n = n u / (1 - n u),
 * u = 2^-24; |q|^2 and |v|^2 are rounded once to float; the two additions
 * round once each.  All together below (n + 4) u (|q| + |v|)^2 (1 + 1%);
 * EPS_SLACK adds room on top.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "topk.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HOT	__attribute__((optimize("O3"), \
		    target_clones("arch=x86-64-v3", "default")))
#else
#define HOT
#endif

/*
 * Partial sums in a dot product: two AVX2 registers.  More chains do not
 * help (out-of-order execution overlaps consecutive rows) and make GCC
 * spill them to the stack.
 */
#define LANES		16
#define EPS_SLACK	16	/* added to n in the bound, and x 1.25 */
#define DENSE		3	/* more than 1/DENSE of the rows: read all */

/* A row being rescored. */
struct cand {
	double	 d2;
	size_t	 row;
};

/*
 * q.v over N floats with LANES partial sums: written so the compiler keeps
 * them in vector registers without -ffast-math (the order of the sum is
 * ours, so it may vectorise it).
 */
static inline __attribute__((always_inline)) float
dot(const float *restrict q, const float *restrict v, size_t n)
{
	float acc[LANES], tail = 0;
	size_t i, j;

	for (j = 0; j < LANES; j++)
		acc[j] = 0;
	for (i = 0; i + LANES <= n; i += LANES)
		for (j = 0; j < LANES; j++)
			acc[j] += q[i + j] * v[i + j];
	for (; i < n; i++)
		tail += q[i] * v[i];
	/* Fixed bounds, so the partial sums never leave the registers. */
	for (j = 0; j < LANES / 2; j++)
		acc[j] += acc[j + LANES / 2];
	for (j = 0; j < LANES / 4; j++)
		acc[j] += acc[j + LANES / 4];
	for (j = 0; j < LANES / 8; j++)
		acc[j] += acc[j + LANES / 8];
	return acc[0] + acc[1] + tail;
}

/*
 * dist[r] = |q|^2 + |v_r|^2 - 2 q.v_r for every row r set in ALLOW (NULL:
 * every row).  The dot product of SNAP_DIM floats gets its own loop so its
 * length is a constant the compiler unrolls.
 */
HOT static void
pass_dist(const struct snapshot *s, const float *restrict q, float qq,
    const uint64_t *allow, float *restrict dist)
{
	const float *restrict vecs = s->vecs, *restrict norms = s->norms;
	size_t dim = s->dim, n = s->nrows, r, w, nw = (n + 63) / 64;
	uint64_t m;

	if (allow == NULL && dim == SNAP_DIM) {
		for (r = 0; r < n; r++)
			dist[r] = qq + norms[r] -
			    2 * dot(q, vecs + r * SNAP_DIM, SNAP_DIM);
	} else if (allow == NULL) {
		for (r = 0; r < n; r++)
			dist[r] = qq + norms[r] - 2 * dot(q, vecs + r * dim, dim);
	} else if (dim == SNAP_DIM) {
		for (w = 0; w < nw; w++)
			for (m = allow[w]; m != 0; m &= m - 1) {
				r = w * 64 + (size_t)__builtin_ctzll(m);
				dist[r] = qq + norms[r] - 2 * dot(q,
				    vecs + r * SNAP_DIM, SNAP_DIM);
			}
	} else {
		for (w = 0; w < nw; w++)
			for (m = allow[w]; m != 0; m &= m - 1) {
				r = w * 64 + (size_t)__builtin_ctzll(m);
				dist[r] = qq + norms[r] - 2 * dot(q,
				    vecs + r * dim, dim);
			}
	}
}

/* Max-heap of floats: put X when smaller than the top (or not full). */
static void
heap_offer(float *h, size_t *n, size_t cap, float x)
{
	size_t i, c;
	float t;

	if (*n < cap) {
		i = (*n)++;
		h[i] = x;
		while (i > 0 && h[(i - 1) / 2] < h[i]) {
			t = h[i];
			h[i] = h[(i - 1) / 2];
			h[(i - 1) / 2] = t;
			i = (i - 1) / 2;
		}
		return;
	}
	if (!(x < h[0]))
		return;
	h[0] = x;
	for (i = 0; (c = 2 * i + 1) < *n; i = c) {
		if (c + 1 < *n && h[c + 1] > h[c])
			c++;
		if (!(h[c] > h[i]))
			break;
		t = h[i];
		h[i] = h[c];
		h[c] = t;
	}
}

static int
cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->d2 != y->d2)
		return x->d2 < y->d2 ? -1 : 1;
	return (x->row > y->row) - (x->row < y->row);
}

/* The exact distance, in double, summed in order. */
static double
dist_double(const float *q, const float *v, size_t dim)
{
	double d2 = 0, t;
	size_t i;

	for (i = 0; i < dim; i++) {
		t = (double)q[i] - (double)v[i];
		d2 += t * t;
	}
	return d2;
}

static int
allowed(const uint64_t *allow, size_t r)
{
	return allow == NULL || (allow[r / 64] >> (r % 64) & 1);
}

int
topk_search(const struct snapshot *s, const float *query,
    const uint64_t *allow, size_t offset, size_t k, struct topk_hit *out,
    size_t *nout)
{
	float *dist = NULL, *heap = NULL;
	struct cand *cand = NULL;
	size_t want, count, nheap = 0, ncand, r, i, w;
	double qq = 0, eps, thr;
	int rc = TOPK_ERROR;

	*nout = 0;
	for (i = 0; i < s->dim; i++)
		qq += (double)query[i] * query[i];
	if (!isfinite(qq) || !isfinite((float)qq))
		return TOPK_ERROR;
	if (allow == NULL)
		count = s->nrows;
	else
		for (count = 0, w = 0; w < (s->nrows + 63) / 64; w++)
			count += (size_t)__builtin_popcountll(allow[w]);
	if (k == 0 || offset >= count)
		return TOPK_OK;
	want = k > count - offset ? count : offset + k;

	if ((dist = malloc(s->nrows * sizeof(*dist))) == NULL ||
	    (heap = malloc(want * sizeof(*heap))) == NULL)
		goto out;
	/*
	 * Skipping rows costs the hardware prefetcher its stream: reading a
	 * row out of order costs about three in order, so past a third of
	 * the rows compute them all and let the bitmap act below.
	 */
	pass_dist(s, query, (float)qq, count > s->nrows / DENSE ? NULL : allow,
	    dist);
	for (r = 0; r < s->nrows; r++)
		if (allowed(allow, r))
			heap_offer(heap, &nheap, want, dist[r]);
	eps = (double)(s->dim + EPS_SLACK) * ldexp(1.0, -24) * 1.25 *
	    (sqrt(qq) + s->max_norm) * (sqrt(qq) + s->max_norm);
	thr = (double)heap[0] + 2 * eps;

	for (ncand = 0, r = 0; r < s->nrows; r++)
		if (allowed(allow, r) && (double)dist[r] <= thr)
			ncand++;
	if ((cand = malloc(ncand * sizeof(*cand))) == NULL)
		goto out;
	for (i = 0, r = 0; r < s->nrows; r++)
		if (allowed(allow, r) && (double)dist[r] <= thr) {
			cand[i].row = r;
			cand[i].d2 = dist_double(query, s->vecs + r * s->dim,
			    s->dim);
			i++;
		}
	qsort(cand, ncand, sizeof(*cand), cmp_cand);
	/* ncand >= want > offset, by the bound. */
	for (i = offset; i < want && i < ncand; i++) {
		out[i - offset].row = cand[i].row;
		out[i - offset].d2 = cand[i].d2;
		out[i - offset].score = 1.0 / (1.0 + cand[i].d2);
	}
	*nout = i - offset;
	rc = TOPK_OK;
out:
	free(dist);
	free(heap);
	free(cand);
	return rc;
}
