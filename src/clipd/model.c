/* model.c - see model.h */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "model.h"
#include "tokenize.h"

#define HDR_SIZE	64
#define ENTRY_SIZE	64
#define MAGIC		"FCLIPMDL"
#define VERSION		1

/*
 * The convolutions are nearly all of the time.  They are written so the
 * compiler vectorises the innermost loop (over output channels); on
 * x86-64 a second copy is built for AVX2+FMA and picked at load time
 * (same machine, same code path: results are bit-for-bit repeatable).
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HOT	__attribute__((optimize("O3"), \
		    target_clones("arch=x86-64-v3", "default")))
#else
#define HOT
#endif

struct model_ws {
	float	*a, *b;		/* ping-pong activations, act_max floats each */
};

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* The table entry of tensor NAME, or NULL. */
static const unsigned char *
entry(const struct model *m, const char *name)
{
	const unsigned char *base = m->map, *e;
	uint32_t n = le32(base + 36), table = le32(base + 40), i;
	char ename[33];

	for (i = 0; i < n; i++) {
		e = base + table + (size_t)i * ENTRY_SIZE;
		memcpy(ename, e, 32);
		ename[32] = '\0';
		if (strcmp(ename, name) == 0)
			return e;
	}
	return NULL;
}

/*
 * Tensor NAME with exactly the given dims (0 ends the list): its data, or
 * NULL with the reason in ERR.  Its attr into *ATTR when not NULL.
 */
static const float *
tensor(const struct model *m, const char *name, uint32_t *attr, char *err,
    size_t errlen, uint32_t d0, uint32_t d1, uint32_t d2, uint32_t d3)
{
	const unsigned char *e;
	uint32_t want[4] = { d0, d1, d2, d3 }, wdim = 0, k;
	uint64_t off, bytes = 4;

	if ((e = entry(m, name)) == NULL) {
		snprintf(err, errlen, "tensor %s missing", name);
		return NULL;
	}
	while (wdim < 4 && want[wdim] != 0)
		wdim++;
	if (le32(e + 32) != wdim)
		goto shape;
	for (k = 0; k < wdim; k++) {
		if (le32(e + 36 + 4 * k) != want[k])
			goto shape;
		bytes *= want[k];
	}
	off = le64(e + 56);
	if (off % 64 != 0 || off > m->size - 4 || bytes > m->size - 4 - off) {
		snprintf(err, errlen, "tensor %s: data outside the file", name);
		return NULL;
	}
	if (attr != NULL)
		*attr = le32(e + 52);
	return (const float *)((const unsigned char *)m->map + off);
shape:
	snprintf(err, errlen, "tensor %s has an unexpected shape", name);
	return NULL;
}

/* Dims of tensor NAME; its ndim, 0 when absent or bad. */
static uint32_t
tensor_dims(const struct model *m, const char *name, uint32_t dims[4])
{
	const unsigned char *e;
	uint32_t k, nd;

	if ((e = entry(m, name)) == NULL || (nd = le32(e + 32)) > 4)
		return 0;
	for (k = 0; k < 4; k++)
		dims[k] = k < nd ? le32(e + 36 + 4 * k) : 0;
	return nd;
}

