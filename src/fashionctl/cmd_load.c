/*
 * cmd_load.c - "fashionctl load": styles.csv into the old layout
 * (profile fashion_demo), as the original application had it: every row
 * that parses to exactly 10 fields, plus a derived price and image_path.
 *
 * The file is parsed and checked completely before the database is
 * touched.  Then, in one transaction: COPY into a temporary stage table,
 * delete products no longer in the file, upsert new and changed ones
 * (changed ones lose their embeddings), NOTIFY, COMMIT.  A failure leaves
 * the previous catalog intact; a rerun with the same file changes nothing.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "csv.h"
#include "db.h"
#include "fashionctl.h"
#include "progress.h"
#include "rules.h"

#define STYLES_MAXBYTES	(1L << 30)
#define STYLES_NFIELDS	10
#define YEAR_MIN	1900
#define YEAR_MAX	2100
#define ID_MAX		2147483647L	/* products.product_id is integer */

/* styles.csv columns, in order. */
enum { F_ID, F_GENDER, F_MASTER, F_SUB, F_ARTICLE, F_COLOUR, F_SEASON,
	F_YEAR, F_USAGE, F_NAME };

static const char *styles_header[STYLES_NFIELDS] = {
	"id", "gender", "masterCategory", "subCategory", "articleType",
	"baseColour", "season", "year", "usage", "productDisplayName"
};

/* Columns that may not be empty (NOT NULL in sql/fashion_demo.sql). */
static const int required[] = { F_GENDER, F_MASTER, F_SUB, F_ARTICLE, F_NAME };

/* The stage table's columns (the products table's, in COPY order). */
#define LOAD_COLS "product_id, gender, master_category, sub_category, " \
	"article_type, base_color, season, year, usage, product_display_name, " \
	"price, image_path"
#define LOAD_STAGE "fashionctl_stage"	/* session temp table */

/* Ids seen so far: open addressing, key 0 = empty (ids are > 0). */
struct idset {
	long		*keys;
	unsigned long	*lines;		/* line of the first occurrence */
	size_t		 cap, n;	/* cap is a power of two */
};

struct load_stats {
	unsigned long	 rows;		/* data rows read */
	unsigned long	 good;		/* rows to load */
	unsigned long	 malformed;	/* rows skipped */
	unsigned long	 barequote;	/* rows with a bare '"' kept literally */
};

static size_t
id_slot(const struct idset *s, long id)
{
	uint64_t h = (uint64_t)id * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 20) & (s->cap - 1);
}

/*
 * Add ID.  Returns 0 when new, else the line it was first seen on; -1 when
 * out of memory.
 */
static long
idset_add(struct idset *s, long id, unsigned long line)
{
	size_t i, j, ncap;
	struct idset big;

	if (s->n * 2 >= s->cap) {
		ncap = s->cap ? s->cap * 2 : 1024;
		big.cap = ncap;
		big.n = 0;
		big.keys = calloc(ncap, sizeof(*big.keys));
		big.lines = calloc(ncap, sizeof(*big.lines));
		if (big.keys == NULL || big.lines == NULL) {
			free(big.keys);
			free(big.lines);
			return -1;
		}
		for (i = 0; i < s->cap; i++) {
			if (s->keys[i] == 0)
				continue;
			for (j = id_slot(&big, s->keys[i]); big.keys[j] != 0;
			    j = (j + 1) & (ncap - 1))
				;
			big.keys[j] = s->keys[i];
			big.lines[j] = s->lines[i];
			big.n++;
		}
		free(s->keys);
		free(s->lines);
		*s = big;
	}
	for (i = id_slot(s, id); s->keys[i] != 0; i = (i + 1) & (s->cap - 1))
		if (s->keys[i] == id)
			return (long)s->lines[i];
	s->keys[i] = id;
	s->lines[i] = line;
	s->n++;
	return 0;
}

static void
idset_free(struct idset *s)
{
	free(s->keys);
	free(s->lines);
	memset(s, 0, sizeof(*s));
}

/* Read PATH whole into *DATA (caller frees).  CTL_OK or CTL_ERROR. */
static int
read_file(const char *path, char **data, size_t *len)
{
	struct buf b;

	buf_init(&b);
	if (ctl_read_file(path, STYLES_MAXBYTES, &b, NULL) != CTL_OK) {
		buf_free(&b);
		return CTL_ERROR;
	}
	*data = b.data;
	*len = b.len;
	return CTL_OK;
}

/*
 * Why ROW (a data row) cannot be loaded, into WHY; "" when it can.
 * STRICT: a bare '"' in an unquoted field makes the row malformed.
 */
