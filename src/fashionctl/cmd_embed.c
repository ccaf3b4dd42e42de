/*
 * cmd_embed.c - "fashionctl embed": every product's CLIP embeddings from
 * the Model Serving endpoint (clip.*, src/clip_client.c), written into
 * both layouts: image_embedding from <DIR>/<id>.jpg, text_embedding from
 * the product text (prodtext.h), and the hybrid embedding =
 * normalise(image + text), or normalise(text) without an image.  All three
 * are L2-normalised before they are stored.
 *
 * Plan: one query lists every product of the chosen layouts with the state
 * of its vectors and an md5 of the columns the text is made of.  A product
 * id is embedded once and written to every layout that holds it (with the
 * same text: a layout whose text differs, after a load without a migrate,
 * gets its own computation).  Unless --force, products whose vectors are
 * all set are skipped; a product without an image is complete with text
 * and hybrid set.  Products of the new layout have a validated image (see
 * migrate); for the others the image is checked with imgcheck.
 *
 * Work: --jobs threads, each with its own CLIP client (one keep-alive
 * connection), take batches of clip.max_batch / 2 products (one invocation
 * of up to clip.max_batch records) and hand the vectors to the main thread,
 * which writes each batch in its own transaction: the three columns of a
 * product in one UPDATE (new layout) / INSERT .. ON CONFLICT (old layout's
 * embeddings table), guarded by the md5 so a product changed meanwhile is
 * left for the next run, then NOTIFY and COMMIT.  A failure stops the
 * command; committed batches stay valid and a rerun continues from there.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "clip_client.h"
#include "clock.h"
#include "db.h"
#include "fashionctl.h"
#include "imgcheck.h"
#include "prodtext.h"
#include "progress.h"

#define EMB_JOBS_DEFAULT 2
#define EMB_JOBS_MAX	64
#define EMB_BATCH_MAX	256		/* products per batch */
#define EMB_NVEC	3		/* image, text, hybrid */
#define EMB_WINDOW	2		/* batches unwritten per job, at most */
#define EMB_ERR_MAX	2048
#define EMB_DIR_MAX	1024		/* longest images directory */
#define EMB_PATH_MAX	(EMB_DIR_MAX + 32)

#define FLOAT4_OID	700		/* pg_type.oid of real */
#define VEC_HDR		20		/* ndim, flags, elemtype, dim, lbound */
#define VEC_BIN_LEN	(VEC_HDR + CLIP_DIM * 8)	/* array_send of real[512] */

/* The text's source columns, hashed to notice a change before a write. */
#define EMB_SRC_HASH	"md5(row(p.product_display_name, p.base_color, " \
	"p.article_type, p.gender, p.usage)::text)"

/* A vector column holding a real[CLIP_DIM] without NULLs. */
#define EMB_STR(x)	#x
#define EMB_XSTR(x)	EMB_STR(x)
#define VEC_OK(col)	"(" col " IS NOT NULL AND array_ndims(" col ") = 1 AND " \
	"cardinality(" col ") = " EMB_XSTR(CLIP_DIM) " AND " \
	"array_position(" col ", NULL) IS NULL)"

/* The new layout (profiles[1]) only holds products with a valid image. */
#define LAYOUT_VALIDATED 1

/* struct item flags */
#define IT_LAYOUT(i)	(1u << (i))	/* the product is in profiles[i] */
#define IT_IMAGE	0x10u		/* it has an image to embed */

struct item {
	long		 id;
	char		*text;		/* what its text embedding is made of */
	char		*hash;		/* EMB_SRC_HASH at plan time */
	unsigned	 flags;
};

struct batch {
	size_t		 first, n;	/* items [first, first + n) */
	float		*vec;		/* n * EMB_NVEC * CLIP_DIM: image, text,
					   hybrid per item */
	int		 ok;		/* vectors computed */
	char		 err[EMB_ERR_MAX];
	struct batch	*next;		/* on the done list */
};

struct embed {
	struct ctl	*c;
	const char	*images;	/* <id>.jpg */
	int		 layout[2];	/* write profiles[i] */
	struct buf	 tbl[2];	/* quoted products tables */
	struct buf	 emb[2];	/* quoted separate embeddings tables */
	struct item	*items;		/* products to embed */
	size_t		 nitems, cap;
	size_t		 per_batch;	/* products per batch */
	size_t		 nbatches;