static int
bind_tensors(struct model *m, char *err, size_t errlen)
{
	char name[32];
	uint32_t dims[4], stride, h = IMG_H, w = IMG_W, cin = 3;
	size_t act;
	int i;

	m->act_max = (size_t)IMG_H * IMG_W * 3;
	if ((m->mean = tensor(m, "image.mean", NULL, err, errlen, 3, 0, 0, 0))
	    == NULL ||
	    (m->std = tensor(m, "image.std", NULL, err, errlen, 3, 0, 0, 0)) ==
	    NULL)
		return MODEL_ERROR;
	for (i = 0; i < MODEL_MAX_CONV; i++) {
		snprintf(name, sizeof(name), "image.conv%d.w", i);
		if (tensor_dims(m, name, dims) != 4)
			break;
		if (dims[0] != 3 || dims[1] != 3 || dims[2] != cin ||
		    dims[3] == 0 || dims[3] > 4096) {
			snprintf(err, errlen, "tensor %s has an unexpected "
			    "shape", name);
			return MODEL_ERROR;
		}
		m->conv[i].cin = (int)cin;
		m->conv[i].cout = (int)dims[3];
		if ((m->conv[i].w = tensor(m, name, &stride, err, errlen, 3, 3,
		    cin, dims[3])) == NULL)
			return MODEL_ERROR;
		if (stride != 1 && stride != 2) {
			snprintf(err, errlen, "%s: stride %u", name, stride);
			return MODEL_ERROR;
		}
		m->conv[i].stride = (int)stride;
		snprintf(name, sizeof(name), "image.conv%d.b", i);
		if ((m->conv[i].b = tensor(m, name, NULL, err, errlen, dims[3],
		    0, 0, 0)) == NULL)
			return MODEL_ERROR;
		h = (h - 1) / stride + 1;
		w = (w - 1) / stride + 1;
		cin = dims[3];
		act = (size_t)h * w * cin;
		if (act > m->act_max)
			m->act_max = act;
	}
	if ((m->nconv = i) == 0) {
		snprintf(err, errlen, "no image convolutions");
		return MODEL_ERROR;
	}
	if ((m->proj_w = tensor(m, "image.proj.w", NULL, err, errlen, cin,
	    MODEL_DIM, 0, 0)) == NULL ||
	    (m->proj_b = tensor(m, "image.proj.b", NULL, err, errlen,
	    MODEL_DIM, 0, 0, 0)) == NULL ||
	    (m->bag = tensor(m, "text.bag", NULL, err, errlen, m->n_buckets,
	    m->tok_dim, 0, 0)) == NULL ||
	    (m->fc1_w = tensor(m, "text.fc1.w", NULL, err, errlen, m->tok_dim,
	    MODEL_DIM, 0, 0)) == NULL ||
	    (m->fc1_b = tensor(m, "text.fc1.b", NULL, err, errlen, MODEL_DIM,
	    0, 0, 0)) == NULL ||
	    (m->fc2_w = tensor(m, "text.fc2.w", NULL, err, errlen, MODEL_DIM,
	    MODEL_DIM, 0, 0)) == NULL ||
	    (m->fc2_b = tensor(m, "text.fc2.b", NULL, err, errlen, MODEL_DIM,
	    0, 0, 0)) == NULL)
		return MODEL_ERROR;
	return MODEL_OK;
}

int
model_open(const char *path, struct model *m, char *err, size_t errlen)
{
	struct stat sb;
	const unsigned char *p;
	uint32_t n, table;
	int fd;

	memset(m, 0, sizeof(*m));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return MODEL_ERROR;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_size < HDR_SIZE + 4 || sb.st_size > (1L << 31)) {
		snprintf(err, errlen, "%s: not a model file (size)", path);
		close(fd);
		return MODEL_ERROR;
	}
	m->size = (size_t)sb.st_size;
	m->map = mmap(NULL, m->size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (m->map == MAP_FAILED) {
		m->map = NULL;
		snprintf(err, errlen, "mmap: %s: %s", path, strerror(errno));
		return MODEL_ERROR;
	}
	p = m->map;
	if (memcmp(p, MAGIC, 8) != 0 || le32(p + 8) != VERSION) {
		snprintf(err, errlen, "%s: not a version %d model file", path,
		    VERSION);
		goto fail;
	}
	if (crc32(0L, p, (uInt)(m->size - 4)) != le32(p + m->size - 4)) {
		snprintf(err, errlen, "%s: checksum mismatch (damaged file)",
		    path);
		goto fail;
	}
	n = le32(p + 36);
	table = le32(p + 40);
	if (le32(p + 12) != MODEL_DIM || le32(p + 16) != IMG_W ||
	    le32(p + 20) != IMG_H || le32(p + 32) != TOK_MAX_WORDS) {
		snprintf(err, errlen, "%s: dimensions do not match this "
		    "build (dim %u, %ux%u, %u words)", path, le32(p + 12),
		    le32(p + 16), le32(p + 20), le32(p + 32));
		goto fail;
	}
	m->n_buckets = le32(p + 24);
	m->tok_dim = le32(p + 28);
	if (m->n_buckets == 0 || m->tok_dim == 0 || m->tok_dim > 1024 ||
	    n == 0 || n > 1024 ||
	    table < HDR_SIZE || table > m->size - 4 ||
	    (size_t)n * ENTRY_SIZE > m->size - 4 - table) {
		snprintf(err, errlen, "%s: bad header", path);
		goto fail;
	}
	if (bind_tensors(m, err, errlen) != MODEL_OK)
		goto fail;
	return MODEL_OK;
fail:
	model_close(m);
	return MODEL_ERROR;
}

void
model_close(struct model *m)
{
	if (m->map != NULL)
		munmap(m->map, m->size);
	memset(m, 0, sizeof(*m));
}

struct model_ws *
model_ws_new(const struct model *m)
{
	struct model_ws *ws;

	if ((ws = calloc(1, sizeof(*ws))) == NULL)
		return NULL;
	ws->a = malloc(m->act_max * sizeof(float));
	ws->b = malloc(m->act_max * sizeof(float));
	if (ws->a == NULL || ws->b == NULL) {
		model_ws_free(ws);
		return NULL;
	}
	return ws;
}

void
model_ws_free(struct model_ws *ws)
{
	if (ws == NULL)
		return;
	free(ws->a);
	free(ws->b);
	free(ws);
}

