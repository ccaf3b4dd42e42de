/*
 * image.h - decode a JPEG or PNG from memory and turn it into the model's
 * input: RGB, fitted into IMG_W x IMG_H by area averaging (never enlarged),
 * centred on white, 8 bits per channel, row-major HWC.
 *
 * The training pipeline (tools/train/prep) calls exactly this code, so the
 * model sees the same pixels in training and in fashion-clipd.
 */
#ifndef CLIPD_IMAGE_H
#define CLIPD_IMAGE_H

#include <stddef.h>

#define IMG_W		60
#define IMG_H		80
#define IMG_PIXELS	(IMG_W * IMG_H)
#define IMG_BYTES	(IMG_PIXELS * 3)

/* Largest decoded image accepted (decompression bombs). */
#define IMG_MAX_DIM	12000
#define IMG_MAX_PIXELS	(40L * 1000 * 1000)

/* Results. */
#define IMG_OK		 0
#define IMG_BAD		-1	/* JPEG/PNG but damaged, too large, ... */
#define IMG_UNSUPPORTED	-2	/* not a JPEG or a PNG */

/*
 * Decode DATA (LEN bytes) and write the model input into OUT[IMG_BYTES].
 * On failure writes a short reason into WHY.  Never prints.
 */
int	image_prepare(const unsigned char *data, size_t len,
	    unsigned char out[IMG_BYTES], char *why, size_t whylen);

/*
 * Fit an RGB8 image (W x H, row-major) into OUT as above.  Exposed for the
 * unit tests.
 */
void	image_fit(const unsigned char *rgb, int w, int h,
	    unsigned char out[IMG_BYTES]);

#endif