	/* Shared with the workers, under mu. */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;		/* batch done, written, or stop */
	size_t		 next;		/* next batch to take */
	size_t		 finished;	/* batches taken and finished */
	size_t		 pending;	/* taken, not yet written */
	size_t		 window;	/* most pending batches */
	int		 stop;		/* take no more batches */
	struct batch	*done;		/* computed, not yet written */
};

struct worker {
	struct embed	*e;
	struct clip_client *clip;
	pthread_t	 tid;
	int		 started;
	/* scratch, reused between batches */
	struct clip_input *rows;	/* 2 * per_batch */
	struct buf	*img;		/* per_batch image files */
	float		*out;		/* 2 * per_batch * CLIP_DIM */
};

struct embed_stats {
	unsigned long	 uptodate;	/* skipped: nothing missing */
	unsigned long	 textonly;	/* to embed without an image */
	unsigned long	 badimage;	/* of which: the image file is unusable */
	unsigned long	 embedded;	/* written */
	long long	 rows[2];	/* rows written per layout */
	long long	 changed;	/* rows changed meanwhile, not written */
};

/* --- plan ---------------------------------------------------------------- */

/* One product as the plan query sees it, merged over the layouts. */
struct cand {
	long		 id;
	const char	*hash;
	int		 row;		/* a result row with its columns */
	int		 in[2], th[2], im[2];	/* in layout, text+hybrid, image */
};

static int
image_path(const char *dir, long id, char *path, size_t len)
{
	int n = snprintf(path, len, "%s/%ld.jpg", dir, id);

	return n < 0 || (size_t)n >= len ? CTL_ERROR : CTL_OK;
}

/* Does a product outside the validated layout have a usable image? */
static int
check_image(struct embed *e, struct imgcheck *ic, long id,
    struct embed_stats *st)
{
	char path[EMB_PATH_MAX], why[160];
	int w, h, r;

	if (image_path(e->images, id, path, sizeof(path)) != CTL_OK) {
		ctl_warnx("%s: path too long", e->images);
		return CTL_ERROR;
	}
	switch ((r = imgcheck_file(ic, path, &w, &h, why, sizeof(why)))) {
	case IMG_OK:
		return 1;
	case IMG_MISSING:
		return 0;
	case IMG_BAD:
		st->badimage++;
		ctl_warnx("note: %s: %s: product %ld gets text only", path, why,
		    id);
		return 0;
	default:
		ctl_warnx("%s: out of memory", path);
		return CTL_ERROR;
	}
}

static int
add_item(struct embed *e, const struct cand *k, const PGresult *r,
    int has_image)
{
	struct prodtext_fields f;
	struct item *it, *n;
	struct buf text;
	size_t ncap;
	int i;

	if (e->nitems == e->cap) {
		ncap = e->cap ? e->cap * 2 : 1024;
		if ((n = reallocarray(e->items, ncap, sizeof(*n))) == NULL)
			return CTL_ERROR;
		e->items = n;
		e->cap = ncap;
	}
	f.name = PQgetvalue(r, k->row, 3);
	f.colour = PQgetisnull(r, k->row, 4) ? NULL : PQgetvalue(r, k->row, 4);
	f.article = PQgetvalue(r, k->row, 5);
	f.gender = PQgetvalue(r, k->row, 6);
	f.usage = PQgetisnull(r, k->row, 7) ? NULL : PQgetvalue(r, k->row, 7);
	buf_init(&text);
	prodtext(&text, &f);
	buf_add(&text, "", 1);		/* allocated even when empty */
	it = &e->items[e->nitems];
	it->id = k->id;
	it->text = text.data;
	it->hash = strdup(k->hash);
	it->flags = has_image ? IT_IMAGE : 0;
	for (i = 0; i < 2; i++)
		if (k->in[i])
			it->flags |= IT_LAYOUT(i);
	if (buf_failed(&text) || it->hash == NULL) {
		buf_free(&text);
		free(it->hash);
		return CTL_ERROR;
	}
	e->nitems++;
	return CTL_OK;
}

