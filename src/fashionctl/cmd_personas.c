/*
 * cmd_personas.c - "fashionctl personas [--profile NAME|--all]": seed the
 * five personas of the original application as demo accounts in the users
 * and user_features tables of the active profile (default), of the one
 * named, or of both (--all, or --profile all).
 *
 * DEMO ONLY: the accounts have fixed, published passwords (README.md,
 * "Demo accounts"; printed by this command and by scripts/demo).  Only
 * their Argon2id hashes are stored (crypto_pwhash_str, interactive
 * limits, as fashiond's signup; a fresh salt every run).
 *
 *   slug         persona                    password
 *   budget       Budget-Conscious Shopper   demo-budget-2026
 *   athletic     Athletic Performance       demo-athletic-2026
 *   luxury       Luxury Fashionista         demo-luxury-2026
 *   accessories  Casual Accessories Lover   demo-accessories-2026
 *   vintage      Vintage                    demo-vintage-2026
 *
 * E-mail: <slug>@demo.fashion.invalid.  Every persona is a rule over the
 * profile's products table; percentiles are percentile_disc (actual
 * prices and years of the catalog), taken over the whole table unless
 * said otherwise:
 *
 *   budget       price <= p25(price);             band [min, p25]
 *   athletic     usage = 'Sports';                band p25..p75 of those
 *   luxury       price >= p90(price);             band [p90, max]
 *   accessories  master_category = 'Accessories' AND usage = 'Casual';
 *                                                 band p25..p75 of those
 *   vintage      year <= p10(year) (the oldest products) AND base_color
 *                in the earthy set Brown, Beige, Maroon, Olive, Khaki,
 *                Mustard, Tan, Coffee Brown, Rust;
 *                                                 band p25..p75 of those
 *
 * From the matching products: preferred_categories = the 3 most common
 * sub_category values, preferred_colors = the 3 most common base_color
 * values (NULL and "NA" left out), both by count, ties by name;
 * preferred_brands = the 3 most common brands for luxury when the layout
 * has a brand column (fashion_sota), else '{}'; min_price, max_price = the
 * band; base_vector = style_vector = unit(mean of the hybrid embeddings
 * of the matching products that have one: products.embedding in
 * fashion_sota, the embeddings table's embedding in fashion_demo),
 * averaged here in double precision.
 *
 * Idempotent: users are upserted by e-mail (user_id kept; password hash,
 * display name and persona rewritten; failed_logins and locked_until
 * reset), user_features by user_id, and the accounts' likes are deleted,
 * so a rerun resets the demo accounts to their seed state (style_vector =
 * base_vector, as the schema's update rule says for no likes).  One
 * transaction per profile, under the fashionctl write lock.
 *
 * Fails (exit 1, nothing written for that profile) when a table is
 * missing (run init), no product has an embedding (run embed), or a
 * persona matches no product with an embedding.  One line per persona on
 * stdout after the commit: profile, e-mail, password, band, colours,
 * categories, matching products.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "clip_client.h"	/* CLIP_DIM */
#include "config.h"
#include "fashionctl.h"

#define PERSONA_DOMAIN	"demo.fashion.invalid"
#define PERSONA_N	5
#define PERSONA_TOP	"3"	/* preferred categories / colours / brands */
#define FLOAT4_OID	700	/* pg_type.oid of real */
#define VEC_HDR		20	/* array_send: ndim, flags, elemtype, dim, lbound */

/* Colours the vintage persona likes. */
#define EARTHY_COLOURS	"('Brown', 'Beige', 'Maroon', 'Olive', 'Khaki', " \
	"'Mustard', 'Tan', 'Coffee Brown', 'Rust')"

struct persona {
	const char	*slug;		/* e-mail local part */
	const char	*name;		/* users.persona */
	const char	*display;	/* users.display_name */
	const char	*password;	/* DEMO ONLY: published */
	const char	*rule;		/* SQL over p (a product), s (catalog
					   percentiles p25, p90, y10) */
	const char	*lo_q, *hi_q;	/* band: percentiles of the matches' price */
	int		 brands;	/* preferred_brands from the matches */
};

