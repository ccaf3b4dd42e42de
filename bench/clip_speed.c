/*
 * clip_speed.c - per-call speed of the embedding model on one core.
 *
 *   bench/clip_speed [MODEL] [IMAGEDIR]
 *
 * Pins itself to CPU 0, then times model_embed_text over catalog-like texts
 * and image_prepare + model_embed_image over JPEGs from IMAGEDIR (default
 * data/sample/images); prints median and p99 per call in milliseconds.
 */
#include <sched.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "image.h"
#include "model.h"

#define N_TEXT	20000
#define N_IMG	2000

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

static void
report(const char *what, double *t, int n)
{
	qsort(t, (size_t)n, sizeof(*t), cmp);
	printf("%-28s n=%-6d median %.4f ms  p99 %.4f ms\n", what, n,
	    t[n / 2], t[n * 99 / 100]);
}

int
main(int argc, char **argv)
{
	static const char *texts[] = { "red dress", "blue jeans for men",
	    "Turtle Check Men Navy Blue Shirt", "women black heels, party",
	    "a photo of a watch", "Puma Men Grey Sports Shoes" };
	const char *mpath = argc > 1 ? argv[1] : "models/fashion-clip.bin";
	const char *idir = argc > 2 ? argv[2] : "data/sample/images";
	static double t[N_TEXT];
	static unsigned char *files[N_IMG];
	static size_t lens[N_IMG];
	unsigned char px[IMG_BYTES];
	float v[MODEL_DIM];
	char err[256], path[4096];
	struct model m;
	struct model_ws *ws;
	struct dirent *de;
	cpu_set_t cpus;
	DIR *d;
	FILE *f;
	int i, n = 0;
	double t0;

	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	(void)sched_setaffinity(0, sizeof(cpus), &cpus);
	if (model_open(mpath, &m, err, sizeof(err)) != MODEL_OK ||
	    (ws = model_ws_new(&m)) == NULL) {
		fprintf(stderr, "clip_speed: %s\n", err);
		return 1;
	}
	if ((d = opendir(idir)) == NULL) {
		perror(idir);
		return 1;
	}
	while (n < N_IMG && (de = readdir(d)) != NULL) {
		if (strstr(de->d_name, ".jpg") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", idir, de->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		files[n] = malloc(1 << 20);
		lens[n] = fread(files[n], 1, 1 << 20, f);
		fclose(f);
		n++;
	}
	closedir(d);

	for (i = 0; i < N_TEXT; i++) {
		const char *s = texts[i % 6];

		t0 = now_ms();
		model_embed_text(&m, s, strlen(s), v);
		t[i] = now_ms() - t0;
	}
	report("text embedding", t, N_TEXT);
	for (i = 0; i < n; i++) {
		t0 = now_ms();
		if (image_prepare(files[i], lens[i], px, err, sizeof(err)) !=
		    IMG_OK)
			return 1;
		model_embed_image(&m, ws, px, v);
		t[i] = now_ms() - t0;
	}
	report("image (decode+embed)", t, n);
	for (i = 0; i < n; i++) {
		image_prepare(files[i], lens[i], px, err, sizeof(err));
		t0 = now_ms();
		model_embed_image(&m, ws, px, v);
		t[i] = now_ms() - t0;
	}
	report("image (forward pass only)", t, n);
	return 0;
}