/* Decide about one merged product: to do or up to date. */
static int
plan_cand(struct embed *e, const struct cand *k, const PGresult *r,
    int force, struct imgcheck *ic, struct embed_stats *st)
{
	int i, need = force, img = -1;

	if (k->in[LAYOUT_VALIDATED])
		img = 1;
	for (i = 0; i < 2; i++)
		if (k->in[i] && !k->th[i])
			need = 1;
	for (i = 0; i < 2 && !need; i++) {
		if (!k->in[i] || k->im[i])
			continue;
		if (img < 0 && (img = check_image(e, ic, k->id, st)) < 0)
			return CTL_ERROR;
		need = img;	/* no image: done with text and hybrid */
	}
	if (!need) {
		st->uptodate++;
		return CTL_OK;
	}
	if (img < 0 && (img = check_image(e, ic, k->id, st)) < 0)
		return CTL_ERROR;
	if (!img)
		st->textonly++;
	if (add_item(e, k, r, img) != CTL_OK) {
		ctl_warnx("out of memory");
		return CTL_ERROR;
	}
	return CTL_OK;
}

/* The plan query's part for layout I. */
static void
plan_sql(struct embed *e, int i, struct buf *sql)
{
	const struct profile *p = &e->c->cfg->profiles[i];

	buf_printf(sql, "SELECT p.product_id, %d, " EMB_SRC_HASH ", "
	    "p.product_display_name, p.base_color, p.article_type, p.gender, "
	    "p.usage, " VEC_OK("x.text_embedding") " AND "
	    VEC_OK("x.embedding") ", " VEC_OK("x.image_embedding") " FROM %s p",
	    i, e->tbl[i].data);
	if (p->embedded)
		buf_puts(sql, " CROSS JOIN LATERAL (SELECT p.image_embedding, "
		    "p.text_embedding, p.embedding) x");
	else
		buf_printf(sql, " LEFT JOIN %s x USING (product_id)",
		    e->emb[i].data);
}

static int
plan(struct embed *e, int force, struct embed_stats *st)
{
	struct imgcheck ic;
	struct cand k;
	struct buf sql;
	PGresult *r = NULL;
	const char *hash;
	char *end;
	long id;
	int i, row, n, layout, rc = CTL_ERROR;

	imgcheck_init(&ic);
	buf_init(&sql);
	memset(&k, 0, sizeof(k));
	for (i = 0, n = 0; i < 2; i++) {
		if (!e->layout[i])
			continue;
		if (n++ > 0)
			buf_puts(&sql, " UNION ALL ");
		plan_sql(e, i, &sql);
	}
	buf_puts(&sql, " ORDER BY 1, 2");
	if (buf_failed(&sql)) {
		ctl_warnx("out of memory");
		goto fail;
	}
	if ((r = ctl_exec(e->c, "list products", sql.data, 0, NULL,
	    PGRES_TUPLES_OK)) == NULL)
		goto fail;

	k.id = -1;
	for (row = 0; row < PQntuples(r); row++) {
		id = strtol(PQgetvalue(r, row, 0), &end, 10);
		layout = PQgetvalue(r, row, 1)[0] == '1';
		hash = PQgetvalue(r, row, 2);
		if (*end != '\0' || id <= 0) {
			ctl_warnx("list products: bad id \"%s\"",
			    PQgetvalue(r, row, 0));
			goto fail;
		}
		if (k.id != id || strcmp(k.hash, hash) != 0) {
			if (k.id > 0 && plan_cand(e, &k, r, force, &ic, st) !=
			    CTL_OK)
				goto fail;
			memset(&k, 0, sizeof(k));
			k.id = id;
			k.hash = hash;
			k.row = row;
		}
		k.in[layout] = 1;
		k.th[layout] = PQgetvalue(r, row, 8)[0] == 't';
		k.im[layout] = PQgetvalue(r, row, 9)[0] == 't';
	}
	if (k.id > 0 && plan_cand(e, &k, r, force, &ic, st) != CTL_OK)
		goto fail;
	rc = CTL_OK;
fail:
	PQclear(r);
	buf_free(&sql);
	imgcheck_free(&ic);
	return rc;
}

/* --- workers ------------------------------------------------------------- */

/* Read product ID's image file into OUT.  CTL_OK or CTL_ERROR (in ERR). */
static int
read_image(const char *dir, long id, struct buf *out, char *err, size_t errlen)
{
	char path[EMB_PATH_MAX], chunk[65536];
	struct stat sb;
	ssize_t n;
	int fd = -1, rc = CTL_ERROR;

	buf_reset(out);
	if (image_path(dir, id, path, sizeof(path)) != CTL_OK) {
		snprintf(err, errlen, "%s: path too long", dir);
		return CTL_ERROR;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
		    errno == ENOENT ? " (wrong --images, or run fashionctl "
		    "migrate again)" : "");
		return CTL_ERROR;
	}
	if (fstat(fd, &sb) == -1) {
		snprintf(err, errlen, "fstat: %s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size <= 0 ||
	    sb.st_size > IMG_MAXBYTES) {
		snprintf(err, errlen, "%s: not a regular file of 1..%ld bytes",
		    path, IMG_MAXBYTES);
		goto fail;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "read: %s: %s", path,
			    strerror(errno));
			goto fail;
		}
		buf_add(out, chunk, (size_t)n);
		if (out->len > (size_t)IMG_MAXBYTES) {
			snprintf(err, errlen, "%s: larger than %ld bytes", path,
			    IMG_MAXBYTES);
			goto fail;
		}
	}
	if (buf_failed(out) || out->len == 0) {
		snprintf(err, errlen, "%s: %s", path, out->len ? "out of memory" :
		    "empty");
		goto fail;
	}
	rc = CTL_OK;
