/*
 * cmd_migrate.c - "fashionctl migrate": build the new layout (fashion_sota)
 * from the old one, as the migration guide does it: keep the products whose
 * image <DIR>/<id>.jpg exists and decodes to a sane size, add the image
 * size, a brand taken from the display name, and the new image_path.
 *
 * One transaction: the old products table is locked against writers (SHARE)
 * while it is read, images are checked, the result goes through COPY into a
 * temporary stage table, then the new table is made to match it: removed
 * ids deleted, new and changed rows upserted, unchanged rows (and their
 * embeddings) left alone.  NOTIFY, COMMIT.  A rerun changes nothing.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fashionctl.h"
#include "imgcheck.h"
#include "progress.h"
#include "rules.h"

#define MIG_STAGE	"fashionctl_migrate"	/* session temp table */
#define MIG_REPORT_MAX	20	/* dropped ids listed per reason */

/* Columns copied from the old table unchanged. */
#define MIG_OLD_COLS	"gender, master_category, sub_category, " \
	"article_type, base_color, season, year, usage, product_display_name, " \
	"price"
/* Columns the migration computes. */
#define MIG_NEW_COLS	"brand, image_path, image_width, image_height"

/* Columns whose change makes the embeddings stale (all but price). */
static const char *embed_inputs[] = {
	"gender", "master_category", "sub_category", "article_type",
	"base_color", "season", "year", "usage", "product_display_name",
	"brand", "image_path", "image_width", "image_height", NULL
};
static const char *all_cols[] = {
	"gender", "master_category", "sub_category", "article_type",
	"base_color", "season", "year", "usage", "product_display_name",
	"price", "brand", "image_path", "image_width", "image_height", NULL
};
static const char *embed_cols[] = {
	"image_embedding", "text_embedding", "embedding", NULL
};

struct mig_stats {
	unsigned long	 old;		/* rows in the old table */
	unsigned long	 kept;
	unsigned long	 missing;	/* dropped: no image file */
	unsigned long	 bad;		/* dropped: image does not decode / size */
	unsigned long	 branded;	/* kept rows with a brand */
	long		 dict;		/* brand dictionary entries */
};

/* "(a.c1, a.c2, ...)" for COLS. */
static void
row_expr(struct buf *b, const char *alias, const char **cols)
{
	size_t i;

	buf_add(b, "(", 1);
	for (i = 0; cols[i] != NULL; i++)
		buf_printf(b, "%s%s.%s", i ? ", " : "", alias, cols[i]);
	buf_add(b, ")", 1);
}

/* Learn the brand dictionary from every old product's display name. */
static int
learn_brands(const PGresult *rows, struct brands *br, long *dict)
{
	int i;

	for (i = 0; i < PQntuples(rows); i++)
		if (brands_learn(br, PQgetvalue(rows, i, 1)) != RULES_OK)
			goto nomem;
	if ((*dict = brands_finish(br)) < 0)
		goto nomem;
	return CTL_OK;
nomem:
	ctl_warnx("out of memory");
	return CTL_ERROR;
}

/* Check the images, build the COPY data for the stage table. */
static int
check_images(struct ctl *c, const struct profile *np, const char *dir,
    const PGresult *rows, const struct brands *br, struct buf *copy,
    struct mig_stats *st, struct progress *prog)
{
	struct imgcheck ic;
	char path[4096], ipath[1024], why[256], cbuf[256];
	const char *name, *brand;
	long id;
	int i, n, w, h, r, rc = CTL_ERROR;