static const struct persona personas[PERSONA_N] = {
	{ "budget", "Budget-Conscious Shopper", "Budget Shopper (demo)",
	  "demo-budget-2026", "p.price <= s.p25", "0", "1", 0 },
	{ "athletic", "Athletic Performance", "Athletic Shopper (demo)",
	  "demo-athletic-2026", "p.usage = 'Sports'", "0.25", "0.75", 0 },
	{ "luxury", "Luxury Fashionista", "Luxury Shopper (demo)",
	  "demo-luxury-2026", "p.price >= s.p90", "0", "1", 1 },
	{ "accessories", "Casual Accessories Lover",
	  "Accessories Shopper (demo)", "demo-accessories-2026",
	  "p.master_category = 'Accessories' AND p.usage = 'Casual'",
	  "0.25", "0.75", 0 },
	{ "vintage", "Vintage", "Vintage Shopper (demo)", "demo-vintage-2026",
	  "p.year <= s.y10 AND p.base_color IN " EARTHY_COLOURS,
	  "0.25", "0.75", 0 },
};

/* The quoted tables of one profile. */
struct ptables {
	const struct profile *p;
	struct buf	 products;
	struct buf	 vectors;	/* where the hybrid embedding lives */
	struct buf	 users;
	struct buf	 features;
	struct buf	 likes;		/* empty when not configured */
};

static void
personas_usage(void)
{
	fprintf(stderr, "usage: fashionctl personas [--profile "
	    "fashion_demo|fashion_sota|all | --all]\n"
	    "  seed the five demo accounts (DEMO ONLY passwords) in the active "
	    "profile,\n  the one named, or both\n");
}

static void
ptables_free(struct ptables *t)
{
	buf_free(&t->products);
	buf_free(&t->vectors);
	buf_free(&t->users);
	buf_free(&t->features);
	buf_free(&t->likes);
}

/*
 * Quote P's tables and check they exist and hold at least one embedding.
 * CTL_OK or CTL_ERROR (reported).
 */
static int
ptables_init(struct ctl *c, const struct profile *p, struct ptables *t)
{
	const char *need[4];
	struct buf sql;
	long long n;
	int i, x, rc = CTL_ERROR;

	memset(t, 0, sizeof(*t));
	t->p = p;
	buf_init(&t->products);
	buf_init(&t->vectors);
	buf_init(&t->users);
	buf_init(&t->features);
	buf_init(&t->likes);
	buf_init(&sql);
	if (!p->embedded && p->embeddings[0] == '\0') {
		ctl_warnx("profile %s has no embedding columns (set embedded "
		    "or embeddings)", p->name);
		goto out;
	}
	need[0] = p->products;
	need[1] = p->embedded ? p->products : p->embeddings;
	need[2] = p->users;
	need[3] = p->user_features;
	for (i = 0; i < 4; i++) {
		if ((x = ctl_table_exists(c, p->schema, need[i])) < 0)
			goto out;
		if (x == 0) {
			ctl_warnx("%s.%s does not exist: run \"fashionctl init\" "
			    "first", p->schema, need[i]);
			goto out;
		}
	}
	if (ctl_qname(c, p->schema, p->products, &t->products) != CTL_OK ||
	    ctl_qname(c, p->schema, need[1], &t->vectors) != CTL_OK ||
	    ctl_qname(c, p->schema, p->users, &t->users) != CTL_OK ||
	    ctl_qname(c, p->schema, p->user_features, &t->features) != CTL_OK)
		goto out;
	if (p->likes[0] != '\0') {
		if ((x = ctl_table_exists(c, p->schema, p->likes)) < 0)
			goto out;
		if (x == 1 && ctl_qname(c, p->schema, p->likes, &t->likes) !=
		    CTL_OK)
			goto out;
	}
	buf_printf(&sql, "SELECT count(*) FROM (SELECT 1 FROM %s WHERE "
	    "embedding IS NOT NULL LIMIT 1) x", t->vectors.data);
	if (buf_failed(&sql)) {
		ctl_warnx("out of memory");
		goto out;
	}
	if (ctl_count(c, "look for embeddings", sql.data, 0, NULL, &n) !=
	    CTL_OK)
		goto out;
	if (n == 0) {
		ctl_warnx("profile %s: no product has an embedding yet (%s.%s): "
		    "run \"fashionctl embed\" first", p->name, p->schema,
		    need[1]);
		goto out;
	}
	rc = CTL_OK;
out:
	buf_free(&sql);
	return rc;
}

