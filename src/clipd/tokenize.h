/*
 * tokenize.h - text to hashed feature ids, exactly as tools/train/fclip.py
 * does it (features()): lower-cased ASCII words ([a-z0-9] runs, bytes >= 0x80
 * belong to words), at most TOK_MAX_WORDS of them; for each word its
 * stemmed form, its character trigrams (of "<word>") and the stemmed glue
 * of it and the next word ("t shirt" -> "tshirt"), each FNV-1a hashed into
 * NBUCKETS buckets.
 */
#ifndef CLIPD_TOKENIZE_H
#define CLIPD_TOKENIZE_H

#include <stddef.h>
#include <stdint.h>

#define TOK_MAX_WORDS	64
#define TOK_MAX_WORD	64	/* longer words are cut (both sides agree) */

/*
 * Write the feature ids of TEXT (LEN bytes) into OUT (capacity CAP) and
 * return how many there are; when that is more than CAP only the first
 * CAP were written.
 */
size_t	tokenize(const char *text, size_t len, uint32_t nbuckets,
	    uint32_t *out, size_t cap);

/* Upper bound of tokenize()'s result for any text. */
#define TOK_MAX_FEATURES \
	(TOK_MAX_WORDS * (1 + (TOK_MAX_WORD + 2 - 2) + 1))

#endif
