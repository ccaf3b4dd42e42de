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