	imgcheck_init(&ic);
	for (i = 0; i < PQntuples(rows); i++) {
		if (ctl_parse_long(PQgetvalue(rows, i, 0), 1, 2147483647L, &id) !=
		    CTL_OK) {
			ctl_warnx("unexpected product_id \"%s\"",
			    PQgetvalue(rows, i, 0));
			goto fail;
		}
		n = snprintf(path, sizeof(path), "%s/%ld.jpg", dir, id);
		if (n < 0 || (size_t)n >= sizeof(path)) {
			ctl_warnx("%s: path too long", dir);
			goto fail;
		}
		why[0] = '\0';
		r = imgcheck_file(&ic, path, &w, &h, why, sizeof(why));
		if (r == IMG_NOMEM) {
			ctl_warnx("out of memory");
			goto fail;
		}
		if (r == IMG_MISSING) {
			if (++st->missing <= MIG_REPORT_MAX) {
				progress_clear(prog);
				fprintf(stderr, "dropped id=%ld (no image %s)\n",
				    id, path);
			}
			goto next;
		}
		if (r == IMG_BAD) {
			if (++st->bad <= MIG_REPORT_MAX) {
				progress_clear(prog);
				fprintf(stderr, "dropped id=%ld (bad image %s: %s)\n",
				    id, path, why);
			}
			goto next;
		}
		name = PQgetvalue(rows, i, 1);
		brand = brands_match(br, name, cbuf, sizeof(cbuf));
		if (config_expand_id(np->image_path, id, ipath, sizeof(ipath)) !=
		    CFG_OK) {
			ctl_warnx("profiles.%s.image_path: too long", np->name);
			goto fail;
		}
		buf_printf(copy, "%ld\t", id);
		ctl_copy_field(copy, brand, brand ? strlen(brand) : 0);
		buf_add(copy, "\t", 1);
		ctl_copy_field(copy, ipath, strlen(ipath));
		buf_printf(copy, "\t%d\t%d\n", w, h);
		st->kept++;
		if (brand != NULL)
			st->branded++;
next:
		progress_update(prog, (unsigned long)i + 1);
	}
	if (buf_failed(copy)) {
		ctl_warnx("out of memory");
		goto fail;
	}
	if (st->missing > MIG_REPORT_MAX || st->bad > MIG_REPORT_MAX) {
		progress_clear(prog);
		fprintf(stderr, "(only the first %d dropped ids of each kind "
		    "are listed)\n", MIG_REPORT_MAX);
	}
	rc = CTL_OK;
fail:
	imgcheck_free(&ic);
	return rc;
}

/* Make the new products table match the stage table. */
static int
apply_stage(struct ctl *c, const struct profile *np, const char *old,
    const char *new, long long *ins, long long *upd, long long *del)
{
	struct buf sql, emb;
	PGresult *r = NULL;
	size_t i;
	int sep = !np->embedded && np->embeddings[0] != '\0';
	int rc = CTL_ERROR;

	buf_init(&sql);
	buf_init(&emb);

	/* Changed products lose their (now stale) embeddings: separate table. */
	if (sep) {
		if (ctl_qname(c, np->schema, np->embeddings, &emb) != CTL_OK)
			goto fail;
		buf_printf(&sql, "DELETE FROM %s e USING %s s, %s d, " MIG_STAGE
		    " m WHERE e.product_id = s.product_id AND d.product_id = "
		    "s.product_id AND m.product_id = s.product_id AND ",
		    emb.data, new, old);
		row_expr(&sql, "s", embed_inputs);
		buf_puts(&sql, " IS DISTINCT FROM (d.gender, d.master_category, "
		    "d.sub_category, d.article_type, d.base_color, d.season, "
		    "d.year, d.usage, d.product_display_name, m.brand, "
		    "m.image_path, m.image_width, m.image_height)");
		if (buf_failed(&sql) || ctl_cmd(c, "reset stale embeddings",
		    sql.data) != CTL_OK)
			goto fail;
	}

	buf_reset(&sql);
	buf_printf(&sql, "DELETE FROM %s s WHERE NOT EXISTS (SELECT 1 FROM "
	    MIG_STAGE " m WHERE m.product_id = s.product_id)", new);
	if (buf_failed(&sql) || (r = ctl_exec(c, "delete dropped products",
	    sql.data, 0, NULL, PGRES_COMMAND_OK)) == NULL)
		goto fail;
	*del = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	r = NULL;

	buf_reset(&sql);
	buf_printf(&sql, "WITH u AS (INSERT INTO %s AS s (product_id, "
	    MIG_OLD_COLS ", " MIG_NEW_COLS ") SELECT d.product_id, ", new);
	for (i = 0; all_cols[i] != NULL; i++)
		buf_printf(&sql, "%s%s.%s", i ? ", " : "",
		    i < 10 ? "d" : "m", all_cols[i]);
	buf_printf(&sql, " FROM %s d JOIN " MIG_STAGE " m USING (product_id) "
	    "ON CONFLICT (product_id) DO UPDATE SET ", old);
	for (i = 0; all_cols[i] != NULL; i++)
		buf_printf(&sql, "%s%s = EXCLUDED.%s", i ? ", " : "", all_cols[i],
		    all_cols[i]);
	if (np->embedded) {
		for (i = 0; embed_cols[i] != NULL; i++) {
			buf_printf(&sql, ", %s = CASE WHEN ", embed_cols[i]);
			row_expr(&sql, "s", embed_inputs);
			buf_puts(&sql, " IS NOT DISTINCT FROM ");
			row_expr(&sql, "EXCLUDED", embed_inputs);
			buf_printf(&sql, " THEN s.%s END", embed_cols[i]);
		}
	}
	buf_puts(&sql, " WHERE ");
	row_expr(&sql, "s", all_cols);
	buf_puts(&sql, " IS DISTINCT FROM ");
	row_expr(&sql, "EXCLUDED", all_cols);
	buf_puts(&sql, " RETURNING (xmax = 0) AS inserted) "
	    "SELECT count(*) FILTER (WHERE inserted), "
	    "count(*) FILTER (WHERE NOT inserted) FROM u");
	if (buf_failed(&sql) || (r = ctl_exec(c, "upsert products", sql.data,
	    0, NULL, PGRES_TUPLES_OK)) == NULL)
		goto fail;
	*ins = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	*upd = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	PQclear(r);
	r = NULL;

	buf_reset(&sql);
	buf_printf(&sql, "ANALYZE %s", new);
	if (buf_failed(&sql) || ctl_cmd(c, "analyze", sql.data) != CTL_OK)
		goto fail;
	rc = CTL_OK;
fail:
	PQclear(r);
	buf_free(&sql);
	buf_free(&emb);
	return rc;
}