fail:
	close(fd);
	return rc;
}

/* Compute batch B: one clip_embed call for all its records. */
static void
run_batch(struct worker *w, struct batch *b)
{
	const struct embed *e = w->e;
	const struct item *it;
	float *img, *txt, *hyb;
	const float *src;
	char why[EMB_ERR_MAX - 64];
	size_t i, j, nr = 0, k = 0;

	for (i = 0; i < b->n; i++) {
		it = &e->items[b->first + i];
		if (it->flags & IT_IMAGE) {
			if (read_image(e->images, it->id, &w->img[i], b->err,
			    sizeof(b->err)) != CTL_OK)
				return;
			memset(&w->rows[nr], 0, sizeof(w->rows[nr]));
			w->rows[nr].image = (unsigned char *)w->img[i].data;
			w->rows[nr].image_len = w->img[i].len;
			nr++;
		}
		memset(&w->rows[nr], 0, sizeof(w->rows[nr]));
		w->rows[nr].text = it->text;
		w->rows[nr].text_len = strlen(it->text);
		nr++;
	}
	if (clip_embed(w->clip, w->rows, nr, w->out, why, sizeof(why)) !=
	    CLIP_OK) {
		snprintf(b->err, sizeof(b->err), "products %ld..%ld: %s",
		    e->items[b->first].id, e->items[b->first + b->n - 1].id, why);
		return;
	}
	for (i = 0; i < b->n; i++) {
		it = &e->items[b->first + i];
		img = b->vec + i * EMB_NVEC * CLIP_DIM;
		txt = img + CLIP_DIM;
		hyb = txt + CLIP_DIM;
		if (it->flags & IT_IMAGE) {
			src = w->out + k++ * CLIP_DIM;
			memcpy(img, src, CLIP_DIM * sizeof(float));
			if (clip_unit(img) != 0)
				goto zero;
		}
		memcpy(txt, w->out + k++ * CLIP_DIM, CLIP_DIM * sizeof(float));
		if (clip_unit(txt) != 0)
			goto zero;
		for (j = 0; j < CLIP_DIM; j++)
			hyb[j] = (it->flags & IT_IMAGE) ? img[j] + txt[j] : txt[j];
		if (clip_unit(hyb) != 0)
			goto zero;
	}
	b->ok = 1;
	return;
zero:
	snprintf(b->err, sizeof(b->err), "CLIP endpoint %s: product %ld: zero "
	    "or non-finite embedding", clip_client_url(w->clip), it->id);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct embed *e = w->e;
	struct batch *b;
	size_t idx;

	for (;;) {
		pthread_mutex_lock(&e->mu);
		while (!e->stop && e->next < e->nbatches &&
		    e->pending >= e->window)
			pthread_cond_wait(&e->cv, &e->mu);
		if (e->stop || e->next >= e->nbatches) {
			pthread_mutex_unlock(&e->mu);
			break;
		}
		idx = e->next++;
		e->pending++;
		pthread_mutex_unlock(&e->mu);

		if ((b = calloc(1, sizeof(*b))) != NULL) {
			b->first = idx * e->per_batch;
			b->n = e->nitems - b->first < e->per_batch ?
			    e->nitems - b->first : e->per_batch;
			b->vec = calloc(b->n * EMB_NVEC * CLIP_DIM, sizeof(float));
			if (b->vec == NULL)
				snprintf(b->err, sizeof(b->err), "out of memory");
			else
				run_batch(w, b);
		}

		pthread_mutex_lock(&e->mu);
		e->finished++;
		if (b == NULL) {
			e->pending--;
			e->stop = 1;
		} else {
			b->next = e->done;
			e->done = b;
			if (!b->ok)
				e->stop = 1;
		}
		pthread_cond_broadcast(&e->cv);
		pthread_mutex_unlock(&e->mu);
	}
	return NULL;
}

