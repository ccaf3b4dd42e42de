/*
 * rules.h - the derived catalog fields that the source data lacks: price
 * and brand.  Both rules are documented in doc/DATA.md; change the two
 * together.
 */
#ifndef FASHIONCTL_RULES_H
#define FASHIONCTL_RULES_H

#include <stddef.h>

#define RULES_OK	 0
#define RULES_NOMEM	-1

/* Brand candidates and dictionary entries are at most this many words. */
#define BRAND_MAXWORDS	4
/* A candidate becomes a brand once it was seen this many times. */
#define BRAND_MINSEEN	3

/*
 * Price in paise (1/100 INR) for a product: a base per subCategory (else
 * per masterCategory, else 999) times a factor 0.60..1.80 from a hash of the
 * id, rounded to the nearest 50 rupees minus 1 (..49 or ..99), at least 49.
 * Always > 0; depends only on its arguments.
 */
long	rules_price(const char *master, const char *sub, long id);

/* FNV-1a of the decimal id (exposed for the unit tests). */
unsigned long rules_id_hash(long id);

/*
 * The brand candidate of a display name: its words before the first
 * audience word (Men, Women's, Kids, "For Her", ...) when there are 1 to
 * BRAND_MAXWORDS of them, words joined by one space.  Returns 1 and fills
 * OUT, or 0 when the name has no candidate (or it does not fit).
 */
int	rules_brand_candidate(const char *name, char *out, size_t outlen);

/*
 * The brand rule (doc/DATA.md): a dictionary is learnt from every display
 * name of the catalog (pass 1), then each name is matched (pass 2).
 */
struct brands;

struct brands	*brands_new(void);
void		 brands_free(struct brands *);

/* Pass 1: every display name. */
int	brands_learn(struct brands *, const char *name);

/*
 * Between the passes: the dictionary is every candidate seen at least
 * BRAND_MINSEEN times (case-insensitive), spelled as most often seen.
 * Returns its size or -1.
 */
long	brands_finish(struct brands *);

/*
 * Pass 2: the brand of NAME: the shortest dictionary entry that is a
 * whole-word, case-insensitive prefix of NAME leaving at least one word;
 * else NAME's own candidate (copied into BUF); else NULL.
 */
const char *brands_match(const struct brands *, const char *name, char *buf,
	    size_t len);

#endif
