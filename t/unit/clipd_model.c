/*
 * clipd_model.c - the C forward pass against PyTorch (models/golden/),
 * the tokenizer against fclip.features(), determinism, and a damaged
 * model file being refused.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "image.h"
#include "model.h"
#include "tokenize.h"
#include "tap.h"

#define TOL 1e-4

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (p = malloc((size_t)n + 1)) == NULL ||
	    fread(p, 1, (size_t)n, f) != (size_t)n) {
		if (f != NULL)
			fclose(f);
		free(p);
		return NULL;
	}
	fclose(f);
	p[n] = '\0';
	*len = (size_t)n;
	return p;
}

static double
maxdiff(const float *v, json_object *want)
{
	double d = 0, x;
	size_t i;

	if (json_object_array_length(want) != MODEL_DIM)
		return 1e9;
	for (i = 0; i < MODEL_DIM; i++) {
		x = fabs(v[i] - json_object_get_double(
		    json_object_array_get_idx(want, i)));
		if (x > d)
			d = x;
	}
	return d;
}

/* image_fit: area averaging, centring on white, never enlarging. */
static void
fit_tests(void)
{
	static unsigned char in[200 * 160 * 3], out[IMG_BYTES];
	int i, x, y, ok1 = 1, ok2 = 1, ok3 = 1;

	for (i = 0; i < 120 * 160; i++) {
		in[i * 3] = 10;
		in[i * 3 + 1] = 20;
		in[i * 3 + 2] = 30;
	}
	image_fit(in, 120, 160, out);
	for (i = 0; i < IMG_PIXELS; i++)
		ok1 &= out[i * 3] == 10 && out[i * 3 + 1] == 20 &&
		    out[i * 3 + 2] == 30;
	ok(ok1, "120x160 solid colour: 60x80 of the same colour");

	for (y = 0; y < 160; y++)	/* 1-pixel checkerboard of 0 / 200 */
		for (x = 0; x < 120; x++)
			memset(in + (y * 120 + x) * 3, (x + y) % 2 ? 200 : 0, 3);
	image_fit(in, 120, 160, out);
	for (i = 0; i < IMG_BYTES; i++)
		ok2 &= out[i] == 100;
	ok(ok2, "checkerboard halves to its mean (100)");

	memset(in, 0, 200 * 100 * 3);	/* wide: 200x100 -> 60x30, centred */
	image_fit(in, 200, 100, out);
	for (y = 0; y < IMG_H; y++)
		for (x = 0; x < IMG_W; x++) {
			int inside = y >= 25 && y < 55;
			unsigned char v = out[(y * IMG_W + x) * 3];

			ok3 &= inside ? v == 0 : v == 255;
		}
	ok(ok3, "200x100 black: a 60x30 band in the middle, white above and below");

	memset(in, 0, 30 * 40 * 3);	/* small: kept at its size, centred */
	image_fit(in, 30, 40, out);
	ok(out[(20 * IMG_W + 15) * 3] == 0 && out[(19 * IMG_W + 15) * 3] == 255 &&
	    out[(59 * IMG_W + 44) * 3] == 0 && out[(60 * IMG_W + 44) * 3] == 255,
	    "30x40 is not enlarged: centred at (15,20) on white");
}

