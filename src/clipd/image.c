/* image.c - see image.h */
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include "image.h"

/* libjpeg error manager: errors and warnings longjmp back. */
struct jerr {
	struct jpeg_error_mgr	pub;
	jmp_buf			jb;
	char			msg[JMSG_LENGTH_MAX];
};

static void
jerr_exit(j_common_ptr ci)
{
	struct jerr *e = (struct jerr *)ci->err;

	(*ci->err->format_message)(ci, e->msg);
	longjmp(e->jb, 1);
}

static void
jerr_emit(j_common_ptr ci, int level)
{
	/* A warning (level -1) means corrupt or truncated data: fail. */
	if (level < 0)
		jerr_exit(ci);
}

static void
jerr_output(j_common_ptr ci)
{
	(void)ci;
}

static int
decode_jpeg(const unsigned char *data, size_t len, unsigned char **rgbp,
    int *wp, int *hp, char *why, size_t whylen)
{
	struct jpeg_decompress_struct ci;
	struct jerr em;
	unsigned char *volatile rgb = NULL;
	unsigned int denom;
	JSAMPROW row;

	memset(&ci, 0, sizeof(ci));
	memset(&em, 0, sizeof(em));
	ci.err = jpeg_std_error(&em.pub);
	em.pub.error_exit = jerr_exit;
	em.pub.emit_message = jerr_emit;
	em.pub.output_message = jerr_output;
	if (setjmp(em.jb)) {
		snprintf(why, whylen, "bad JPEG: %s", em.msg);
		jpeg_destroy_decompress(&ci);
		free(rgb);
		return IMG_BAD;
	}
	jpeg_create_decompress(&ci);
	jpeg_mem_src(&ci, data, (unsigned long)len);
	jpeg_read_header(&ci, TRUE);
	if (ci.image_width > IMG_MAX_DIM || ci.image_height > IMG_MAX_DIM ||
	    (long)ci.image_width * ci.image_height > IMG_MAX_PIXELS) {
		snprintf(why, whylen, "JPEG too large: %ux%u",
		    ci.image_width, ci.image_height);
		jpeg_destroy_decompress(&ci);
		return IMG_BAD;
	}
	if (ci.jpeg_color_space != JCS_GRAYSCALE &&
	    ci.jpeg_color_space != JCS_YCbCr && ci.jpeg_color_space != JCS_RGB) {
		snprintf(why, whylen, "unsupported JPEG colour space (CMYK?)");
		jpeg_destroy_decompress(&ci);
		return IMG_BAD;
	}
	ci.out_color_space = JCS_RGB;
	/* Let the IDCT do the coarse part of a large downscale. */
	for (denom = 8; denom > 1; denom /= 2)
		if (ci.image_width / denom >= 2 * IMG_W &&
		    ci.image_height / denom >= 2 * IMG_H)
			break;
	ci.scale_num = 1;
	ci.scale_denom = denom;
	jpeg_start_decompress(&ci);
	if (ci.output_components != 3) {
		snprintf(why, whylen, "unexpected JPEG components");
		jpeg_destroy_decompress(&ci);
		return IMG_BAD;
	}
	rgb = malloc((size_t)ci.output_width * ci.output_height * 3);
	if (rgb == NULL) {
		snprintf(why, whylen, "out of memory");
		jpeg_destroy_decompress(&ci);
		return IMG_BAD;
	}
	while (ci.output_scanline < ci.output_height) {
		row = rgb + (size_t)ci.output_scanline * ci.output_width * 3;
		jpeg_read_scanlines(&ci, &row, 1);
	}
	jpeg_finish_decompress(&ci);
	*wp = (int)ci.output_width;
	*hp = (int)ci.output_height;
	jpeg_destroy_decompress(&ci);
	*rgbp = rgb;
	return IMG_OK;
}

static int
decode_png(const unsigned char *data, size_t len, unsigned char **rgbp,
    int *wp, int *hp, char *why, size_t whylen)
{
	png_image img;
	png_color white = { 255, 255, 255 };
	unsigned char *rgb;

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&img, data, len)) {
		snprintf(why, whylen, "bad PNG: %s", img.message);
		png_image_free(&img);
		return IMG_BAD;
	}
	if (img.width > IMG_MAX_DIM || img.height > IMG_MAX_DIM ||
	    (long)img.width * img.height > IMG_MAX_PIXELS) {
		snprintf(why, whylen, "PNG too large: %ux%u", img.width,
		    img.height);
		png_image_free(&img);
		return IMG_BAD;
	}
	img.format = PNG_FORMAT_RGB;
	if ((rgb = malloc(PNG_IMAGE_SIZE(img))) == NULL) {
		snprintf(why, whylen, "out of memory");
		png_image_free(&img);
		return IMG_BAD;
	}
	if (!png_image_finish_read(&img, &white, rgb, 0, NULL)) {
		snprintf(why, whylen, "bad PNG: %s", img.message);
		png_image_free(&img);
		free(rgb);
		return IMG_BAD;
	}
	*wp = (int)img.width;
	*hp = (int)img.height;
	png_image_free(&img);
	*rgbp = rgb;
	return IMG_OK;
}

