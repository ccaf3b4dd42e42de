/* tokenize.c - see tokenize.h */
#include <string.h>

#include "tokenize.h"

static uint32_t
fnv1a(const char *prefix, const unsigned char *s, size_t n)
{
	uint32_t h = 0x811c9dc5u;
	size_t i;

	for (; *prefix != '\0'; prefix++) {
		h ^= (unsigned char)*prefix;
		h *= 0x01000193u;
	}
	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x01000193u;
	}
	return h;
}

/* Plural to singular, as fclip._stem: the length to keep of W. */
static size_t
stem(const unsigned char *w, size_t n)
{
	static const char *es[] = { "sses", "shes", "ches", "xes" };
	size_t i, l;

	if (n <= 3 || w[n - 1] != 's' || w[n - 2] == 's')
		return n;
	for (i = 0; i < sizeof(es) / sizeof(es[0]); i++) {
		l = strlen(es[i]);
		if (n >= l && memcmp(w + n - l, es[i], l) == 0)
			return n - 2;
	}
	return n - 1;
}

struct word {
	unsigned char	s[TOK_MAX_WORD];
	size_t		n;
};

static void
put(uint32_t *out, size_t cap, size_t *k, uint32_t v)
{
	if (*k < cap)
		out[*k] = v;
	(*k)++;
}

size_t
tokenize(const char *text, size_t len, uint32_t nbuckets, uint32_t *out,
    size_t cap)
{
	struct word w[TOK_MAX_WORDS];
	unsigned char g[TOK_MAX_WORD + 2], glue[2 * TOK_MAX_WORD];
	size_t nw = 0, i, j, k = 0, cur = 0;
	int in = 0;
	unsigned char c;

	for (i = 0; i <= len && nw < TOK_MAX_WORDS; i++) {
		c = i < len ? (unsigned char)text[i] : ' ';
		if (c >= 'A' && c <= 'Z')
			c += 32;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c >= 0x80) {
			if (!in) {
				in = 1;
				cur = 0;
			}
			if (cur < TOK_MAX_WORD)
				w[nw].s[cur++] = c;
		} else if (in) {
			in = 0;
			w[nw++].n = cur;
		}
	}
	for (i = 0; i < nw; i++) {
		put(out, cap, &k, fnv1a("w:", w[i].s, stem(w[i].s, w[i].n)) %
		    nbuckets);
		g[0] = '<';
		memcpy(g + 1, w[i].s, w[i].n);
		g[w[i].n + 1] = '>';
		for (j = 0; j + 3 <= w[i].n + 2; j++)
			put(out, cap, &k, fnv1a("g:", g + j, 3) % nbuckets);
		if (i + 1 < nw) {
			memcpy(glue, w[i].s, w[i].n);
			memcpy(glue + w[i].n, w[i + 1].s, w[i + 1].n);
			put(out, cap, &k, fnv1a("w:", glue,
			    stem(glue, w[i].n + w[i + 1].n)) % nbuckets);
		}
	}
	return k;
}
