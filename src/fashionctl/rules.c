/* rules.c - see rules.h and doc/DATA.md ("Derived fields"). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

/* ---- price ---------------------------------------------------------- */

struct band {
	const char	*name;		/* subCategory or masterCategory value */
	long		 base;		/* INR */
};

/* Base prices (INR) per subCategory, as found in styles.csv. */
static const struct band sub_bands[] = {
	{ "Topwear", 899 }, { "Bottomwear", 1299 }, { "Dress", 1599 },
	{ "Innerwear", 499 }, { "Loungewear and Nightwear", 999 },
	{ "Saree", 2499 }, { "Apparel Set", 1499 }, { "Socks", 299 },
	{ "Shoes", 2999 }, { "Sandal", 1299 }, { "Flip Flops", 499 },
	{ "Watches", 3999 }, { "Bags", 1799 }, { "Belts", 799 },
	{ "Wallets", 899 }, { "Eyewear", 1999 }, { "Jewellery", 999 },
	{ "Headwear", 499 }, { "Ties", 699 }, { "Cufflinks", 799 },
	{ "Scarves", 699 }, { "Stoles", 799 }, { "Mufflers", 699 },
	{ "Gloves", 499 }, { "Umbrellas", 599 }, { "Shoe Accessories", 299 },
	{ "Sports Accessories", 599 }, { "Water Bottle", 399 },
	{ "Accessories", 599 }, { "Perfumes", 1999 }, { "Fragrance", 1999 },
	{ "Lips", 399 }, { "Nails", 249 }, { "Makeup", 499 }, { "Eyes", 449 },
	{ "Skin Care", 599 }, { "Skin", 499 }, { "Hair", 399 },
	{ "Bath and Body", 449 }, { "Beauty Accessories", 299 },
	{ "Free Gifts", 199 }, { "Vouchers", 499 }, { "Home Furnishing", 1299 },
	{ "Sports Equipment", 1499 }, { "Wristbands", 299 },
	{ NULL, 0 }
};

/* Fallback per masterCategory for a subCategory not listed above. */
static const struct band master_bands[] = {
	{ "Apparel", 999 }, { "Footwear", 1999 }, { "Accessories", 799 },
	{ "Personal Care", 499 }, { "Free Items", 199 },
	{ "Sporting Goods", 999 }, { "Home", 999 },
	{ NULL, 0 }
};

#define PRICE_DEFAULT	999	/* INR, neither band known */
#define PRICE_STEP	50	/* round to this many rupees, then minus 1 */
#define PRICE_MIN	49	/* INR */
#define FACTOR_MIN	60	/* percent */
#define FACTOR_SPAN	121	/* percent values: 60..180 */

static long
band_base(const struct band *b, const char *name, long def)
{
	if (name == NULL)
		return def;
	for (; b->name != NULL; b++)
		if (strcmp(b->name, name) == 0)
			return b->base;
	return def;
}

unsigned long
rules_id_hash(long id)
{
	char s[32];
	uint32_t h = 2166136261u;
	int i, n;

	n = snprintf(s, sizeof(s), "%ld", id);
	if (n < 0 || (size_t)n >= sizeof(s))
		return 0;
	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

long
rules_price(const char *master, const char *sub, long id)
{
	long base, pct, hundredths, rupees;

	base = band_base(sub_bands, sub,
	    band_base(master_bands, master, PRICE_DEFAULT));
	pct = FACTOR_MIN + (long)(rules_id_hash(id) % FACTOR_SPAN);
	hundredths = base * pct;	/* rupees * 100 */
	rupees = (hundredths + PRICE_STEP * 100 / 2) / (PRICE_STEP * 100) *
	    PRICE_STEP - 1;
	if (rupees < PRICE_MIN)
		rupees = PRICE_MIN;
	return rupees * 100;
}

/* ---- brand ---------------------------------------------------------- */

#define NAME_MAXWORDS	64	/* words of a display name looked at */

/* Words (lower case) that say who a product is for. */
static const char *audience_words[] = {
	"men", "women", "boys", "girls", "unisex", "kids", "boy", "girl",
	"men's", "women's", "mens", "womens", "boy's", "girl's", "kid's",
	"infant", "infants", "baby", NULL
};

struct word {
	const char	*s;
	size_t		 len;
};

static int
lc(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

/* Split S on blanks into at most MAX words; returns the count. */
static size_t
split_words(const char *s, struct word *w, size_t max)
{
	size_t n = 0;

	while (*s != '\0' && n < max) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		w[n].s = s;
		while (*s != '\0' && *s != ' ' && *s != '\t')
			s++;
		w[n].len = (size_t)(s - w[n].s);
		n++;
	}
	return n;
}

/* Case-insensitive: is word W equal to the lower-case string LOWER? */
static int
word_is(const struct word *w, const char *lower)
{
	size_t i;

	for (i = 0; i < w->len; i++)
		if (lower[i] == '\0' || lc((unsigned char)w->s[i]) != lower[i])
			return 0;
	return lower[i] == '\0';
}

static int
is_audience(const struct word *w, size_t i, size_t n)
{
	const char **a;

	for (a = audience_words; *a != NULL; a++)
		if (word_is(&w[i], *a))
			return 1;
	/* "For Her", "For Him" */
	return i + 1 < n && word_is(&w[i], "for") &&
	    (word_is(&w[i + 1], "her") || word_is(&w[i + 1], "him"));
}

/*
 * Join the first N words of W with single spaces into OUT, lower-cased when
 * LOWER.  Returns 0, or -1 when it does not fit.
 */
static int
join_words(const struct word *w, size_t n, int lower, char *out, size_t outlen)
{
	size_t i, j, o = 0;

	for (i = 0; i < n; i++) {
		/* o < outlen holds: room for separator, word and NUL? */
		if (w[i].len + 2 > outlen - o)
			return -1;
		if (i > 0)
			out[o++] = ' ';
		for (j = 0; j < w[i].len; j++)
			out[o++] = lower ? (char)lc((unsigned char)w[i].s[j]) :
			    w[i].s[j];
	}
	if (o >= outlen)
		return -1;
	out[o] = '\0';
	return 0;
}

int
rules_brand_candidate(const char *name, char *out, size_t outlen)
{
	struct word w[NAME_MAXWORDS];
	size_t i, n;

	n = split_words(name, w, NAME_MAXWORDS);
	for (i = 0; i < n; i++)
		if (is_audience(w, i, n))
			break;
	if (i == n || i < 1 || i > BRAND_MAXWORDS)
		return 0;
	return join_words(w, i, 0, out, outlen) == 0;
}

struct cand {
	char	*key;		/* lower case */
	char	*spell;		/* as written */
};

struct entry {
	char		*key;	/* lower case, unique, sorted */
	char		*spell;	/* most frequent spelling */
	unsigned long	 seen;
};

struct brands {
	struct cand	*cands;
	size_t		 ncands, capcands;
	struct entry	*dict;
	size_t		 ndict;
};

struct brands *
brands_new(void)
{
	return calloc(1, sizeof(struct brands));
}

void
brands_free(struct brands *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->ncands; i++) {
		free(b->cands[i].key);
		free(b->cands[i].spell);
	}
	free(b->cands);
	/* dict entries point at strings owned by cands */
	free(b->dict);
	free(b);
}

