/*
 * topk.h - exact k nearest rows of a snapshot by L2 distance.
 *
 * Exact means: the rows and scores are those of a brute-force search in
 * double precision over the stored float32 vectors, d2 = sum (q_i - v_i)^2,
 * ordered by d2 then by row (ties go to the earlier row).  The fast pass
 * computes d2 = |q|^2 + |v|^2 - 2 q.v in float32 (vectorised, AVX2+FMA
 * where the CPU has it); every row that float rounding could place in the
 * top offset+k (a proven error bound) is then rescored in double, so the
 * answer does not depend on the CPU or the summation order.
 *
 * Score, as Databricks Vector Search reports it for an L2 index:
 * 1 / (1 + d2).  For unit vectors d2 = 2 - 2 cos.
 */
#ifndef VSD_TOPK_H
#define VSD_TOPK_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

#define TOPK_OK		 0
#define TOPK_ERROR	-1	/* bad query (non-finite, too large) or no memory */

struct topk_hit {
	size_t	 row;		/* snapshot row: snapshot_id(s, row) is the key */
	double	 d2;		/* squared L2 distance */
	double	 score;		/* 1 / (1 + d2), in (0, 1] */
};

/*
 * The hits ranked OFFSET .. OFFSET+K-1 (0-based, best first) among the rows
 * whose bit is set in ALLOW (filter_eval()'s bitmap; NULL: every row) for
 * QUERY (snapshot_dim(s) floats, normally unit length) into OUT[K]; their
 * number, fewer than K when fewer rows match, into *NOUT.  TOPK_OK, or
 * TOPK_ERROR (nothing written) for a query with a non-finite value or
 * whose |q|^2 overflows float, or when out of memory.
 * Work: one pass over the vectors, an offset+k heap, O(nrows) scratch.
 */
int	topk_search(const struct snapshot *s, const float *query,
	    const uint64_t *allow, size_t offset, size_t k,
	    struct topk_hit *out, size_t *nout);

#endif
