/*
 * imgcheck.h - does a product image exist and decode (libjpeg-turbo) to a
 * sane size?  Corrupt or truncated files are reported, never crash.
 */
#ifndef FASHIONCTL_IMGCHECK_H
#define FASHIONCTL_IMGCHECK_H

#include <stddef.h>

#define IMG_OK		 0	/* decodes fully, size in range */
#define IMG_MISSING	 1	/* no such file */
#define IMG_BAD		 2	/* unreadable, corrupt, truncated or wrong size */
#define IMG_NOMEM	-1

#define IMG_MINSIDE	20	/* pixels, each side */
#define IMG_MAXSIDE	4000
#define IMG_MAXBYTES	(32L << 20)	/* larger files are not product images */

struct imgcheck {
	unsigned char	*buf;		/* file contents, reused between calls */
	size_t		 cap;
};

void	imgcheck_init(struct imgcheck *);
void	imgcheck_free(struct imgcheck *);

/*
 * Check the JPEG at PATH.  On IMG_OK sets *W and *H.  On IMG_BAD writes the
 * reason into WHY.
 */
int	imgcheck_file(struct imgcheck *, const char *path, int *w, int *h,
	    char *why, size_t whylen);

/* Same for a JPEG already in memory (the fuzz/unit-test entry point). */
int	imgcheck_mem(const unsigned char *data, size_t len, int *w, int *h,
	    char *why, size_t whylen);

#endif
