/*
 * fashionctl_imgcheck.c - TAP tests of the image validation: good JPEGs
 * pass with their size; truncated, corrupt, tiny, empty and missing files
 * are reported, and random damage never crashes the decoder wrapper.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>

#include "imgcheck.h"
#include "fctl_tap.h"

/* Encode a W x H RGB test pattern; caller frees *out (malloc). */
static int
encode(int w, int h, unsigned char **out, unsigned long *len)
{
	struct jpeg_compress_struct ci;
	struct jpeg_error_mgr jerr;
	unsigned char *row;
	JSAMPROW rp[1];
	int x;

	if ((row = malloc((size_t)w * 3)) == NULL)
		return -1;
	ci.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&ci);
	*out = NULL;
	*len = 0;
	jpeg_mem_dest(&ci, out, len);
	ci.image_width = (JDIMENSION)w;
	ci.image_height = (JDIMENSION)h;
	ci.input_components = 3;
	ci.in_color_space = JCS_RGB;
	jpeg_set_defaults(&ci);
	jpeg_set_quality(&ci, 90, TRUE);
	jpeg_start_compress(&ci, TRUE);
	while (ci.next_scanline < ci.image_height) {
		for (x = 0; x < w; x++) {
			row[x * 3] = (unsigned char)(x * 4);
			row[x * 3 + 1] = (unsigned char)(ci.next_scanline * 3);
			row[x * 3 + 2] = (unsigned char)((x ^ ci.next_scanline) * 7);
		}
		rp[0] = row;
		jpeg_write_scanlines(&ci, rp, 1);
	}
	jpeg_finish_compress(&ci);
	jpeg_destroy_compress(&ci);
	free(row);
	return 0;
}

int
main(void)
{
	struct imgcheck ic;
	unsigned char *jpg = NULL, *tiny = NULL, *dam;
	unsigned long len = 0, tlen = 0;
	char why[256], path[] = "/tmp/fashionctl_imgcheck_XXXXXX";
	size_t cut;
	int w = 0, h = 0, r, i, crashes = 0, fd;

	tap_ok(encode(60, 80, &jpg, &len) == 0 && len > 100, "encoded 60x80");
	tap_ok(imgcheck_mem(jpg, len, &w, &h, why, sizeof(why)) == IMG_OK &&
	    w == 60 && h == 80, "60x80 decodes, size reported");

	for (cut = 0, r = 1, i = 0; i < 5; i++) {
		cut = len * (size_t)(i + 1) / 7;
		why[0] = '\0';
		if (imgcheck_mem(jpg, cut, &w, &h, why, sizeof(why)) != IMG_BAD ||
		    why[0] == '\0')
			r = 0;
	}
	tap_ok(r, "truncated at 1/7..5/7: bad, with a reason");
	why[0] = '\0';
	tap_ok(imgcheck_mem(jpg, len - 2, &w, &h, why, sizeof(why)) == IMG_BAD,
	    "missing EOI marker: bad (%s)", why);
	tap_ok(imgcheck_mem((const unsigned char *)"not a jpeg at all", 17, &w,
	    &h, why, sizeof(why)) == IMG_BAD, "garbage: bad (%s)", why);
	tap_ok(imgcheck_mem(jpg, 0, &w, &h, why, sizeof(why)) == IMG_BAD,
	    "empty: bad");
	tap_ok(encode(10, 12, &tiny, &tlen) == 0 && imgcheck_mem(tiny, tlen, &w,
	    &h, why, sizeof(why)) == IMG_BAD && strstr(why, "10x12") != NULL,
	    "10x12: bad size (%s)", why);

	/* Random damage: any verdict, never a crash or a hang. */
	if ((dam = malloc(len)) != NULL) {
		srand(1);
		for (i = 0; i < 2000; i++) {
			memcpy(dam, jpg, len);
			dam[(size_t)rand() % len] = (unsigned char)rand();
			dam[(size_t)rand() % len] = (unsigned char)rand();
			r = imgcheck_mem(dam, len, &w, &h, why, sizeof(why));
			if (r != IMG_OK && r != IMG_BAD)
				crashes++;
		}
		free(dam);
	}
	tap_ok(dam != NULL && crashes == 0, "2000 damaged copies: OK or BAD");

	imgcheck_init(&ic);
	tap_ok(imgcheck_file(&ic, "/nonexistent/1.jpg", &w, &h, why,
	    sizeof(why)) == IMG_MISSING, "missing file");
	tap_ok(imgcheck_file(&ic, "/tmp", &w, &h, why, sizeof(why)) == IMG_BAD,
	    "a directory: bad (%s)", why);
	if ((fd = mkstemp(path)) != -1) {
		r = write(fd, jpg, len) == (ssize_t)len;
		close(fd);
		tap_ok(r && imgcheck_file(&ic, path, &w, &h, why, sizeof(why)) ==
		    IMG_OK && w == 60 && h == 80, "file decodes");
		unlink(path);
	} else
		tap_ok(0, "mkstemp");
	imgcheck_free(&ic);
	free(jpg);
	free(tiny);
	return tap_done();
}