/* The persona's matching products as the CTEs s (percentiles) and m. */
static void
match_cte(const struct ptables *t, const struct persona *ps, struct buf *sql)
{
	buf_printf(sql, "WITH s AS (SELECT "
	    "percentile_disc(0.25) WITHIN GROUP (ORDER BY price) AS p25, "
	    "percentile_disc(0.90) WITHIN GROUP (ORDER BY price) AS p90, "
	    "percentile_disc(0.10) WITHIN GROUP (ORDER BY year) AS y10 "
	    "FROM %s), "
	    "m AS MATERIALIZED (SELECT p.product_id, p.price, p.sub_category, "
	    "p.base_color, %s AS brand FROM %s p CROSS JOIN s WHERE %s) ",
	    t->products.data, t->p->has_brand ? "p.brand" : "NULL::text",
	    t->products.data, ps->rule);
}

/* What the persona's rule gives, as text from the result. */
struct prefs {
	long long	 matches;	/* products matching the rule */
	long long	 vectors;	/* of which with an embedding */
	char		*lo, *hi;	/* price band */
	char		*cats, *cols, *brands;	/* text[] literals */
	char		*cats_s, *cols_s, *brands_s;	/* ", "-joined */
	float		 vec[CLIP_DIM];	/* unit mean */
};

static void
prefs_free(struct prefs *f)
{
	free(f->lo);
	free(f->hi);
	free(f->cats);
	free(f->cols);
	free(f->brands);
	free(f->cats_s);
	free(f->cols_s);
	free(f->brands_s);
	memset(f, 0, sizeof(*f));
}

static uint32_t
get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

/*
 * Add the real[CLIP_DIM] in array_send format (P, LEN bytes) to ACC.
 * CTL_OK, or CTL_ERROR when it is not one.
 */
static int
add_vector(const unsigned char *p, int len, double *acc)
{
	uint32_t bits;
	float f;
	size_t j;

	if (len != VEC_HDR + CLIP_DIM * 8 || get32(p) != 1 ||
	    get32(p + 4) != 0 || get32(p + 8) != FLOAT4_OID ||
	    get32(p + 12) != CLIP_DIM)
		return CTL_ERROR;
	p += VEC_HDR;
	for (j = 0; j < CLIP_DIM; j++, p += 8) {
		if (get32(p) != 4)
			return CTL_ERROR;
		bits = get32(p + 4);
		memcpy(&f, &bits, 4);
		if (!isfinite(f))
			return CTL_ERROR;
		acc[j] += f;
	}
	return CTL_OK;
}

/* The unit mean of the matches' hybrid embeddings into F->vec. */
static int
mean_vector(struct ctl *c, const struct ptables *t, const struct persona *ps,
    struct prefs *f)
{
	double acc[CLIP_DIM], norm = 0.0;
	struct buf sql;
	PGresult *r = NULL;
	int i, n, rc = CTL_ERROR;
	size_t j;

	memset(acc, 0, sizeof(acc));
	buf_init(&sql);
	match_cte(t, ps, &sql);
	buf_printf(&sql, "SELECT x.embedding FROM m JOIN %s x USING "
	    "(product_id) WHERE x.embedding IS NOT NULL", t->vectors.data);
	if (buf_failed(&sql)) {
		ctl_warnx("out of memory");
		goto out;
	}
	r = PQexecParams(c->conn, sql.data, 0, NULL, NULL, NULL, NULL, 1);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *m = PQresultErrorMessage(r);

		ctl_warnx("personas: %s: embeddings: %.*s", ps->slug,
		    (int)strcspn(m, "\n"), m);
		goto out;
	}
	n = PQntuples(r);
	for (i = 0; i < n; i++)
		if (add_vector((const unsigned char *)PQgetvalue(r, i, 0),
		    PQgetlength(r, i, 0), acc) != CTL_OK) {
			ctl_warnx("personas: %s: %s: an embedding that is not "
			    "real[%d] without NULLs (run \"fashionctl verify\")",
			    ps->slug, t->vectors.data, CLIP_DIM);
			goto out;
		}
	f->vectors = n;
	if (n == 0) {
		ctl_warnx("profile %s: persona %s: none of its %lld products "
		    "has an embedding yet: run \"fashionctl embed\" first",
		    t->p->name, ps->name, f->matches);
		goto out;
	}
	for (j = 0; j < CLIP_DIM; j++) {
		acc[j] /= n;
		norm += acc[j] * acc[j];
	}
	if (!isfinite(norm) || norm <= 0.0) {
		ctl_warnx("profile %s: persona %s: the mean embedding is zero",
		    t->p->name, ps->name);
		goto out;
	}
	norm = sqrt(norm);
	for (j = 0; j < CLIP_DIM; j++)
		f->vec[j] = (float)(acc[j] / norm);
	rc = CTL_OK;