static void
row_problem(const struct csv_row *row, int strict, long *id, char *why,
    size_t len)
{
	size_t i;
	long v;

	why[0] = '\0';
	if (row->flags & CSV_UNTERM) {
		snprintf(why, len, "quoted field not closed before end of file");
		return;
	}
	if (row->nfields != STYLES_NFIELDS) {
		snprintf(why, len, "%zu fields", row->nfields);
		return;
	}
	if (row->flags & CSV_JUNK) {
		snprintf(why, len, "text after a closing quote");
		return;
	}
	if (strict && (row->flags & CSV_BAREQUOTE)) {
		snprintf(why, len, "bare '\"' in an unquoted field");
		return;
	}
	for (i = 0; i < STYLES_NFIELDS; i++)
		if (!utf8_valid(row->field[i], row->flen[i])) {
			snprintf(why, len, "%s: invalid UTF-8 or NUL byte",
			    styles_header[i]);
			return;
		}
	if (*id <= 0) {
		snprintf(why, len, "id \"%.20s\" is not an integer in 1..%ld",
		    row->field[F_ID], ID_MAX);
		return;
	}
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (row->flen[required[i]] == 0) {
			snprintf(why, len, "empty %s", styles_header[required[i]]);
			return;
		}
	if (row->flen[F_YEAR] > 0 && ctl_parse_long(row->field[F_YEAR],
	    YEAR_MIN, YEAR_MAX, &v) != CTL_OK) {
		snprintf(why, len, "year \"%.20s\" is not an integer in %d..%d",
		    row->field[F_YEAR], YEAR_MIN, YEAR_MAX);
		return;
	}
}

/* One COPY line for a good row. */
static int
copy_row(const struct csv_row *row, long id, const char *tmpl,
    struct buf *out)
{
	char path[1024], price[32];
	long paise;
	size_t i;
	int n;

	for (i = 0; i < STYLES_NFIELDS; i++) {
		if (i > 0)
			buf_add(out, "\t", 1);
		ctl_copy_field(out, row->flen[i] ? row->field[i] : NULL,
		    row->flen[i]);
	}
	paise = rules_price(row->field[F_MASTER], row->field[F_SUB], id);
	n = snprintf(price, sizeof(price), "%ld.%02ld", paise / 100, paise % 100);
	if (n < 0 || (size_t)n >= sizeof(price))
		return CTL_ERROR;
	if (config_expand_id(tmpl, id, path, sizeof(path)) != CFG_OK) {
		ctl_warnx("image_path template too long");
		return CTL_ERROR;
	}
	buf_add(out, "\t", 1);
	buf_puts(out, price);
	buf_add(out, "\t", 1);
	ctl_copy_field(out, path, strlen(path));
	buf_add(out, "\n", 1);
	return CTL_OK;
}

/* Parse styles.csv DATA into COPY lines.  CTL_OK or CTL_ERROR (reported). */
static int
parse_styles(const char *path, const char *data, size_t len, int strict,
    const char *tmpl, struct buf *out, struct load_stats *st)
{
	struct csv csv;
	struct csv_row row;
	struct idset ids;
	char why[160];
	long id, first;
	size_t i;
	int r, rc = CTL_ERROR;

	memset(&ids, 0, sizeof(ids));
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		data += 3;	/* UTF-8 byte order mark */
		len -= 3;
	}
	csv_init(&csv, data, len);
	if ((r = csv_next(&csv, &row)) != CSV_ROW) {
		ctl_warnx("%s: %s", path, r == CSV_EOF ? "empty file" :
		    "out of memory");
		goto fail;
	}
	for (i = 0; i < STYLES_NFIELDS; i++)
		if (row.nfields != STYLES_NFIELDS ||
		    strcmp(row.field[i], styles_header[i]) != 0) {
			ctl_warnx("%s: line 1 is not the styles.csv header "
			    "(id,gender,masterCategory,subCategory,articleType,"
			    "baseColour,season,year,usage,productDisplayName)",
			    path);
			goto fail;
		}

	while ((r = csv_next(&csv, &row)) == CSV_ROW) {
		st->rows++;
		if (row.nfields == 0 || row.flen[F_ID] == 0 ||
		    ctl_parse_long(row.field[F_ID], 1, ID_MAX, &id) != CTL_OK)
			id = 0;
		row_problem(&row, strict, &id, why, sizeof(why));
		if (why[0] == '\0' && (first = idset_add(&ids, id, row.line)) != 0) {
			if (first < 0) {
				ctl_warnx("out of memory");
				goto fail;
			}
			snprintf(why, sizeof(why), "duplicate id, first on line %ld",
			    first);
		}
		if (why[0] != '\0') {
			st->malformed++;
			if (id > 0)
				fprintf(stderr, "skipped malformed row id=%ld (%s)\n",
				    id, why);
			else
				fprintf(stderr, "skipped malformed row at line %lu "
				    "(%s)\n", row.line, why);
			continue;
		}
		if (row.flags & CSV_BAREQUOTE) {
			st->barequote++;
			fprintf(stderr, "note: row id=%ld has a bare '\"' in an "
			    "unquoted field, kept literally (--strict-quotes "
			    "skips such rows)\n", id);
		}
		if (copy_row(&row, id, tmpl, out) != CTL_OK)
			goto fail;
		st->good++;
	}
	if (r == CSV_NOMEM || buf_failed(out)) {
		ctl_warnx("out of memory");
		goto fail;
	}
	rc = CTL_OK;
