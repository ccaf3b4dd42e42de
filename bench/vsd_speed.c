/*
 * vsd_speed.c - fashion-vsd's search kernel on real vectors, one core.
 *
 *   bench/vsd_speed CONNINFO [QUERIES]
 *
 * Builds a snapshot of fashion_sota.products (hybrid `embedding`, the
 * unified index's vector) with snapshot_build, then times exact top-10
 * queries (each product's own vector in turn, QUERIES of them, default
 * 2000) unfiltered and with filters of decreasing selectivity, including
 * filter evaluation.  Prints median and p99 in milliseconds.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "filter.h"
#include "snapshot.h"
#include "topk.h"

static double
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	static const char *cols[] = { "gender", "master_category",
	    "article_type", "base_color", "price" };
	static const char *filters[] = {
		NULL,
		"{\"gender\": \"Women\"}",
		"{\"master_category\": \"Footwear\", \"price <\": 2000}",
		"{\"article_type\": [\"Tshirts\", \"Shirts\"], \"base_color\": \"Blue\"}",
		"{\"article_type\": \"Watches\", \"gender\": \"Women\", "
		    "\"base_color NOT\": \"Black\"}",
	};
	char path[64], err[512];
	struct snapshot s;
	struct topk_hit hits[10];
	struct filter *f;
	uint64_t *bits;
	double *t, t0, tb;
	cpu_set_t cpus;
	PGconn *conn;
	size_t n, i, nq, nout, match;
	int q;

	if (argc < 2) {
		fprintf(stderr, "usage: vsd_speed CONNINFO [QUERIES]\n");
		return 2;
	}
	nq = argc > 2 ? strtoul(argv[2], NULL, 10) : 2000;
	conn = PQconnectdb(argv[1]);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "vsd_speed: %s", PQerrorMessage(conn));
		return 1;
	}
	snprintf(path, sizeof(path), "/tmp/vsd_speed.%d.snap", (int)getpid());
	tb = now_ms();
	if (snapshot_build(conn, "SELECT product_id, embedding, gender, "
	    "master_category, article_type, base_color, price FROM "
	    "fashion_sota.products ORDER BY product_id", "product_id",
	    "embedding", cols, 5, path, err, sizeof(err)) != SNAP_OK ||
	    snapshot_open(path, &s, err, sizeof(err)) != SNAP_OK) {
		fprintf(stderr, "vsd_speed: %s\n", err);
		return 1;
	}
	tb = now_ms() - tb;
	unlink(path);
	PQfinish(conn);
	n = snapshot_rows(&s);
	printf("snapshot of %zu vectors x %u built and opened in %.0f ms\n",
	    n, s.dim, tb);

	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	(void)sched_setaffinity(0, sizeof(cpus), &cpus);
	if (nq > n)
		nq = n;
	t = calloc(nq, sizeof(*t));
	bits = calloc(filter_words(n), sizeof(*bits));
	if (t == NULL || bits == NULL)
		return 1;
	for (q = 0; q < (int)(sizeof(filters) / sizeof(filters[0])); q++) {
		f = NULL;
		match = n;
		if (filters[q] != NULL && filter_parse(&s, filters[q],
		    strlen(filters[q]), &f, err, sizeof(err)) != FILTER_OK) {
			fprintf(stderr, "vsd_speed: %s\n", err);
			return 1;
		}
		for (i = 0; i < nq; i++) {
			const float *qv = snapshot_vector(&s, (i * 7919) % n);

			t0 = now_ms();
			if (f != NULL)
				match = filter_eval(f, bits);
			if (topk_search(&s, qv, f != NULL ? bits : NULL, 0, 10,
			    hits, &nout) != TOPK_OK)
				return 1;
			t[i] = now_ms() - t0;
		}
		qsort(t, nq, sizeof(*t), cmp);
		printf("%-80s %6zu rows  median %.3f ms  p99 %.3f ms\n",
		    filters[q] != NULL ? filters[q] : "(no filter)", match,
		    t[nq / 2], t[nq * 99 / 100]);
		filter_free(f);
	}
	snapshot_close(&s);
	return 0;
}
