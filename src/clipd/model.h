/*
 * model.h - the dual encoder of models/fashion-clip.bin: load (mmap,
 * read-only, shared by every worker) and run it.
 *
 * The file format is documented in tools/train/fclip.py, which writes it.
 * The forward pass is the one of fclip.DualEncoder in eval mode; tests
 * compare both on models/golden/.
 */
#ifndef CLIPD_MODEL_H
#define CLIPD_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "image.h"

#define MODEL_OK	 0
#define MODEL_ERROR	-1

#define MODEL_DIM	512	/* embedding width */
#define MODEL_MAX_CONV	8

struct conv {
	const float	*w;	/* [3][3][cin][cout] */
	const float	*b;	/* [cout] */
	int		 cin, cout, stride;
};

struct model {
	void		*map;		/* the whole file, PROT_READ */
	size_t		 size;
	uint32_t	 n_buckets;	/* hashed text features */
	uint32_t	 tok_dim;	/* width of a feature vector */
	const float	*mean, *std;	/* [3] input normalisation */
	struct conv	 conv[MODEL_MAX_CONV];
	int		 nconv;
	const float	*proj_w, *proj_b;	/* [conv[nconv-1].cout][DIM], [DIM] */
	const float	*bag;		/* [n_buckets][tok_dim] */
	const float	*fc1_w, *fc1_b;	/* [tok_dim][DIM], [DIM] */
	const float	*fc2_w, *fc2_b;	/* [DIM][DIM], [DIM] */
	size_t		 act_max;	/* floats of the largest activation */
};

/*
 * Map and check PATH (magic, version, sizes, CRC, every tensor's shape).
 * MODEL_OK, or MODEL_ERROR with the reason in ERR.
 */
int	model_open(const char *path, struct model *m, char *err, size_t errlen);
void	model_close(struct model *m);

/* Per-process scratch space for the image tower. */
struct model_ws;
struct model_ws	*model_ws_new(const struct model *m);
void		 model_ws_free(struct model_ws *);

/* Embeddings, L2-normalised, MODEL_DIM floats into OUT. */
void	model_embed_text(const struct model *m, const char *text, size_t len,
	    float *out);
void	model_embed_image(const struct model *m, struct model_ws *ws,
	    const unsigned char px[IMG_BYTES], float *out);

#endif
