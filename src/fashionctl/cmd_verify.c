/*
 * cmd_verify.c - "fashionctl verify [PROFILE]": the migration guide's
 * step 5 checks on one or both layouts, as a table of PASS/FAIL/INFO
 * lines, and the embeddings "fashionctl embed" writes.  Exit 1 when any
 * check fails.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clip_client.h"
#include "fashionctl.h"
#include "imgcheck.h"

struct verify {
	struct ctl	*c;
	int		 fails;
};

static void
line(struct verify *v, const char *status, const char *label,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
line(struct verify *v, const char *status, const char *label,
    const char *fmt, ...)
{
	va_list ap;

	if (strcmp(status, "FAIL") == 0)
		v->fails++;
	printf("  %-4s  %-32s ", status, label);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static const char *
pass(int ok)
{
	return ok ? "PASS" : "FAIL";
}

/* A count from SQL built by FMT (identifiers already quoted). */
static int
count(struct verify *v, long long *out, int nparams, const char *const *vals,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
count(struct verify *v, long long *out, int nparams, const char *const *vals,
    const char *fmt, ...)
{
	char *sql = NULL;
	va_list ap;
	int n, rc = CTL_ERROR;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (sql = malloc((size_t)n + 1)) == NULL) {
		ctl_warnx("verify: out of memory");
		goto fail;
	}
	va_start(ap, fmt);
	n = vsnprintf(sql, (size_t)n + 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		goto fail;
	rc = ctl_count(v->c, "verify", sql, nparams, vals, out);
fail:
	free(sql);
	return rc;
}

/* % non-null per column; NOT NULL columns must be 100%. */
static int
completeness(struct verify *v, const struct profile *p, const char *tbl,
    long long rows)
{
	const char *vals[2] = { p->schema, p->products };
	struct buf sql;
	PGresult *cols = NULL, *r = NULL;
	char label[96];
	long long nn;
	int i, k, ncols, rc = CTL_ERROR;

	buf_init(&sql);
	cols = ctl_exec(v->c, "verify: columns",
	    "SELECT column_name, is_nullable = 'NO' FROM information_schema.columns "
	    "WHERE table_schema = $1 AND table_name = $2 AND data_type <> 'ARRAY' "
	    "ORDER BY ordinal_position", 2, vals, PGRES_TUPLES_OK);
	if (cols == NULL)
		goto fail;
	ncols = PQntuples(cols);
	buf_puts(&sql, "SELECT ");
	for (i = 0; i < ncols; i++) {
		buf_puts(&sql, i ? ", count(" : "count(");
		if (ctl_ident(v->c, PQgetvalue(cols, i, 0), &sql) != CTL_OK)
			goto fail;
		buf_puts(&sql, ")");
	}
	buf_printf(&sql, " FROM %s", tbl);
	if (ncols == 0 || buf_failed(&sql) || (r = ctl_exec(v->c,
	    "verify: completeness", sql.data, 0, NULL, PGRES_TUPLES_OK)) == NULL)
		goto fail;
	for (i = 0; i < ncols; i++) {
		const char *col = PQgetvalue(cols, i, 0);
		int notnull = PQgetvalue(cols, i, 1)[0] == 't';
		double pct;

		nn = strtoll(PQgetvalue(r, 0, i), NULL, 10);
		pct = rows > 0 ? 100.0 * (double)nn / (double)rows : 0.0;
		k = snprintf(label, sizeof(label), "non-null %s", col);
		if (k < 0 || (size_t)k >= sizeof(label))
			snprintf(label, sizeof(label), "non-null (long name)");
		if (notnull)
			line(v, pass(nn == rows), label, "%.2f%% (%lld/%lld, "
			    "NOT NULL)", pct, nn, rows);
		else
			line(v, "INFO", label, "%.2f%% (%lld/%lld)", pct, nn, rows);
	}
	rc = CTL_OK;
fail:
	PQclear(cols);
	PQclear(r);
	buf_free(&sql);
	return rc;
}

static int
distinct(struct verify *v, const char *tbl, const char *col)
{
	char label[64];
	long long n;

	if (count(v, &n, 0, NULL, "SELECT count(DISTINCT %s) FROM %s", col,
	    tbl) != CTL_OK)
		return CTL_ERROR;
	snprintf(label, sizeof(label), "distinct %s", col);
	line(v, "INFO", label, "%lld", n);
	return CTL_OK;
}

/* A vector column that is set but not a 1-dim real[CLIP_DIM] without NULLs. */
#define BAD_SHAPE(col) "(" col " IS NOT NULL AND (array_ndims(" col ") <> 1 " \
	"OR cardinality(" col ") <> " VERIFY_DIM " OR array_position(" col \
	", NULL) IS NOT NULL))::int"
/* A vector column that is set and whose L2 norm is not 1 +- NORM_TOL. */
#define NOT_UNIT(norm, col) "(" col " IS NOT NULL AND coalesce(abs(" norm \
	" - 1) > " NORM_TOL ", true))::int"
#define NORM_OF(col) "(SELECT sqrt(sum(f::float8 * f)) FROM unnest(" col ") f)"
#define VERIFY_STR(x)	#x
#define VERIFY_XSTR(x)	VERIFY_STR(x)
#define VERIFY_DIM	VERIFY_XSTR(CLIP_DIM)
#define NORM_TOL	"1e-3"

/*
 * The embeddings, in one query: every product has a text, a hybrid and
 * (when it has an image) an image vector, each 512-dim and of unit norm.
 * The new layout only holds products with a validated image; in the old
 * one, a product that is not in the new layout has none, so a NULL
 * image_embedding there is counted, not failed.
 */
static int
embeddings(struct verify *v, int idx, const struct profile *p,
    const char *tbl)
{
	const struct profile *np = &v->c->cfg->profiles[1];
	struct buf sql, emb, img;
	PGresult *r = NULL;
	long long n[7];
	int e, i, rc = CTL_ERROR;

	buf_init(&sql);
	buf_init(&emb);
	buf_init(&img);
	if (!p->embedded && p->embeddings[0] == '\0') {
		line(v, "FAIL", "embeddings", "none configured (embedded or "
		    "embeddings)");
		rc = CTL_OK;
		goto fail;
	}
	if (!p->embedded) {
		if ((e = ctl_table_exists(v->c, p->schema, p->embeddings)) < 0)
			goto fail;
		if (!e) {
			line(v, "FAIL", "embeddings table exists", "%s.%s missing "
			    "(run fashionctl init)", p->schema, p->embeddings);
			rc = CTL_OK;
			goto fail;
		}
		if (ctl_qname(v->c, p->schema, p->embeddings, &emb) != CTL_OK)
			goto fail;
	}
	/* Which products have an image to embed. */
	if (idx == 1)
		buf_puts(&img, "true");
	else {
		if ((e = ctl_table_exists(v->c, np->schema, np->products)) < 0)
			goto fail;
		if (e) {
			buf_puts(&img, "EXISTS (SELECT 1 FROM ");
			if (ctl_qname(v->c, np->schema, np->products, &img) !=
			    CTL_OK)
				goto fail;
			buf_puts(&img, " s WHERE s.product_id = p.product_id)");
		} else
			buf_puts(&img, "false");
	}

	buf_printf(&sql, "SELECT count(*), "
	    "count(*) FILTER (WHERE t IS NULL), "
	    "count(*) FILTER (WHERE h IS NULL), "
	    "count(*) FILTER (WHERE i IS NULL AND img), "
	    "count(*) FILTER (WHERE i IS NULL AND NOT img), "
	    "coalesce(sum(" BAD_SHAPE("i") " + " BAD_SHAPE("t") " + "
	    BAD_SHAPE("h") "), 0), "
	    "coalesce(sum(" NOT_UNIT("ni", "i") " + " NOT_UNIT("nt", "t") " + "
	    NOT_UNIT("nh", "h") "), 0) "
	    "FROM (SELECT x.image_embedding AS i, x.text_embedding AS t, "
	    "x.embedding AS h, %s AS img, "
	    NORM_OF("x.image_embedding") " AS ni, "
	    NORM_OF("x.text_embedding") " AS nt, "
	    NORM_OF("x.embedding") " AS nh FROM %s p", img.data, tbl);
	if (p->embedded)
		buf_puts(&sql, " CROSS JOIN LATERAL (SELECT p.image_embedding, "
		    "p.text_embedding, p.embedding) x) q");
	else
		buf_printf(&sql, " LEFT JOIN %s x USING (product_id)) q",
		    emb.data);
	if (buf_failed(&sql) || (r = ctl_exec(v->c, "verify: embeddings",
	    sql.data, 0, NULL, PGRES_TUPLES_OK)) == NULL)
		goto fail;
	for (i = 0; i < 7; i++)
		n[i] = strtoll(PQgetvalue(r, 0, i), NULL, 10);
	line(v, pass(n[1] == 0), "text_embedding set", "%lld/%lld (%lld "
	    "missing%s)", n[0] - n[1], n[0], n[1], n[1] ? ": run fashionctl "
	    "embed" : "");
	line(v, pass(n[2] == 0), "embedding (hybrid) set", "%lld/%lld (%lld "
	    "missing%s)", n[0] - n[2], n[0], n[2], n[2] ? ": run fashionctl "
	    "embed" : "");
	line(v, pass(n[3] == 0), "image_embedding set", "%lld/%lld with an "
	    "image (%lld missing)", n[0] - n[4] - n[3], n[0] - n[4], n[3]);
	if (idx != 1)
		line(v, "INFO", "products without image", "%lld (not in %s.%s: "
		    "image_embedding NULL%s)", n[4], np->schema, np->products,
		    n[4] ? ", text only" : "");
	line(v, pass(n[5] == 0), "vectors " VERIFY_DIM "-dim", "%lld malformed "
	    "(dimension, shape or NULL elements)", n[5]);
	line(v, pass(n[6] == 0), "vectors L2-normalised", "%lld with |norm - "
	    "1| > " NORM_TOL, n[6]);
	rc = CTL_OK;
fail:
	PQclear(r);
	buf_free(&sql);
	buf_free(&emb);
	buf_free(&img);
	return rc;
}

/* Checks of one layout; IDX 0 = old, 1 = new. */
static int
verify_profile(struct verify *v, int idx)
{
	const struct profile *p = &v->c->cfg->profiles[idx];
	const struct profile *op = &v->c->cfg->profiles[0];
	struct buf tbl, old;
	char *pre = NULL;
	const char *suf, *vals[2];
	long long rows, orows, n, lo, hi;
	int e, rc = CTL_ERROR;

	buf_init(&tbl);
	buf_init(&old);
	printf("%s (%s.%s)\n", p->name, p->schema, p->products);
	if ((e = ctl_table_exists(v->c, p->schema, p->products)) < 0)
		goto fail;
	if (!e) {
		line(v, "FAIL", "table exists", "no (run fashionctl init)");
		rc = CTL_OK;
		goto fail;
	}
	if (ctl_qname(v->c, p->schema, p->products, &tbl) != CTL_OK ||
	    ctl_qname(v->c, op->schema, op->products, &old) != CTL_OK)
		goto fail;
	if (count(v, &rows, 0, NULL, "SELECT count(*) FROM %s", tbl.data) !=
	    CTL_OK)
		goto fail;
	line(v, pass(rows > 0), "rows", "%lld (> 0)", rows);

	if (idx == 1) {
		if ((e = ctl_table_exists(v->c, op->schema, op->products)) < 0)
			goto fail;
		orows = 0;
		if (e && count(v, &orows, 0, NULL, "SELECT count(*) FROM %s",
		    old.data) != CTL_OK)
			goto fail;
		line(v, pass(e && rows <= orows), "rows <= old layout",
		    "%lld <= %lld (%s.%s)", rows, orows, op->schema, op->products);
		if (e) {
			if (count(v, &n, 0, NULL, "SELECT count(*) FROM %s s WHERE "
			    "NOT EXISTS (SELECT 1 FROM %s d WHERE d.product_id = "
			    "s.product_id)", tbl.data, old.data) != CTL_OK)
				goto fail;
			line(v, pass(n == 0), "ids exist in old layout",
			    "%lld missing", n);
			if (count(v, &n, 0, NULL, "SELECT count(*) FROM %s s JOIN "
			    "%s d USING (product_id) WHERE (s.gender, "
			    "s.master_category, s.sub_category, s.article_type, "
			    "s.base_color, s.season, s.year, s.usage, "
			    "s.product_display_name, s.price) IS DISTINCT FROM "
			    "(d.gender, d.master_category, d.sub_category, "
			    "d.article_type, d.base_color, d.season, d.year, "
			    "d.usage, d.product_display_name, d.price)", tbl.data,
			    old.data) != CTL_OK)
				goto fail;
			line(v, pass(n == 0), "metadata matches old layout",
			    "%lld differ%s", n, n ? " (rerun fashionctl migrate)" : "");
		}
	}

	if (distinct(v, tbl.data, "gender") != CTL_OK ||
	    distinct(v, tbl.data, "master_category") != CTL_OK ||
	    distinct(v, tbl.data, "article_type") != CTL_OK)
		goto fail;
	if (p->has_brand) {
		if (distinct(v, tbl.data, "brand") != CTL_OK)
			goto fail;
	}

	if (count(v, &lo, 0, NULL, "SELECT floor(min(price))::bigint FROM %s",
	    tbl.data) != CTL_OK || count(v, &hi, 0, NULL,
	    "SELECT ceil(max(price))::bigint FROM %s", tbl.data) != CTL_OK)
		goto fail;
	if (count(v, &n, 0, NULL, "SELECT count(*) FROM %s WHERE price IS NULL "
	    "OR price <= 0", tbl.data) != CTL_OK)
		goto fail;
	line(v, pass(rows > 0 && n == 0), "price > 0", "min %lld, max %lld "
	    "(%lld not > 0)", lo, hi, n);

	if (completeness(v, p, tbl.data, rows) != CTL_OK)
		goto fail;

	/* image_path = prefix || product_id || suffix of the template */
	if ((suf = strstr(p->image_path, "{id}")) == NULL ||
	    (pre = strndup(p->image_path, (size_t)(suf - p->image_path))) == NULL)
		goto fail;
	vals[0] = pre;
	vals[1] = suf + 4;
	if (count(v, &n, 2, vals, "SELECT count(*) FROM %s WHERE image_path IS "
	    "DISTINCT FROM $1 || product_id::text || $2", tbl.data) != CTL_OK)
		goto fail;
	line(v, pass(n == 0), "image_path matches template", "%lld differ "
	    "from %s", n, p->image_path);

	if (idx == 1) {
		if (count(v, &n, 0, NULL, "SELECT count(*) FROM %s WHERE "
		    "image_width NOT BETWEEN %d AND %d OR image_height NOT "
		    "BETWEEN %d AND %d", tbl.data, IMG_MINSIDE, IMG_MAXSIDE,
		    IMG_MINSIDE, IMG_MAXSIDE) != CTL_OK)
			goto fail;
		line(v, pass(n == 0), "image size sane", "%lld outside %d..%d px",
		    n, IMG_MINSIDE, IMG_MAXSIDE);
	}
	if (embeddings(v, idx, p, tbl.data) != CTL_OK)
		goto fail;
	rc = CTL_OK;
fail:
	free(pre);
	buf_free(&tbl);
	buf_free(&old);
	return rc;
}

int
cmd_verify(struct ctl *c, int argc, char **argv)
{
	struct verify v;
	int i, only = -1;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: fashionctl verify [fashion_demo|"
		    "fashion_sota]\n");
		return argc == 2 && strcmp(argv[1], "-h") == 0 ? EXIT_OK :
		    EXIT_USAGE;
	}
	if (argc == 2) {
		for (i = 0; i < 2; i++)
			if (strcmp(argv[1], c->cfg->profiles[i].name) == 0)
				only = i;
		if (only < 0) {
			ctl_warnx("unknown profile \"%s\" (fashion_demo or "
			    "fashion_sota)", argv[1]);
			return EXIT_USAGE;
		}
	}
	if (ctl_connect(c) != CTL_OK)
		return EXIT_FAIL;
	/* One snapshot for all checks. */
	if (ctl_cmd(c, "verify", "BEGIN ISOLATION LEVEL REPEATABLE READ "
	    "READ ONLY") != CTL_OK)
		return EXIT_FAIL;
	v.c = c;
	v.fails = 0;
	for (i = 0; i < 2; i++) {
		if (only >= 0 && i != only)
			continue;
		if (verify_profile(&v, i) != CTL_OK) {
			ctl_rollback(c);
			return EXIT_FAIL;
		}
	}
	ctl_rollback(c);
	if (v.fails > 0) {
		printf("verify: %d check%s FAILED\n", v.fails, v.fails == 1 ?
		    "" : "s");
		return EXIT_FAIL;
	}
	printf("verify: all checks passed\n");
	return EXIT_OK;
}