out:
	PQclear(r);
	buf_free(&sql);
	return rc;
}

static char *
dup_value(const PGresult *r, int col)
{
	return strdup(PQgetisnull(r, 0, col) ? "" : PQgetvalue(r, 0, col));
}

/* Preferences from the catalog; CTL_OK or CTL_ERROR (reported). */
static int
derive(struct ctl *c, const struct ptables *t, const struct persona *ps,
    struct prefs *f)
{
	struct buf sql;
	PGresult *r = NULL;
	int rc = CTL_ERROR;

	buf_init(&sql);
	match_cte(t, ps, &sql);
	buf_printf(&sql, ", q AS (SELECT "
	    "(SELECT count(*) FROM m) AS n, "
	    "(SELECT percentile_disc(%s) WITHIN GROUP (ORDER BY price) "
	    "FROM m) AS lo, "
	    "(SELECT percentile_disc(%s) WITHIN GROUP (ORDER BY price) "
	    "FROM m) AS hi, "
	    "ARRAY(SELECT sub_category FROM m GROUP BY 1 "
	    "ORDER BY count(*) DESC, 1 LIMIT " PERSONA_TOP ") AS cats, "
	    "ARRAY(SELECT base_color FROM m WHERE base_color IS NOT NULL AND "
	    "base_color <> 'NA' GROUP BY 1 "
	    "ORDER BY count(*) DESC, 1 LIMIT " PERSONA_TOP ") AS cols, ",
	    ps->lo_q, ps->hi_q);
	if (ps->brands && t->p->has_brand)
		buf_puts(&sql, "ARRAY(SELECT brand FROM m WHERE brand IS NOT "
		    "NULL AND brand <> '' GROUP BY 1 "
		    "ORDER BY count(*) DESC, 1 LIMIT " PERSONA_TOP ") AS brands");
	else
		buf_puts(&sql, "'{}'::text[] AS brands");
	buf_puts(&sql, ") SELECT n, lo, hi, cats, cols, brands, "
	    "array_to_string(cats, ', '), array_to_string(cols, ', '), "
	    "array_to_string(brands, ', ') FROM q");
	if (buf_failed(&sql)) {
		ctl_warnx("out of memory");
		goto out;
	}
	if ((r = ctl_exec(c, ps->slug, sql.data, 0, NULL,
	    PGRES_TUPLES_OK)) == NULL)
		goto out;
	if (PQntuples(r) != 1) {
		ctl_warnx("personas: %s: expected one row", ps->slug);
		goto out;
	}
	f->matches = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	if (f->matches <= 0) {
		ctl_warnx("profile %s: persona %s matches no product in %s",
		    t->p->name, ps->name, t->products.data);
		goto out;
	}
	f->lo = dup_value(r, 1);
	f->hi = dup_value(r, 2);
	f->cats = dup_value(r, 3);
	f->cols = dup_value(r, 4);
	f->brands = dup_value(r, 5);
	f->cats_s = dup_value(r, 6);
	f->cols_s = dup_value(r, 7);
	f->brands_s = dup_value(r, 8);
	if (f->lo == NULL || f->hi == NULL || f->cats == NULL ||
	    f->cols == NULL || f->brands == NULL || f->cats_s == NULL ||
	    f->cols_s == NULL || f->brands_s == NULL) {
		ctl_warnx("out of memory");
		goto out;
	}
	if (mean_vector(c, t, ps, f) != CTL_OK)
		goto out;
	if (f->vectors < f->matches)
		ctl_warnx("note: profile %s: persona %s: %lld of its %lld "
		    "products have an embedding (\"fashionctl embed\" adds the "
		    "others)", t->p->name, ps->name, f->vectors, f->matches);
	rc = CTL_OK;
out:
	PQclear(r);
	buf_free(&sql);
	return rc;
}

