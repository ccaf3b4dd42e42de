/* catalog.c - see catalog.h */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"

int
catalog_products_table(const struct profile *p, char *buf, size_t len)
{
	/* Identifiers were validated at load: [a-z_][a-z0-9_]*, no quoting needed
	 * beyond the double quotes. */
	int n = snprintf(buf, len, "\"%s\".\"%s\"", p->schema, p->products);

	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

int
catalog_table(const struct profile *p, const char *name, char *buf,
    size_t len)
{
	/* Validated at load like the products table. */
	int n = snprintf(buf, len, "\"%s\".\"%s\"", p->schema, name);

	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

int
catalog_parse_vector(const char *t, float *v, size_t dim)
{
	char *end;
	size_t i;

	if (dim == 0 || *t++ != '{')
		return -1;
	for (i = 0; i < dim; i++) {
		v[i] = strtof(t, &end);
		if (end == t || !isfinite(v[i]) ||
		    *end != (i == dim - 1 ? '}' : ','))
			return -1;
		t = end + 1;
	}
	return *t == '\0' ? 0 : -1;
}

const char *
catalog_columns(const struct profile *p)
{
	return p->has_brand ? CATALOG_COLUMNS_BRAND : CATALOG_COLUMNS;
}

/* Text columns in CATALOG_COLUMNS order; 0 = number. */
static const struct {
	const char	*name;
	int		 text;
} columns[] = {
	{ "product_id", 0 }, { "gender", 1 }, { "master_category", 1 },
	{ "sub_category", 1 }, { "article_type", 1 }, { "base_color", 1 },
	{ "season", 1 }, { "year", 0 }, { "usage", 1 },
	{ "product_display_name", 1 }, { "price", 0 }, { "image_path", 1 },
	{ "brand", 1 },
};

void
catalog_product_fields(struct buf *b, const PGresult *res, int row,
    const struct profile *p)
{
	int c, ncols = p->has_brand ? 13 : 12;
	char url[256];
	long id;

	for (c = 0; c < ncols; c++) {
		buf_printf(b, "%s\"%s\":", c ? "," : "", columns[c].name);
		if (PQgetisnull(res, row, c) ||
		    (columns[c].text && PQgetlength(res, row, c) == 0))
			buf_puts(b, "null");
		else if (columns[c].text)
			buf_json_strn(b, PQgetvalue(res, row, c),
			    (size_t)PQgetlength(res, row, c));
		else
			buf_add(b, PQgetvalue(res, row, c),
			    (size_t)PQgetlength(res, row, c));
	}
	id = strtol(PQgetvalue(res, row, 0), NULL, 10);
	if (config_expand_id(p->image_url, id, url, sizeof(url)) == CFG_OK) {
		buf_puts(b, ",\"image_url\":");
		buf_json_str(b, url);
	}
}

void
catalog_product_json(struct buf *b, const PGresult *res, int row,
    const struct profile *p)
{
	buf_add(b, "{", 1);
	catalog_product_fields(b, res, row, p);
	buf_add(b, "}", 1);
}

static unsigned
hash_key(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

int
count_cache_get(struct catalog_cache *c, unsigned long gen, const char *key,
    long long *count)
{
	struct count_entry *e = &c->counts[hash_key(key) % CACHE_SLOTS];

	if (e->key == NULL || e->gen != gen || strcmp(e->key, key) != 0)
		return -1;
	*count = e->count;
	return 0;
}

void
count_cache_put(struct catalog_cache *c, unsigned long gen, const char *key,
    long long count)
{
	struct count_entry *e = &c->counts[hash_key(key) % CACHE_SLOTS];
	char *k = strdup(key);

	if (k == NULL)
		return;		/* a cache miss next time, nothing worse */
	free(e->key);
	e->key = k;
	e->gen = gen;
	e->count = count;
}

void
catalog_cache_free(struct catalog_cache *c)
{
	int i;

	for (i = 0; i < CACHE_SLOTS; i++)
		free(c->counts[i].key);
	free(c->options[0]);
	free(c->options[1]);
	memset(c, 0, sizeof(*c));
}