/* --- writes -------------------------------------------------------------- */

static void
put32(unsigned char *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

/* V as the binary send format of real[CLIP_DIM] (array_recv). */
static void
vec_bin(const float *v, unsigned char *out)
{
	uint32_t bits;
	size_t j;

	put32(out, 1);			/* ndim */
	put32(out + 4, 0);		/* no NULLs */
	put32(out + 8, FLOAT4_OID);
	put32(out + 12, CLIP_DIM);
	put32(out + 16, 1);		/* lower bound */
	out += VEC_HDR;
	for (j = 0; j < CLIP_DIM; j++) {
		memcpy(&bits, &v[j], 4);
		put32(out, 4);
		put32(out + 4, bits);
		out += 8;
	}
}

/* The statement writing batch rows of layout I: UPDATE or upsert. */
static void
write_sql(struct embed *e, int i, size_t n, struct buf *sql)
{
	const struct profile *p = &e->c->cfg->profiles[i];
	size_t k;

	if (p->embedded)
		buf_printf(sql, "UPDATE %s AS p SET image_embedding = v.i, "
		    "text_embedding = v.t, embedding = v.e FROM (VALUES ",
		    e->tbl[i].data);
	else
		buf_printf(sql, "INSERT INTO %s AS x (product_id, "
		    "image_embedding, text_embedding, embedding) "
		    "SELECT v.id, v.i, v.t, v.e FROM (VALUES ", e->emb[i].data);
	for (k = 0; k < n; k++)
		buf_printf(sql, "%s($%zu::integer, $%zu::text, $%zu::real[], "
		    "$%zu::real[], $%zu::real[])", k ? ", " : "", 5 * k + 1,
		    5 * k + 2, 5 * k + 3, 5 * k + 4, 5 * k + 5);
	buf_puts(sql, ") AS v (id, h, i, t, e) ");
	if (p->embedded)
		buf_puts(sql, "WHERE p.product_id = v.id AND " EMB_SRC_HASH
		    " = v.h");
	else
		buf_printf(sql, "JOIN %s p ON p.product_id = v.id AND "
		    EMB_SRC_HASH " = v.h ON CONFLICT (product_id) DO UPDATE SET "
		    "image_embedding = EXCLUDED.image_embedding, "
		    "text_embedding = EXCLUDED.text_embedding, "
		    "embedding = EXCLUDED.embedding", e->tbl[i].data);
}

/* Write batch B's rows of layout I.  CTL_OK or CTL_ERROR (reported). */
static int
write_layout(struct embed *e, const struct batch *b, int i,
    struct embed_stats *st)
{
	const struct item *it;
	struct buf sql;
	PGresult *r = NULL;
	unsigned char *bin = NULL;
	const char **vals = NULL;
	int *lens = NULL, *fmts = NULL;
	char (*ids)[24] = NULL;
	size_t k, n = 0, v, q;
	long long got;
	int rc = CTL_ERROR;

	buf_init(&sql);
	for (k = 0; k < b->n; k++)
		if (e->items[b->first + k].flags & IT_LAYOUT(i))
			n++;
	if (n == 0)
		return CTL_OK;
	vals = calloc(n * 5, sizeof(*vals));
	lens = calloc(n * 5, sizeof(*lens));
	fmts = calloc(n * 5, sizeof(*fmts));
	ids = calloc(n, sizeof(*ids));
	bin = malloc(n * EMB_NVEC * VEC_BIN_LEN);
	if (vals == NULL || lens == NULL || fmts == NULL || ids == NULL ||
	    bin == NULL)
		goto nomem;
	for (k = 0, q = 0; k < b->n; k++) {
		it = &e->items[b->first + k];
		if (!(it->flags & IT_LAYOUT(i)))
			continue;
		snprintf(ids[q], sizeof(ids[q]), "%ld", it->id);
		vals[5 * q] = ids[q];
		vals[5 * q + 1] = it->hash;
		for (v = 0; v < EMB_NVEC; v++) {
			unsigned char *p = bin + (q * EMB_NVEC + v) * VEC_BIN_LEN;

			fmts[5 * q + 2 + v] = 1;
			lens[5 * q + 2 + v] = VEC_BIN_LEN;
			if (v == 0 && !(it->flags & IT_IMAGE))
				continue;	/* NULL image_embedding */
			vec_bin(b->vec + (k * EMB_NVEC + v) * CLIP_DIM, p);
			vals[5 * q + 2 + v] = (const char *)p;
		}
		q++;
	}
	write_sql(e, i, n, &sql);
	if (buf_failed(&sql))
		goto nomem;
	r = PQexecParams(e->c->conn, sql.data, (int)(n * 5), NULL, vals, lens,
	    fmts, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		const char *m = PQresultErrorMessage(r);

		ctl_warnx("write %s.%s: %.*s", e->c->cfg->profiles[i].schema,
		    e->c->cfg->profiles[i].embedded ?
		    e->c->cfg->profiles[i].products :
		    e->c->cfg->profiles[i].embeddings, (int)strcspn(m, "\n"), m);
		goto fail;
	}
	got = strtoll(PQcmdTuples(r), NULL, 10);
	st->rows[i] += got;
	if (got < (long long)n)
		st->changed += (long long)n - got;
	rc = CTL_OK;
	goto fail;
nomem:
	ctl_warnx("out of memory");
fail:
	PQclear(r);
	buf_free(&sql);
	free(vals);
	free(lens);
	free(fmts);
	free(ids);
	free(bin);
	return rc;
}

static int
write_batch(struct embed *e, const struct batch *b, const char *payload,
    struct embed_stats *st)
{
	int i;

	if (ctl_begin(e->c) != CTL_OK)
		return CTL_ERROR;
	for (i = 0; i < 2; i++)
		if (e->layout[i] && write_layout(e, b, i, st) != CTL_OK)
			goto fail;
	if (ctl_notify(e->c, payload) != CTL_OK ||
	    ctl_cmd(e->c, "commit", "COMMIT") != CTL_OK)
		goto fail;
	st->embedded += b->n;
	return CTL_OK;
fail:
	ctl_rollback(e->c);
	return CTL_ERROR;
}

/* --- the command --------------------------------------------------------- */

/*
 * Run the workers and write what they compute.  CTL_OK, or CTL_ERROR
 * (reported) when a batch failed or could not be written.
 */
static void
stop_workers(struct embed *e)
{
	pthread_mutex_lock(&e->mu);
	e->stop = 1;
	pthread_cond_broadcast(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

static int
run(struct embed *e, struct worker *w, int jobs, const char *payload,
    struct progress *prog, struct embed_stats *st)
{
	struct batch *b;
	char err[EMB_ERR_MAX];
	int i, r, failed = 0, dbfailed = 0;

	err[0] = '\0';
	e->window = (size_t)jobs * EMB_WINDOW;
	for (i = 0; i < jobs; i++) {
		if ((r = pthread_create(&w[i].tid, NULL, worker_main,
		    &w[i])) != 0) {
			snprintf(err, sizeof(err), "pthread_create: %s",
			    strerror(r));
			failed = 1;
			stop_workers(e);
			break;
		}
		w[i].started = 1;
	}
	for (;;) {
		pthread_mutex_lock(&e->mu);
		while (e->done == NULL && !(e->finished == e->next &&
		    (e->stop || e->next == e->nbatches)))
			pthread_cond_wait(&e->cv, &e->mu);
		if ((b = e->done) != NULL)
			e->done = b->next;
		else if (e->stop && !failed) {
			/* a worker ran out of memory before making a batch */
			snprintf(err, sizeof(err), "out of memory");
			failed = 1;
		}
		pthread_mutex_unlock(&e->mu);
		if (b == NULL)
			break;

		if (!b->ok) {
			if (!failed)
				snprintf(err, sizeof(err), "%s", b->err);
			failed = 1;
		} else if (!dbfailed) {
			/* a batch computed before another failed is still good */
			if (write_batch(e, b, payload, st) != CTL_OK) {
				failed = dbfailed = 1;
				stop_workers(e);
			} else
				progress_update(prog, st->embedded);
		}
		free(b->vec);
		free(b);
		pthread_mutex_lock(&e->mu);
		e->pending--;
		pthread_cond_broadcast(&e->cv);
		pthread_mutex_unlock(&e->mu);
	}
	for (i = 0; i < jobs; i++)
		if (w[i].started)
			pthread_join(w[i].tid, NULL);
	if (err[0] != '\0') {
		progress_clear(prog);
		ctl_warnx("%s", err);
	}
	return failed ? CTL_ERROR : CTL_OK;
}

static int
worker_init(struct worker *w, struct embed *e, char *err, size_t errlen)
{
	size_t i;

	memset(w, 0, sizeof(*w));
	w->e = e;
	if ((w->clip = clip_client_new(e->c->cfg, err, errlen)) == NULL)
		return CTL_ERROR;
	w->rows = calloc(2 * e->per_batch, sizeof(*w->rows));
	w->img = calloc(e->per_batch, sizeof(*w->img));
	w->out = calloc(2 * e->per_batch * CLIP_DIM, sizeof(*w->out));
	if (w->rows == NULL || w->img == NULL || w->out == NULL) {
		snprintf(err, errlen, "out of memory");
		return CTL_ERROR;
	}
	for (i = 0; i < e->per_batch; i++)
		buf_init(&w->img[i]);
	return CTL_OK;
}

static void
worker_free(struct worker *w, size_t per_batch)
{
	size_t i;

	clip_client_free(w->clip);
	if (w->img != NULL)
		for (i = 0; i < per_batch; i++)
			buf_free(&w->img[i]);
	free(w->img);
	free(w->rows);
	free(w->out);
}

/* Quote the tables of the chosen layouts; check they exist. */
static int
tables(struct embed *e)
{
	const struct profile *p;
	const char *t;
	int i, x;

	for (i = 0; i < 2; i++) {
		if (!e->layout[i])
			continue;
		p = &e->c->cfg->profiles[i];
		if (!p->embedded && p->embeddings[0] == '\0') {
			ctl_warnx("profile %s has no embedding columns (set "
			    "embedded or embeddings)", p->name);
			return CTL_ERROR;
		}
		t = p->products;
		if ((x = ctl_table_exists(e->c, p->schema, t)) == 1 &&
		    !p->embedded) {
			t = p->embeddings;
			x = ctl_table_exists(e->c, p->schema, t);
		}
		if (x < 0)
			return CTL_ERROR;
		if (x == 0) {
			ctl_warnx("%s.%s does not exist: run \"fashionctl init\" "
			    "first", p->schema, t);
			return CTL_ERROR;
		}
		if (ctl_qname(e->c, p->schema, p->products, &e->tbl[i]) !=
		    CTL_OK || (!p->embedded && ctl_qname(e->c, p->schema,
		    p->embeddings, &e->emb[i]) != CTL_OK))
			return CTL_ERROR;
	}
	return CTL_OK;
}

static void
embed_usage(void)
{
	fprintf(stderr, "usage: fashionctl embed [--images DIR] [--jobs N] "
	    "[--force]\n"
	    "                       [--profile fashion_demo|fashion_sota|all]\n"
	    "       (DIR defaults to $FASHION_IMAGES; it holds <id>.jpg)\n");
}

int
cmd_embed(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "images", required_argument, NULL, 'i' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'f' },
		{ "profile", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct embed e;
	struct embed_stats st;
	struct progress prog;
	struct worker *w = NULL;
	struct stat sb;
	const char *images = NULL, *profile = "all";
	char err[EMB_ERR_MAX], payload[64];
	long jobs = EMB_JOBS_DEFAULT;
	long long t0;
	double secs;
	size_t k;
	int ch, i, n, force = 0, nw = 0, sync_ok = 0, rc = EXIT_FAIL;

	memset(&e, 0, sizeof(e));
	memset(&st, 0, sizeof(st));
	while ((ch = getopt_long(argc, argv, "i:j:fp:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			images = optarg;
			break;
		case 'j':
			if (ctl_parse_long(optarg, 1, EMB_JOBS_MAX, &jobs) !=
			    CTL_OK) {
				ctl_warnx("--jobs: not an integer in 1..%d: "
				    "\"%s\"", EMB_JOBS_MAX, optarg);
				return EXIT_USAGE;
			}
			break;
		case 'f':
			force = 1;
			break;
		case 'p':
			profile = optarg;
			break;
		case 'h':
			embed_usage();
			return EXIT_OK;
		default:
			embed_usage();
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		embed_usage();
		return EXIT_USAGE;
	}
	for (i = 0; i < 2; i++)
		e.layout[i] = strcmp(profile, "all") == 0 ||
		    strcmp(profile, c->cfg->profiles[i].name) == 0;
	if (!e.layout[0] && !e.layout[1]) {
		ctl_warnx("unknown profile \"%s\" (%s, %s or all)", profile,
		    c->cfg->profiles[0].name, c->cfg->profiles[1].name);
		return EXIT_USAGE;
	}
	if ((images = ctl_images_dir(images)) == NULL) {
		ctl_warnx("no images directory: give --images DIR or set "
		    "FASHION_IMAGES");
		embed_usage();
		return EXIT_USAGE;
	}
	if (strlen(images) > EMB_DIR_MAX) {
		ctl_warnx("images directory: path longer than %d bytes",
		    EMB_DIR_MAX);
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
	n = snprintf(payload, sizeof(payload), "embed %s", profile);
	if (n < 0 || (size_t)n >= sizeof(payload)) {
		ctl_warnx("profile name too long");
		return EXIT_USAGE;
	}
	e.c = c;
	e.images = images;
	e.per_batch = (size_t)c->cfg->clip_max_batch / 2;
	if (e.per_batch < 1)
		e.per_batch = 1;
	if (e.per_batch > EMB_BATCH_MAX)
		e.per_batch = EMB_BATCH_MAX;
	for (i = 0; i < 2; i++) {
		buf_init(&e.tbl[i]);
		buf_init(&e.emb[i]);
	}
	if ((errno = pthread_mutex_init(&e.mu, NULL)) != 0 ||
	    (errno = pthread_cond_init(&e.cv, NULL)) != 0) {
		ctl_warnx("pthread init: %s", strerror(errno));
		return EXIT_FAIL;
	}
	sync_ok = 1;

	t0 = now_ms();
	if (ctl_connect(c) != CTL_OK || tables(&e) != CTL_OK)
		goto fail;
	if (plan(&e, force, &st) != CTL_OK)
		goto fail;
	if (e.nitems == 0) {
		fprintf(stderr, "embed: nothing to do: %lu products up to date "
		    "(--force recomputes them)\n", st.uptodate);
		rc = EXIT_OK;
		goto fail;
	}
	e.nbatches = (e.nitems + e.per_batch - 1) / e.per_batch;
	if ((size_t)jobs > e.nbatches)
		jobs = (long)e.nbatches;

	if ((w = calloc((size_t)jobs, sizeof(*w))) == NULL) {
		ctl_warnx("out of memory");
		goto fail;
	}
	for (nw = 0; nw < jobs; nw++)
		if (worker_init(&w[nw], &e, err, sizeof(err)) != CTL_OK) {
			nw++;
			ctl_warnx("CLIP client: %s", err);
			goto fail;
		}
	fprintf(stderr, "embed: %zu products to embed (%lu without image%s), "
	    "%lu up to date; %s, %ld job%s of %zu products\n", e.nitems,
	    st.textonly, st.badimage ? ", see the notes" : "", st.uptodate,
	    clip_client_url(w[0].clip), jobs, jobs == 1 ? "" : "s",
	    e.per_batch);

	progress_start(&prog, "embed", e.nitems, c->tty);
	i = run(&e, w, (int)jobs, payload, &prog, &st);
	progress_clear(&prog);
	fflush(stderr);		/* line-buffered (log_init): clear before stdout */
	secs = (double)(now_ms() - t0) / 1000.0;
	for (k = 0; k < 2; k++)
		if (e.layout[k])
			printf("embed: %s.%s: %lld rows written\n",
			    c->cfg->profiles[k].schema, c->cfg->profiles[k].embedded ?
			    c->cfg->profiles[k].products :
			    c->cfg->profiles[k].embeddings, st.rows[k]);
	fprintf(stderr, "embed: %lu products embedded, %lu skipped (up to "
	    "date), %.1f s, %.1f products/s", st.embedded, st.uptodate, secs,
	    secs > 0 ? (double)st.embedded / secs : 0.0);
	if (st.changed > 0)
		fprintf(stderr, "; %lld rows changed meanwhile, left for the "
		    "next run", st.changed);
	fputc('\n', stderr);
	if (i != CTL_OK) {
		ctl_warnx("embed stopped after %lu of %zu products; what was "
		    "written is valid, run it again to continue", st.embedded,
		    e.nitems);
		goto fail;
	}
	rc = EXIT_OK;
fail:
	for (i = 0; i < nw; i++)
		worker_free(&w[i], e.per_batch);
	free(w);
	for (k = 0; k < e.nitems; k++) {
		free(e.items[k].text);
		free(e.items[k].hash);
	}
	free(e.items);
	for (i = 0; i < 2; i++) {
		buf_free(&e.tbl[i]);
		buf_free(&e.emb[i]);
	}
	if (sync_ok) {
		pthread_mutex_destroy(&e.mu);
		pthread_cond_destroy(&e.cv);
	}
	return rc;
}