/* Upsert the account and its preferences. */
static int
write_persona(struct ctl *c, const struct ptables *t, const struct persona *ps,
    const char *hash, const struct prefs *f)
{
	char email[128], uid[32];
	const char *v[8];
	struct buf sql, vec;
	PGresult *r = NULL;
	size_t j;
	int n, rc = CTL_ERROR;

	buf_init(&sql);
	buf_init(&vec);
	n = snprintf(email, sizeof(email), "%s@" PERSONA_DOMAIN, ps->slug);
	if (n < 0 || (size_t)n >= sizeof(email)) {
		ctl_warnx("personas: %s: e-mail too long", ps->slug);
		goto out;
	}
	buf_printf(&sql, "INSERT INTO %s AS u (email, display_name, "
	    "password_hash, persona) VALUES ($1, $2, $3, $4) "
	    "ON CONFLICT (email) DO UPDATE SET "
	    "display_name = EXCLUDED.display_name, "
	    "password_hash = EXCLUDED.password_hash, "
	    "persona = EXCLUDED.persona, failed_logins = 0, locked_until = NULL "
	    "RETURNING user_id", t->users.data);
	if (buf_failed(&sql))
		goto nomem;
	v[0] = email;
	v[1] = ps->display;
	v[2] = hash;
	v[3] = ps->name;
	if ((r = ctl_exec(c, "write users", sql.data, 4, v,
	    PGRES_TUPLES_OK)) == NULL)
		goto out;
	if (PQntuples(r) != 1 || (size_t)PQgetlength(r, 0, 0) >= sizeof(uid)) {
		ctl_warnx("write users: expected one user_id");
		goto out;
	}
	memcpy(uid, PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0) + 1);
	PQclear(r);
	r = NULL;

	if (t->likes.len > 0) {
		buf_reset(&sql);
		buf_printf(&sql, "DELETE FROM %s WHERE user_id = $1::bigint",
		    t->likes.data);
		if (buf_failed(&sql))
			goto nomem;
		v[0] = uid;
		if ((r = ctl_exec(c, "reset likes", sql.data, 1, v,
		    PGRES_COMMAND_OK)) == NULL)
			goto out;
		PQclear(r);
		r = NULL;
	}

	buf_add(&vec, "{", 1);
	for (j = 0; j < CLIP_DIM; j++)
		buf_printf(&vec, "%s%.9g", j ? "," : "", (double)f->vec[j]);
	buf_add(&vec, "}", 1);
	buf_reset(&sql);
	buf_printf(&sql, "INSERT INTO %s (user_id, preferred_categories, "
	    "preferred_colors, preferred_brands, min_price, max_price, "
	    "base_vector, style_vector, updated_at) VALUES ($1::bigint, "
	    "$2::text[], $3::text[], $4::text[], $5::numeric, $6::numeric, "
	    "$7::real[], $7::real[], now()) ON CONFLICT (user_id) DO UPDATE SET "
	    "preferred_categories = EXCLUDED.preferred_categories, "
	    "preferred_colors = EXCLUDED.preferred_colors, "
	    "preferred_brands = EXCLUDED.preferred_brands, "
	    "min_price = EXCLUDED.min_price, max_price = EXCLUDED.max_price, "
	    "base_vector = EXCLUDED.base_vector, "
	    "style_vector = EXCLUDED.style_vector, updated_at = now()",
	    t->features.data);
	if (buf_failed(&sql) || buf_failed(&vec))
		goto nomem;
	v[0] = uid;
	v[1] = f->cats;
	v[2] = f->cols;
	v[3] = f->brands;
	v[4] = f->lo;
	v[5] = f->hi;
	v[6] = vec.data;
	if ((r = ctl_exec(c, "write user features", sql.data, 7, v,
	    PGRES_COMMAND_OK)) == NULL)
		goto out;
	rc = CTL_OK;
	goto out;
nomem:
	ctl_warnx("out of memory");
out:
	PQclear(r);
	buf_free(&sql);
	buf_free(&vec);
	return rc;
}

