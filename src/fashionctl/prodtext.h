/*
 * prodtext.h - the text "fashionctl embed" embeds for a product (see
 * doc/DATA.md, "Embeddings"):
 *
 *   <productDisplayName>, <baseColour> <articleType> for <gender>, <usage>
 *
 * e.g. "Turtle Check Men Navy Blue Shirt, Navy Blue Shirts for Men, Casual".
 * Runs of whitespace become one space, fields are trimmed, and an empty
 * (or NULL) field is left out with its separator.  "NA" is kept as written,
 * as the loader and the model's training data have it.
 */
#ifndef FASHIONCTL_PRODTEXT_H
#define FASHIONCTL_PRODTEXT_H

#include "buf.h"

/* The catalog columns the text is made of; NULL = empty. */
struct prodtext_fields {
	const char	*name;		/* product_display_name */
	const char	*colour;	/* base_color */
	const char	*article;	/* article_type */
	const char	*gender;
	const char	*usage;
};

/* Append the product's text to OUT (allocation failure: see buf.h). */
void	prodtext(struct buf *out, const struct prodtext_fields *);

#endif