fail:
	csv_free(&csv);
	idset_free(&ids);
	return rc;
}

/* The stage table has been filled: make the products table match it. */
static int
apply_stage(struct ctl *c, const struct profile *p, long long *ins,
    long long *upd, long long *del)
{
	struct buf tbl, emb, sql;
	PGresult *r = NULL;
	const char *same = "(p.gender, p.master_category, p.sub_category, "
	    "p.article_type, p.base_color, p.season, p.year, p.usage, "
	    "p.product_display_name, p.price, p.image_path)";
	const char *cols[] = { "gender", "master_category", "sub_category",
	    "article_type", "base_color", "season", "year", "usage",
	    "product_display_name", "price", "image_path" };
	size_t i;
	int rc = CTL_ERROR;

	buf_init(&tbl);
	buf_init(&emb);
	buf_init(&sql);
	if (ctl_qname(c, p->schema, p->products, &tbl) != CTL_OK)
		goto fail;

	/* Changed products lose their (now stale) embeddings. */
	if (p->embeddings[0] != '\0' && !p->embedded) {
		if (ctl_qname(c, p->schema, p->embeddings, &emb) != CTL_OK)
			goto fail;
		buf_printf(&sql, "DELETE FROM %s e USING %s p, " LOAD_STAGE " s "
		    "WHERE e.product_id = p.product_id AND "
		    "s.product_id = p.product_id AND %s IS DISTINCT FROM "
		    "(s.gender, s.master_category, s.sub_category, "
		    "s.article_type, s.base_color, s.season, s.year, s.usage, "
		    "s.product_display_name, s.price, s.image_path)",
		    emb.data, tbl.data, same);
		if (buf_failed(&sql) || ctl_cmd(c, "reset stale embeddings",
		    sql.data) != CTL_OK)
			goto fail;
	}

	/* Products no longer in the file (embeddings go by cascade). */
	buf_reset(&sql);
	buf_printf(&sql, "DELETE FROM %s p WHERE NOT EXISTS (SELECT 1 FROM "
	    LOAD_STAGE " s WHERE s.product_id = p.product_id)", tbl.data);
	if (buf_failed(&sql) || (r = ctl_exec(c, "delete removed products",
	    sql.data, 0, NULL, PGRES_COMMAND_OK)) == NULL)
		goto fail;
	*del = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	r = NULL;

	/* New and changed products; unchanged rows are not touched. */
	buf_reset(&sql);
	buf_printf(&sql, "WITH u AS (INSERT INTO %s AS p (" LOAD_COLS ") "
	    "SELECT " LOAD_COLS " FROM " LOAD_STAGE " "
	    "ON CONFLICT (product_id) DO UPDATE SET ", tbl.data);
	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		buf_printf(&sql, "%s%s = EXCLUDED.%s", i ? ", " : "", cols[i],
		    cols[i]);
	buf_printf(&sql, " WHERE %s IS DISTINCT FROM (EXCLUDED.gender, "
	    "EXCLUDED.master_category, EXCLUDED.sub_category, "
	    "EXCLUDED.article_type, EXCLUDED.base_color, EXCLUDED.season, "
	    "EXCLUDED.year, EXCLUDED.usage, EXCLUDED.product_display_name, "
	    "EXCLUDED.price, EXCLUDED.image_path) "
	    "RETURNING (xmax = 0) AS inserted) "
	    "SELECT count(*) FILTER (WHERE inserted), "
	    "count(*) FILTER (WHERE NOT inserted) FROM u", same);
	if (buf_failed(&sql) || (r = ctl_exec(c, "upsert products", sql.data,
	    0, NULL, PGRES_TUPLES_OK)) == NULL)
		goto fail;
	*ins = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	*upd = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
	PQclear(r);
	r = NULL;

	buf_reset(&sql);
	buf_printf(&sql, "ANALYZE %s", tbl.data);
	if (buf_failed(&sql) || ctl_cmd(c, "analyze", sql.data) != CTL_OK)
		goto fail;
	rc = CTL_OK;
fail:
	PQclear(r);
	buf_free(&tbl);
	buf_free(&emb);
	buf_free(&sql);
	return rc;
}