/* One profile in one transaction; its lines appended to OUT. */
static int
seed_profile(struct ctl *c, const struct ptables *t,
    char hashes[PERSONA_N][crypto_pwhash_STRBYTES], struct buf *out)
{
	struct prefs f;
	size_t k;

	memset(&f, 0, sizeof(f));
	if (ctl_begin(c) != CTL_OK)
		return CTL_ERROR;
	for (k = 0; k < PERSONA_N; k++) {
		const struct persona *ps = &personas[k];

		if (derive(c, t, ps, &f) != CTL_OK ||
		    write_persona(c, t, ps, hashes[k], &f) != CTL_OK)
			goto fail;
		buf_printf(out, "personas: %s: %s@" PERSONA_DOMAIN " password "
		    "%s (DEMO ONLY): %s; price %s..%s; colours %s; "
		    "categories %s", t->p->name, ps->slug, ps->password,
		    ps->name, f.lo, f.hi, f.cols_s, f.cats_s);
		if (f.brands_s[0] != '\0')
			buf_printf(out, "; brands %s", f.brands_s);
		buf_printf(out, "; %lld matching products\n", f.matches);
		prefs_free(&f);
	}
	if (ctl_cmd(c, "commit", "COMMIT") != CTL_OK)
		goto fail;
	return CTL_OK;
fail:
	prefs_free(&f);
	ctl_rollback(c);
	ctl_warnx("profile %s: nothing written", t->p->name);
	return CTL_ERROR;
}

int
cmd_personas(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char hashes[PERSONA_N][crypto_pwhash_STRBYTES];
	struct ptables t[2];
	struct buf out;
	const char *profile = NULL;
	int ch, i, layout[2], nt = 0, all = 0, rc = EXIT_FAIL;
	size_t k;

	while ((ch = getopt_long(argc, argv, "p:ah", opts, NULL)) != -1) {
		switch (ch) {
		case 'p':
			profile = optarg;
			break;
		case 'a':
			all = 1;
			break;
		case 'h':
			personas_usage();
			return EXIT_OK;
		default:
			personas_usage();
			return EXIT_USAGE;
		}
	}
	if (optind != argc || (all && profile != NULL &&
	    strcmp(profile, "all") != 0)) {
		personas_usage();
		return EXIT_USAGE;
	}
	if (all || (profile != NULL && strcmp(profile, "all") == 0))
		layout[0] = layout[1] = 1;
	else {
		if (profile == NULL)
			profile = c->cfg->active->name;
		for (i = 0; i < 2; i++)
			layout[i] = strcmp(profile,
			    c->cfg->profiles[i].name) == 0;
		if (!layout[0] && !layout[1]) {
			ctl_warnx("unknown profile \"%s\" (%s, %s or all)",
			    profile, c->cfg->profiles[0].name,
			    c->cfg->profiles[1].name);
			return EXIT_USAGE;
		}
	}

	buf_init(&out);
	if (ctl_connect(c) != CTL_OK)
		goto out;
	/* Check every chosen profile before writing to any. */
	for (i = 0; i < 2; i++) {
		if (!layout[i])
			continue;
		if (ptables_init(c, &c->cfg->profiles[i], &t[nt++]) != CTL_OK)
			goto out;
	}
	if (sodium_init() < 0) {
		ctl_warnx("libsodium: initialisation failed");
		goto out;
	}
	for (k = 0; k < PERSONA_N; k++)
		if (crypto_pwhash_str(hashes[k], personas[k].password,
		    strlen(personas[k].password),
		    crypto_pwhash_OPSLIMIT_INTERACTIVE,
		    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
			ctl_warnx("password hash: out of memory");
			goto out;
		}
	for (i = 0; i < nt; i++) {
		if (seed_profile(c, &t[i], hashes, &out) != CTL_OK)
			goto out;
		if (buf_failed(&out)) {
			ctl_warnx("out of memory");
			goto out;
		}
		/* Committed: say so now, whatever happens to the next one. */
		fwrite(out.data, 1, out.len, stdout);
		fflush(stdout);
		buf_reset(&out);
	}
	rc = EXIT_OK;
out:
	for (i = 0; i < nt; i++)
		ptables_free(&t[i]);
	buf_free(&out);
	sodium_memzero(hashes, sizeof(hashes));
	return rc;
}
