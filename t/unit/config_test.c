/* config_test.c - libconfig loading, validation, templates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

static const char *srcdir;

/* Write the sample config with one line replaced, return its path. */
static const char *
variant(const char *from, const char *to)
{
	static char path[] = "/tmp/fashion-config-test.cfg";
	char src[1024], line[1024];
	FILE *in, *out;

	snprintf(src, sizeof(src), "%s/etc/fashion.cfg", srcdir);
	if ((in = fopen(src, "r")) == NULL || (out = fopen(path, "w")) == NULL)
		exit(2);
	while (fgets(line, sizeof(line), in) != NULL) {
		if (from != NULL && strstr(line, from) != NULL)
			fputs(to, out);
		else
			fputs(line, out);
	}
	fclose(in);
	fclose(out);
	return path;
}

int
main(void)
{
	struct settings *s;
	char err[512], buf[64];

	if ((srcdir = getenv("FASHION_SRCDIR")) == NULL)
		srcdir = ".";
	s = config_load(variant(NULL, NULL), err, sizeof(err));
	ok(s != NULL, "sample config loads");
	if (s == NULL)
		return done_testing();
	ok(strcmp(s->active->name, "fashion_sota") == 0, "active profile");
	ok(strcmp(s->profiles[0].products, "productsdb") == 0 &&
	    strcmp(s->profiles[1].products, "products") == 0, "table names");
	ok(strcmp(s->pidfile, "/tmp/run/fashiond.pid") == 0,
	    "relative pidfile resolved against the config dir (%s)", s->pidfile);
	ok(config_expand_id(s->active->image_url, 15970, buf, sizeof(buf)) ==
	    CFG_OK && strcmp(buf, "/images/15970.jpg") == 0, "image_url template");
	ok(config_expand_id("{id}", 1, buf, 1) == CFG_ERROR, "template truncation");
	{
		const struct vs_index_decl *x = config_vs_index(s,
		    "main.fashion_demo.vs_image_search");

		ok(s->vs_nindexes == 4, "four vector indexes declared");
		ok(x != NULL && strcmp(x->source,
		    "fashion_demo.product_embeddings_multimodal") == 0 &&
		    strcmp(x->join, "fashion_demo.productsdb") == 0 &&
		    strcmp(x->embedding_column, "image_embedding") == 0 &&
		    x->ncolumns == 11 && strcmp(x->columns[0], "gender") == 0,
		    "index declaration read");
		x = config_vs_index(s, "main.fashion_sota.product_embeddings_index");
		ok(x != NULL && x->join[0] == '\0' && x->ncolumns == 12,
		    "index without a join");
		ok(config_vs_index(s, "nope") == NULL, "unknown index");
		ok(strcmp(s->vs_data_dir, "/tmp/var/vsd") == 0,
		    "data_dir resolved against the config dir");
	}
	config_free(s);

	s = config_load(variant("profile = \"fashion_sota\"",
	    "profile = \"fashion_demo\";\n"), err, sizeof(err));
	ok(s != NULL && !s->active->has_brand, "demo profile has no brand");
	config_free(s);

#define BAD(from, to, what, needle) do {				\
	s = config_load(variant(from, to), err, sizeof(err));		\
	ok(s == NULL && strstr(err, needle) != NULL, "%s: %s", what, err); \
	config_free(s);							\
} while (0)
	BAD("profile = \"fashion_sota\"", "profile = \"nope\";\n",
	    "unknown profile", "nope");
	BAD("workers = 8", "workers = 0;\n", "workers 0", "workers");
	BAD("workers = 8", "wrokers = 4;\n", "typo", "unknown option");
	BAD("schema = \"fashion_sota\"", "schema = \"x; drop table y\";\n",
	    "SQL in an identifier", "not a valid identifier");
	BAD("products = \"products\"", "products = \"Products\";\n",
	    "upper case identifier", "not a valid identifier");
	BAD("conninfo", "conninfo = \"dbname=x password=secret\";\n",
	    "password in conninfo", "password");
	BAD("workers = 8", "workers = \"eight\";\n", "wrong type", "integer");
	BAD("has_brand = true", "has_brand = 1;\n", "bool type", "true or false");
	BAD("image_url = \"/images/{id}.jpg\";", "image_url = \"/images/x.jpg\";\n",
	    "template without {id}", "{id}");
	BAD("source = \"fashion_sota.products\";",
	    "source = \"products\";\n", "unqualified index source",
	    "source: invalid");
	BAD("source = \"fashion_sota.products\";",
	    "source = \"fashion_sota.products\"; bogus = 1;\n",
	    "unknown index key", "unknown option vs.indexes[0].bogus");
	BAD("embedding_column = \"image_embedding\";",
	    "embedding_column = \"gender\";\n", "vector column kept too",
	    "columns[0]");
	BAD("name = \"main.fashion_demo.vs_text_search\";",
	    "{ name = \"main.fashion_demo.vs_image_search\";\n",
	    "index declared twice", "declared twice");
	BAD("name = \"main.fashion_demo.vs_text_search\";",
	    "{ name = \"../etc/passwd\";\n", "index name with a slash",
	    "name: invalid");
	BAD("workers = 8", "workers = ;\n", "syntax error",
	    "syntax error");
	s = config_load("/nonexistent/fashion.cfg", err, sizeof(err));
	ok(s == NULL && strstr(err, "cannot read") != NULL, "missing file: %s",
	    err);
	unlink("/tmp/fashion-config-test.cfg");
	return done_testing();
}