static void
migrate_usage(void)
{
	fprintf(stderr, "usage: fashionctl migrate [--images DIR]\n"
	    "       (DIR defaults to $FASHION_IMAGES; it holds <id>.jpg)\n");
}

int
cmd_migrate(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "images", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct profile *op = &c->cfg->profiles[0];
	const struct profile *np = &c->cfg->profiles[1];
	const char *images = NULL;
	struct brands *br = NULL;
	struct mig_stats st;
	struct progress prog;
	struct buf old, new, sql, copy;
	struct stat sb;
	PGresult *rows = NULL;
	char note[160], payload[64];
	long long ins = 0, upd = 0, del = 0;
	int ch, n, e1, e2, in_tx = 0, rc = EXIT_FAIL;

	memset(&st, 0, sizeof(st));
	buf_init(&old);
	buf_init(&new);
	buf_init(&sql);
	buf_init(&copy);
	while ((ch = getopt_long(argc, argv, "i:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			images = optarg;
			break;
		case 'h':
			migrate_usage();
			return EXIT_OK;
		default:
			migrate_usage();
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		migrate_usage();
		return EXIT_USAGE;
	}
	if ((images = ctl_images_dir(images)) == NULL) {
		ctl_warnx("no images directory: give --images DIR or set "
		    "FASHION_IMAGES");
		migrate_usage();
		return EXIT_USAGE;
	}
	if (stat(images, &sb) == -1) {
		ctl_warnx("images directory %s: %s", images, strerror(errno));
		return EXIT_FAIL;
	}
	if (!S_ISDIR(sb.st_mode)) {
		ctl_warnx("%s is not a directory", images);
		return EXIT_FAIL;
	}
	n = snprintf(payload, sizeof(payload), "migrate %s", np->name);
	if (n < 0 || (size_t)n >= sizeof(payload))
		return EXIT_FAIL;

	progress_start(&prog, "migrate", 0, c->tty);
	if (ctl_connect(c) != CTL_OK)
		goto fail;
	if ((e1 = ctl_table_exists(c, op->schema, op->products)) < 0 ||
	    (e2 = ctl_table_exists(c, np->schema, np->products)) < 0)
		goto fail;
	if (!e1 || !e2) {
		ctl_warnx("%s.%s does not exist: run \"fashionctl init\" first",
		    e1 ? np->schema : op->schema, e1 ? np->products : op->products);
		goto fail;
	}
	if (ctl_qname(c, op->schema, op->products, &old) != CTL_OK ||
	    ctl_qname(c, np->schema, np->products, &new) != CTL_OK)
		goto fail;

	if (ctl_begin(c) != CTL_OK)
		goto fail;
	in_tx = 1;
	/* No load may change the old table while we read it. */
	buf_printf(&sql, "LOCK TABLE %s IN SHARE MODE", old.data);
	if (buf_failed(&sql) || ctl_cmd(c, "lock", sql.data) != CTL_OK)
		goto fail;
	buf_reset(&sql);
	buf_printf(&sql, "SELECT product_id, product_display_name FROM %s "
	    "ORDER BY product_id", old.data);
	if (buf_failed(&sql) || (rows = ctl_exec(c, "read old products",
	    sql.data, 0, NULL, PGRES_TUPLES_OK)) == NULL)
		goto fail;
	st.old = (unsigned long)PQntuples(rows);
	if (st.old == 0) {
		ctl_warnx("%s.%s is empty: run \"fashionctl load\" first",
		    op->schema, op->products);
		goto fail;
	}
	if ((br = brands_new()) == NULL) {
		ctl_warnx("out of memory");
		goto fail;
	}
	if (learn_brands(rows, br, &st.dict) != CTL_OK)
		goto fail;

	prog.total = st.old;
	if (check_images(c, np, images, rows, br, &copy, &st, &prog) != CTL_OK)
		goto fail;
	if (st.kept == 0) {
		progress_clear(&prog);
		ctl_warnx("no product has a valid image in %s (it should hold "
		    "<id>.jpg; the archive extracts to images/): nothing changed",
		    images);
		goto fail;
	}

	buf_reset(&sql);
	buf_puts(&sql, "CREATE TEMP TABLE " MIG_STAGE " (product_id integer "
	    "PRIMARY KEY, brand text, image_path text NOT NULL, "
	    "image_width integer NOT NULL, image_height integer NOT NULL) "
	    "ON COMMIT DROP");
	if (buf_failed(&sql) || ctl_cmd(c, "create stage table", sql.data) !=
	    CTL_OK)
		goto fail;
	if (ctl_copy(c, "copy", "COPY " MIG_STAGE " (product_id, " MIG_NEW_COLS
	    ") FROM STDIN", &copy, NULL) != CTL_OK)
		goto fail;
	if (apply_stage(c, np, old.data, new.data, &ins, &upd, &del) != CTL_OK)
		goto fail;
	if (ctl_notify(c, payload) != CTL_OK)
		goto fail;
	if (ctl_cmd(c, "commit", "COMMIT") != CTL_OK)
		goto fail;
	in_tx = 0;

	snprintf(note, sizeof(note), "%lu kept", st.kept);
	progress_end(&prog, note);
	printf("migrate: %s.%s: %lu products: %lu kept, %lu dropped (no image), "
	    "%lu dropped (bad image)\n", op->schema, op->products, st.old,
	    st.kept, st.missing, st.bad);
	printf("migrate: brand found for %lu of %lu kept (%.1f%%), dictionary "
	    "of %ld brands\n", st.branded, st.kept,
	    100.0 * (double)st.branded / (double)st.kept, st.dict);
	printf("migrate: %s.%s: %lld new, %lld changed, %lld removed, %lld "
	    "unchanged\n", np->schema, np->products, ins, upd, del,
	    (long long)st.kept - ins - upd);
	rc = EXIT_OK;
fail:
	if (in_tx) {
		ctl_rollback(c);
		progress_clear(&prog);
		ctl_warnx("migrate failed; %s.%s was not changed", np->schema,
		    np->products);
	}
	PQclear(rows);
	brands_free(br);
	buf_free(&old);
	buf_free(&new);
	buf_free(&sql);
	buf_free(&copy);
	return rc;
}