/*
 * Area-average resample along one axis: N source samples (STRIDE apart,
 * 3 channels each) onto M <= N destination samples.
 */
static void
resample_line(const float *src, size_t sstride, int n, float *dst,
    size_t dstride, int m)
{
	double scale = (double)n / m, lo, hi, w, acc[3];
	int i, j, k, first, last;

	for (i = 0; i < m; i++) {
		lo = i * scale;
		hi = (i + 1) * scale;
		first = (int)floor(lo);
		last = (int)ceil(hi);
		if (last > n)
			last = n;
		acc[0] = acc[1] = acc[2] = 0;
		for (j = first; j < last; j++) {
			w = fmin(hi, j + 1.0) - fmax(lo, (double)j);
			for (k = 0; k < 3; k++)
				acc[k] += w * src[(size_t)j * sstride + k];
		}
		for (k = 0; k < 3; k++)
			dst[(size_t)i * dstride + k] = (float)(acc[k] / scale);
	}
}

void
image_fit(const unsigned char *rgb, int w, int h, unsigned char out[IMG_BYTES])
{
	double s = fmin(fmin((double)IMG_W / w, (double)IMG_H / h), 1.0);
	int ow = (int)lround(w * s), oh = (int)lround(h * s), x, y, k, x0, y0;
	float *src = NULL, *tmp = NULL, *dst = NULL, v;
	size_t i;

	if (ow < 1)
		ow = 1;
	if (oh < 1)
		oh = 1;
	if (ow > IMG_W)
		ow = IMG_W;
	if (oh > IMG_H)
		oh = IMG_H;
	memset(out, 255, IMG_BYTES);
	x0 = (IMG_W - ow) / 2;
	y0 = (IMG_H - oh) / 2;

	if (ow == w && oh == h) {	/* fits already: copy, no resampling */
		for (y = 0; y < h; y++)
			memcpy(out + ((size_t)(y0 + y) * IMG_W + x0) * 3,
			    rgb + (size_t)y * w * 3, (size_t)w * 3);
		return;
	}
	src = malloc((size_t)w * h * 3 * sizeof(float));
	tmp = malloc((size_t)ow * h * 3 * sizeof(float));
	dst = malloc((size_t)ow * oh * 3 * sizeof(float));
	if (src == NULL || tmp == NULL || dst == NULL)
		goto out;		/* leaves a white image */
	for (i = 0; i < (size_t)w * h * 3; i++)
		src[i] = rgb[i];
	for (y = 0; y < h; y++)		/* rows: w -> ow */
		resample_line(src + (size_t)y * w * 3, 3, w,
		    tmp + (size_t)y * ow * 3, 3, ow);
	for (x = 0; x < ow; x++)	/* columns: h -> oh */
		resample_line(tmp + (size_t)x * 3, (size_t)ow * 3, h,
		    dst + (size_t)x * 3, (size_t)ow * 3, oh);
	for (y = 0; y < oh; y++)
		for (x = 0; x < ow; x++)
			for (k = 0; k < 3; k++) {
				v = dst[((size_t)y * ow + x) * 3 + k];
				v = v < 0 ? 0 : v > 255 ? 255 : v;
				out[((size_t)(y0 + y) * IMG_W + x0 + x) * 3 + k] =
				    (unsigned char)lrintf(v);
			}
out:
	free(src);
	free(tmp);
	free(dst);
}

int
image_prepare(const unsigned char *data, size_t len,
    unsigned char out[IMG_BYTES], char *why, size_t whylen)
{
	static const unsigned char png_sig[8] =
	    { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	unsigned char *rgb = NULL;
	int w = 0, h = 0, rc;

	if (len >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
		rc = decode_jpeg(data, len, &rgb, &w, &h, why, whylen);
	else if (len >= 8 && memcmp(data, png_sig, 8) == 0)
		rc = decode_png(data, len, &rgb, &w, &h, why, whylen);
	else {
		snprintf(why, whylen, "not a JPEG or PNG image");
		return IMG_UNSUPPORTED;
	}
	if (rc != IMG_OK)
		return rc;
	image_fit(rgb, w, h, out);
	free(rgb);
	return IMG_OK;
}