int
main(void)
{
	const char *src = getenv("FASHION_SRCDIR");
	char path[4096], err[256], why[256], *data;
	struct model m;
	struct model_ws *ws;
	json_object *g, *arr, *e, *fe;
	unsigned char px[IMG_BYTES];
	float v[MODEL_DIM], v2[MODEL_DIM];
	uint32_t ids[TOK_MAX_FEATURES];
	size_t i, k, n, len;
	double d, worst = 0;
	const char *file, *text;
	int same;

	if (src == NULL)
		src = ".";
	fit_tests();
	snprintf(path, sizeof(path), "%s/models/fashion-clip.bin", src);
	ok(model_open(path, &m, err, sizeof(err)) == MODEL_OK,
	    "model opens (%s)", err);
	ws = model_ws_new(&m);
	ok(ws != NULL, "workspace");
	snprintf(path, sizeof(path), "%s/models/golden/golden.json", src);
	g = json_object_from_file(path);
	ok(g != NULL, "golden set loads");
	if (g == NULL || ws == NULL || m.map == NULL)
		return done_testing();

	arr = json_object_object_get(g, "images");
	for (i = 0; i < json_object_array_length(arr); i++) {
		e = json_object_array_get_idx(arr, i);
		file = json_object_get_string(json_object_object_get(e, "file"));
		snprintf(path, sizeof(path), "%s/%s", src, file);
		if ((data = slurp(path, &len)) == NULL) {
			ok(0, "read %s", path);
			continue;
		}
		ok(image_prepare((unsigned char *)data, len, px, why,
		    sizeof(why)) == IMG_OK, "%s decodes (%s)", file, why);
		model_embed_image(&m, ws, px, v);
		d = maxdiff(v, json_object_object_get(e, "embedding"));
		worst = d > worst ? d : worst;
		ok(d <= TOL, "image %s: max abs diff %.2g <= %g", file, d, TOL);
		model_embed_image(&m, ws, px, v2);
		ok(memcmp(v, v2, sizeof(v)) == 0, "image %s: same bytes twice",
		    file);
		free(data);
	}

	arr = json_object_object_get(g, "texts");
	for (i = 0; i < json_object_array_length(arr); i++) {
		e = json_object_array_get_idx(arr, i);
		text = json_object_get_string(json_object_object_get(e, "text"));
		len = strlen(text);
		fe = json_object_object_get(e, "features");
		n = tokenize(text, len, m.n_buckets, ids, TOK_MAX_FEATURES);
		same = n == json_object_array_length(fe);
		for (k = 0; same && k < n; k++)
			same = ids[k] == (uint32_t)json_object_get_int64(
			    json_object_array_get_idx(fe, k));
		ok(same, "text %zu: %zu features as in Python", i, n);
		model_embed_text(&m, text, len, v);
		d = maxdiff(v, json_object_object_get(e, "embedding"));
		worst = d > worst ? d : worst;
		ok(d <= TOL, "text %zu (%.20s): max abs diff %.2g", i, text, d);
		model_embed_text(&m, text, len, v2);
		ok(memcmp(v, v2, sizeof(v)) == 0, "text %zu: same bytes twice",
		    i);
	}
	printf("# worst difference to PyTorch: %.3g\n", worst);
	json_object_put(g);
	model_ws_free(ws);

	/* A flipped byte must be caught by the checksum. */
	snprintf(path, sizeof(path), "%s/models/fashion-clip.bin", src);
	if ((data = slurp(path, &len)) != NULL) {
		FILE *f = fopen("/tmp/clipd-model-test.bin", "wb");

		data[len / 2] ^= 1;
		if (f != NULL) {
			fwrite(data, 1, len, f);
			fclose(f);
		}
		model_close(&m);
		ok(model_open("/tmp/clipd-model-test.bin", &m, err,
		    sizeof(err)) == MODEL_ERROR && strstr(err, "checksum"),
		    "damaged model refused: %s", err);
		f = fopen("/tmp/clipd-model-test.bin", "wb");
		if (f != NULL) {
			fwrite(data, 1, 100, f);
			fclose(f);
		}
		ok(model_open("/tmp/clipd-model-test.bin", &m, err,
		    sizeof(err)) == MODEL_ERROR, "truncated model refused: %s",
		    err);
		remove("/tmp/clipd-model-test.bin");
		free(data);
	}
	ok(model_open("/nonexistent/model.bin", &m, err, sizeof(err)) ==
	    MODEL_ERROR, "missing model refused: %s", err);
	return done_testing();
}