/* Grow *ARR (elements of SIZE) to hold one more element. */
static int
grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 256;
	if (ncap > SIZE_MAX / size)
		return -1;
	if ((p = realloc(*arr, ncap * size)) == NULL)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

int
brands_learn(struct brands *b, const char *name)
{
	struct word w[BRAND_MAXWORDS];
	char spell[256], key[256];
	struct cand *c;
	size_t n;

	if (name == NULL || !rules_brand_candidate(name, spell, sizeof(spell)))
		return RULES_OK;
	n = split_words(spell, w, BRAND_MAXWORDS);
	if (join_words(w, n, 1, key, sizeof(key)) != 0)
		return RULES_OK;
	if (grow((void **)&b->cands, &b->capcands, b->ncands,
	    sizeof(*b->cands)) != 0)
		return RULES_NOMEM;
	c = &b->cands[b->ncands];
	c->key = strdup(key);
	c->spell = strdup(spell);
	if (c->key == NULL || c->spell == NULL) {
		free(c->key);
		free(c->spell);
		return RULES_NOMEM;
	}
	b->ncands++;
	return RULES_OK;
}

static int
cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int r;

	if ((r = strcmp(x->key, y->key)) != 0)
		return r;
	return strcmp(x->spell, y->spell);
}

static int
cmp_entry_key(const void *key, const void *e)
{
	return strcmp(key, ((const struct entry *)e)->key);
}

static const struct entry *
dict_find(const struct brands *b, const char *key)
{
	if (b->ndict == 0)
		return NULL;	/* dict may be NULL: no bsearch on it */
	return bsearch(key, b->dict, b->ndict, sizeof(*b->dict), cmp_entry_key);
}

long
brands_finish(struct brands *b)
{
	size_t i, j, k, run, best, nd = 0;
	struct entry *d;

	free(b->dict);
	b->dict = NULL;
	b->ndict = 0;
	if (b->ncands == 0)
		return 0;
	qsort(b->cands, b->ncands, sizeof(*b->cands), cmp_cand);
	if ((d = calloc(b->ncands, sizeof(*d))) == NULL)
		return -1;
	for (i = 0; i < b->ncands; i = j) {
		/* [i, j) share a key; runs of equal spelling are adjacent */
		best = i;
		run = 0;
		for (j = i; j < b->ncands &&
		    strcmp(b->cands[j].key, b->cands[i].key) == 0; j = k) {
			for (k = j; k < b->ncands &&
			    strcmp(b->cands[k].key, b->cands[j].key) == 0 &&
			    strcmp(b->cands[k].spell, b->cands[j].spell) == 0; k++)
				;
			if (k - j > run) {
				run = k - j;
				best = j;
			}
		}
		if (j - i < BRAND_MINSEEN)
			continue;
		d[nd].key = b->cands[i].key;
		d[nd].spell = b->cands[best].spell;
		d[nd].seen = j - i;
		nd++;
	}
	b->dict = d;
	b->ndict = nd;
	return (long)b->ndict;
}

const char *
brands_match(const struct brands *b, const char *name, char *buf,
    size_t len)
{
	struct word w[BRAND_MAXWORDS + 1];
	const struct entry *e;
	char key[256];
	size_t n, k;

	if (name == NULL)
		return NULL;
	n = split_words(name, w, BRAND_MAXWORDS + 1);
	for (k = 1; k < n; k++)		/* shortest first; one word must remain */
		if (join_words(w, k, 1, key, sizeof(key)) == 0 &&
		    (e = dict_find(b, key)) != NULL)
			return e->spell;
	return rules_brand_candidate(name, buf, len) ? buf : NULL;
}