static void
load_usage(void)
{
	fprintf(stderr, "usage: fashionctl load --styles FILE [--images DIR] "
	    "[--strict-quotes]\n");
}

int
cmd_load(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "styles", required_argument, NULL, 's' },
		{ "images", required_argument, NULL, 'i' },
		{ "strict-quotes", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct profile *p = &c->cfg->profiles[0];
	const char *styles = NULL, *images = NULL;
	struct load_stats st;
	struct progress prog;
	struct buf copy, sql;
	struct stat sb;
	char *data = NULL, note[160], payload[64];
	size_t len = 0;
	long long ins = 0, upd = 0, del = 0;
	int ch, strict = 0, exists, in_tx = 0, n, rc = EXIT_FAIL;

	memset(&st, 0, sizeof(st));
	buf_init(&copy);
	buf_init(&sql);
	while ((ch = getopt_long(argc, argv, "s:i:h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			styles = optarg;
			break;
		case 'i':
			images = optarg;
			break;
		case 'S':
			strict = 1;
			break;
		case 'h':
			load_usage();
			return EXIT_OK;
		default:
			load_usage();
			return EXIT_USAGE;
		}
	}
	if (optind != argc || styles == NULL) {
		load_usage();
		return EXIT_USAGE;
	}
	/* The old layout never looked at the images: only say where they are. */
	images = ctl_images_dir(images);
	if (images != NULL && stat(images, &sb) == -1)
		ctl_warnx("warning: images directory %s: %s", images,
		    strerror(errno));
	else if (images != NULL && !S_ISDIR(sb.st_mode))
		ctl_warnx("warning: %s is not a directory", images);

	progress_start(&prog, "load", 0, c->tty);
	if (read_file(styles, &data, &len) != CTL_OK)
		goto fail;
	if (parse_styles(styles, data, len, strict, p->image_path, &copy,
	    &st) != CTL_OK)
		goto fail;
	fprintf(stderr, "%lu malformed rows skipped\n", st.malformed);
	if (st.good == 0) {
		ctl_warnx("%s: no loadable rows; the catalog was not changed",
		    styles);
		goto fail;
	}
	prog.total = st.good;

	if (ctl_connect(c) != CTL_OK)
		goto fail;
	if ((exists = ctl_table_exists(c, p->schema, p->products)) < 0)
		goto fail;
	if (!exists) {
		ctl_warnx("%s.%s does not exist: run \"fashionctl init\" first",
		    p->schema, p->products);
		goto fail;
	}
	n = snprintf(payload, sizeof(payload), "load %s", p->name);
	if (n < 0 || (size_t)n >= sizeof(payload))
		goto fail;
	if (ctl_begin(c) != CTL_OK)
		goto fail;
	in_tx = 1;
	buf_puts(&sql, "CREATE TEMP TABLE " LOAD_STAGE " (LIKE ");
	if (ctl_qname(c, p->schema, p->products, &sql) != CTL_OK)
		goto fail;
	buf_puts(&sql, ") ON COMMIT DROP");
	if (buf_failed(&sql) || ctl_cmd(c, "create stage table", sql.data) !=
	    CTL_OK)
		goto fail;
	if (ctl_copy(c, "copy", "COPY " LOAD_STAGE " (" LOAD_COLS ") FROM STDIN",
	    &copy, &prog) != CTL_OK)
		goto fail;
	progress_update(&prog, st.good);
	if (apply_stage(c, p, &ins, &upd, &del) != CTL_OK)
		goto fail;
	if (ctl_notify(c, payload) != CTL_OK)
		goto fail;
	if (ctl_cmd(c, "commit", "COMMIT") != CTL_OK)
		goto fail;
	in_tx = 0;

	snprintf(note, sizeof(note), "%lld new, %lld changed, %lld removed",
	    ins, upd, del);
	progress_end(&prog, note);
	printf("load: %s: %lu rows read, %lu loaded, %lu malformed skipped"
	    "%s\n", styles, st.rows, st.good, st.malformed,
	    st.barequote ? " (bare quotes kept literally: see stderr)" : "");
	printf("load: %s.%s: %lld new, %lld changed, %lld removed, %lld "
	    "unchanged\n", p->schema, p->products, ins, upd, del,
	    (long long)st.good - ins - upd);
	rc = EXIT_OK;
fail:
	if (in_tx) {
		ctl_rollback(c);
		progress_clear(&prog);
		ctl_warnx("load failed; the catalog was not changed");
	}
	free(data);
	buf_free(&copy);
	buf_free(&sql);
	return rc;
}
