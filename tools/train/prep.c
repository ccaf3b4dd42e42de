/*
 * prep.c - turn catalog images into model inputs for training, with the
 * same code fashion-clipd runs (src/clipd/image.c).
 *
 * usage: prep IMAGEDIR IDLIST OUT.u8
 * IDLIST holds one product id per line (IMAGEDIR/<id>.jpg), or a file path
 * (a line holding a '/'); OUT.u8 receives IMG_BYTES bytes per line in that
 * order (80x60x3, row-major RGB).  Exits non-zero on any image
 * that fails, naming it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

int
main(int argc, char **argv)
{
	FILE *ids, *out, *f;
	char line[64], path[4096], why[256];
	unsigned char px[IMG_BYTES], *data = NULL;
	size_t cap = 0, len;
	long n = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: prep IMAGEDIR IDLIST OUT.u8\n");
		return 2;
	}
	if ((ids = fopen(argv[2], "r")) == NULL ||
	    (out = fopen(argv[3], "wb")) == NULL) {
		perror("prep: open");
		return 1;
	}
	while (fgets(line, sizeof(line), ids) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if ((strchr(line, '/') ? snprintf(path, sizeof(path), "%s",
		    line) : snprintf(path, sizeof(path), "%s/%s.jpg", argv[1],
		    line)) >= (int)sizeof(path))
			return 1;
		if ((f = fopen(path, "rb")) == NULL) {
			perror(path);
			return 1;
		}
		len = 0;
		for (;;) {
			if (len == cap && (data = realloc(data,
			    cap = cap ? cap * 2 : 65536)) == NULL)
				return 1;
			size_t r = fread(data + len, 1, cap - len, f);
			if (r == 0)
				break;
			len += r;
		}
		fclose(f);
		if (image_prepare(data, len, px, why, sizeof(why)) != IMG_OK) {
			fprintf(stderr, "prep: %s: %s\n", path, why);
			return 1;
		}
		if (fwrite(px, 1, IMG_BYTES, out) != IMG_BYTES) {
			perror("prep: write");
			return 1;
		}
		n++;
	}
	if (fclose(out) != 0)
		return 1;
	fprintf(stderr, "prep: %ld images\n", n);
	free(data);
	return 0;
}