/* out[n] += a * w[n]: the inner loop of everything below. */
static inline __attribute__((always_inline)) void
axpy(float *restrict out, float a, const float *restrict w, int n)
{
	int i;

	for (i = 0; i < n; i++)
		out[i] += a * w[i];
}

/* 3x3 convolution, padding 1, HWC, then ReLU.  Returns the output size. */
HOT static void
conv3x3_relu(const struct conv *c, const float *in, int h, int w,
    float *out, int *ohp, int *owp)
{
	int oh = (h - 1) / c->stride + 1, ow = (w - 1) / c->stride + 1;
	int oy, ox, ky, kx, iy, ix, ci, co;
	float *o;
	const float *ip, *wp;

	for (oy = 0; oy < oh; oy++)
		for (ox = 0; ox < ow; ox++) {
			o = out + ((size_t)oy * ow + ox) * c->cout;
			memcpy(o, c->b, (size_t)c->cout * sizeof(float));
			for (ky = 0; ky < 3; ky++) {
				iy = oy * c->stride + ky - 1;
				if (iy < 0 || iy >= h)
					continue;
				for (kx = 0; kx < 3; kx++) {
					ix = ox * c->stride + kx - 1;
					if (ix < 0 || ix >= w)
						continue;
					ip = in + ((size_t)iy * w + ix) * c->cin;
					wp = c->w + (size_t)(ky * 3 + kx) *
					    c->cin * c->cout;
					for (ci = 0; ci < c->cin; ci++)
						axpy(o, ip[ci], wp +
						    (size_t)ci * c->cout, c->cout);
				}
			}
			for (co = 0; co < c->cout; co++)
				if (o[co] < 0)
					o[co] = 0;
		}
	*ohp = oh;
	*owp = ow;
}

/* out[DIM] = b + x[n] . W[n][DIM] */
HOT static void
linear(const float *x, int n, const float *w, const float *b, float *out)
{
	int i;

	memcpy(out, b, MODEL_DIM * sizeof(float));
	for (i = 0; i < n; i++)
		axpy(out, x[i], w + (size_t)i * MODEL_DIM, MODEL_DIM);
}

static void
l2_normalise(float *v)
{
	double ss = 0;
	float norm;
	int i;

	for (i = 0; i < MODEL_DIM; i++)
		ss += (double)v[i] * v[i];
	norm = (float)sqrt(ss);
	if (norm < 1e-12f)
		norm = 1e-12f;
	for (i = 0; i < MODEL_DIM; i++)
		v[i] /= norm;
}

void
model_embed_image(const struct model *m, struct model_ws *ws,
    const unsigned char px[IMG_BYTES], float *out)
{
	float *in = ws->a, *o = ws->b, *t, pool[4096];
	int h = IMG_H, w = IMG_W, i, c, n;

	for (i = 0; i < IMG_PIXELS; i++)
		for (c = 0; c < 3; c++)
			in[i * 3 + c] = ((float)px[i * 3 + c] / 255.0f -
			    m->mean[c]) / m->std[c];
	for (i = 0; i < m->nconv; i++) {
		conv3x3_relu(&m->conv[i], in, h, w, o, &h, &w);
		t = in;
		in = o;
		o = t;
	}
	/* Global average pool. */
	n = m->conv[m->nconv - 1].cout;
	for (c = 0; c < n; c++)
		pool[c] = 0;
	for (i = 0; i < h * w; i++)
		for (c = 0; c < n; c++)
			pool[c] += in[(size_t)i * n + c];
	for (c = 0; c < n; c++)
		pool[c] /= (float)(h * w);
	linear(pool, n, m->proj_w, m->proj_b, out);
	l2_normalise(out);
}

void
model_embed_text(const struct model *m, const char *text, size_t len,
    float *out)
{
	uint32_t ids[TOK_MAX_FEATURES];
	float bag[1024], hid[MODEL_DIM];
	size_t n, i;
	uint32_t d, dim = m->tok_dim < 1024 ? m->tok_dim : 1024;

	n = tokenize(text, len, m->n_buckets, ids, TOK_MAX_FEATURES);
	if (n > TOK_MAX_FEATURES)
		n = TOK_MAX_FEATURES;
	for (d = 0; d < dim; d++)
		bag[d] = 0;
	for (i = 0; i < n; i++)
		axpy(bag, 1.0f, m->bag + (size_t)ids[i] * m->tok_dim, (int)dim);
	if (n > 0)
		for (d = 0; d < dim; d++)
			bag[d] /= (float)n;
	linear(bag, (int)dim, m->fc1_w, m->fc1_b, hid);
	for (d = 0; d < MODEL_DIM; d++)
		if (hid[d] < 0)
			hid[d] = 0;
	linear(hid, MODEL_DIM, m->fc2_w, m->fc2_b, out);
	l2_normalise(out);
}
