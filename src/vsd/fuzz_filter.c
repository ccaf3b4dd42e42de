/*
 * fuzz_filter.c - libFuzzer harness for filters_json (src/vsd/filter.c),
 * the only part of fashion-vsd's query that parses client text beyond the
 * request body: each input is compiled against a small snapshot with text
 * (NULLs, UTF-8, empty values), integer (int64 extremes) and double
 * columns, evaluated, and the bitmap fed to topk_search, checking what a
 * caller relies on.  Build:
 *   clang -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -Isrc \
 *     src/vsd/fuzz_filter.c src/vsd/filter.c src/vsd/snapshot.c \
 *     src/vsd/topk.c src/buf.c $(pkg-config --cflags --libs json-c) \
 *     -I/usr/include/postgresql -lpq -lz -lm
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vsd/filter.h"
#include "vsd/snapshot.h"
#include "vsd/topk.h"

#define NROWS	150
#define DIM	8

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct snapshot snap;
static int ready;

static const char *const texts[] = {
	"Men", "Women", "Navy Blue", "Off-White", "T-Shirt", "",
	"Caf\xc3\xa9 Noir", "a b c d e f", "NOT", "<=", "LIKE"
};
#define NTEXTS	(sizeof(texts) / sizeof(texts[0]))

static const struct snap_colspec cols[] = {
	{ "gender", SNAP_TEXT },
	{ "name", SNAP_TEXT },
	{ "year", SNAP_INT },
	{ "price", SNAP_DOUBLE },
	{ "brand", SNAP_TEXT },		/* always NULL */
	{ "a b", SNAP_INT },		/* a space in a name */
};
#define NCOLS	(int)(sizeof(cols) / sizeof(cols[0]))

static void
setup(void)
{
	struct snapshot_writer *w;
	struct snap_spec spec = { DIM, "id", "v", cols, NCOLS };
	struct snap_value v[NCOLS];
	char path[256], err[256];
	const char *tmp = getenv("TMPDIR");
	float vec[DIM];
	int r, d;

	snprintf(path, sizeof(path), "%s/fuzz_filter.%ld.snap", tmp != NULL &&
	    tmp[0] != '\0' ? tmp : "/tmp", (long)getpid());
	if (snapshot_writer_begin(path, &spec, &w, err, sizeof(err)) !=
	    SNAP_OK)
		goto fail;
	for (r = 0; r < NROWS; r++) {
		for (d = 0; d < DIM; d++)
			vec[d] = (float)((r * 7 + d * 3) % 11) - 5;
		memset(v, 0, sizeof(v));
		v[0].null = r % 9 == 0;
		v[0].s = texts[r % 3];
		v[0].len = strlen(v[0].s);
		v[1].s = texts[r % NTEXTS];
		v[1].len = strlen(v[1].s);
		v[2].null = r % 7 == 0;
		v[2].i = r % 5 == 0 ? INT64_MIN : r % 5 == 1 ? INT64_MAX :
		    2000 + r % 17;
		v[3].null = r % 8 == 0;
		v[3].d = r * 0.5 - 20;
		v[4].null = 1;
		v[5].i = r;
		if (snapshot_writer_add(w, r, vec, v, err, sizeof(err)) !=
		    SNAP_OK) {
			snapshot_writer_abort(w);
			goto fail;
		}
	}
	if (snapshot_writer_finish(w, err, sizeof(err)) != SNAP_OK ||
	    snapshot_open(path, &snap, err, sizeof(err)) != SNAP_OK)
		goto fail;
	unlink(path);
	ready = 1;
	return;
fail:
	fprintf(stderr, "fuzz_filter: setup: %s\n", err);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct filter *f = (struct filter *)1;
	uint64_t bits[(NROWS + 63) / 64 + 1];
	struct topk_hit hits[4];
	float q[DIM] = { 1, 0, 0, 0, 0, 0, 0, 0 };
	char msg[128];
	size_t n, i, nh, pop = 0;
	int rc;

	if (!ready)
		setup();
	msg[0] = 'x';
	rc = filter_parse(&snap, (const char *)data, len, &f, msg,
	    sizeof(msg));
	if (rc != FILTER_OK) {
		if ((rc != FILTER_BAD && rc != FILTER_NOMEM) || f != NULL ||
		    msg[0] == '\0' || memchr(msg, '\0', sizeof(msg)) == NULL)
			abort();
		return 0;
	}
	if (f == NULL)
		abort();
	bits[(NROWS + 63) / 64] = 0x1234;
	n = filter_eval(f, bits);
	if (bits[(NROWS + 63) / 64] != 0x1234 || n > NROWS ||
	    bits[NROWS / 64] >> (NROWS % 64) != 0)
		abort();
	for (i = 0; i < (NROWS + 63) / 64; i++)
		pop += (size_t)__builtin_popcountll(bits[i]);
	if (pop != n || (filter_empty(f) && n != NROWS))
		abort();
	filter_free(f);
	if (topk_search(&snap, q, bits, len % 3, 3, hits, &nh) != TOPK_OK ||
	    nh > 3 || (n > len % 3 + 2 && nh != 3))
		abort();
	for (i = 0; i < nh; i++)
		if (!(bits[hits[i].row / 64] >> (hits[i].row % 64) & 1) ||
		    (i > 0 && (hits[i].d2 < hits[i - 1].d2 ||
		    (hits[i].d2 == hits[i - 1].d2 &&
		    hits[i].row <= hits[i - 1].row))))
			abort();
	return 0;
}
