/*
 * config.h - one immutable settings struct built from etc/fashion.cfg.
 *
 * Every option is declared once in the table in config.c (name, type,
 * default, whether a reload may change it).  A loaded struct settings is
 * never modified: a reload builds a fresh one and swaps it in.
 */
#ifndef FASHION_CONFIG_H
#define FASHION_CONFIG_H

#include <stddef.h>

#define CFG_OK     0
#define CFG_ERROR -1

#define CFG_NAME_MAX 64		/* longest schema/table identifier accepted */

/* One storage layout: everything a handler needs to find its data. */
struct profile {
	char	*name;		/* "fashion_demo" or "fashion_sota" */
	char	*schema;	/* Postgres schema */
	char	*products;	/* products table (unqualified) */
	char	*users;		/* users table */
	char	*user_features;	/* user preferences / style features table */
	char	*sessions;	/* login sessions table */
	char	*likes;		/* liked products table */
	char	*embeddings;	/* separate embeddings table, "" if denormalised */
	char	*vs_endpoint;	/* Vector Search endpoint name */
	char	*image_index;	/* VS index used for image search */
	char	*text_index;	/* VS index used for text search */
	char	*hybrid_index;	/* VS index used for cross-modal search */
	char	*image_path;	/* template for products.image_path, "{id}" replaced */
	char	*image_url;	/* template for the API's image_url, "{id}" replaced */
	int	 has_brand;	/* products table has a brand column */
	int	 embedded;	/* embedding columns live in the products table */
};

/* One index fashion-vsd serves (vs.indexes): a Delta Sync index analog. */
struct vs_index_decl {
	char	*name;		/* "catalog.schema.index" as clients name it */
	char	*source;	/* "schema.table" holding the vectors */
	char	*join;		/* "schema.table" joined USING (primary_key), or "" */
	char	*primary_key;	/* integer key column */
	char	*embedding_column; /* real[] column */
	char	**columns;	/* kept for filters and results */
	int	 ncolumns;
};

#define CFG_MAX_INDEXES	16
#define CFG_MAX_COLUMNS	64

struct settings {
	char	*path;		/* file this was loaded from */
	char	*profile_name;	/* value of the top-level "profile" */
	const struct profile *active;	/* points into profiles[] */
	struct profile profiles[2];	/* [0] fashion_demo, [1] fashion_sota */

	/* server */
	char	*listen;	/* "127.0.0.1:9000", "[::1]:9000" or "unix:/path" */
	int	 workers;	/* worker processes */
	int	 backlog;	/* listen(2) backlog */
	char	*pidfile;	/* master pid file, "" for none */
	char	*user;		/* drop privileges to this user when root, "" = stay */
	int	 log_debug;	/* 1 = log every request */
	long	 max_body;	/* largest request body accepted, bytes */
	int	 drain_timeout;	/* seconds old workers get to finish on reload/quit */

	/* database */
	char	*db_conninfo;	/* libpq conninfo without password */
	char	*db_password_file; /* file holding the password, "" = use env/PGPASSFILE */
	int	 db_connect_timeout; /* seconds */
	int	 db_statement_timeout; /* milliseconds */
	int	 db_backoff_max;	/* max reconnect backoff, milliseconds */

	/* clip: the embedding service fashion-clipd ... */
	char	*clip_listen;	/* its FastCGI socket */
	int	 clip_workers;	/* its worker processes */
	char	*clip_pidfile;	/* its master pid file, "" for none */
	char	*clip_model;	/* model file, "" = the installed one */
	char	*clip_endpoint;	/* serving endpoint name (served and called) */
	int	 clip_max_batch; /* rows per invocation */
	long	 clip_max_body;	/* largest invocation body, bytes */
	/* ... and its clients (fashionctl embed, fashiond) */
	char	*clip_url;	/* base URL: {url}/serving-endpoints/{endpoint}/invocations */
	char	*clip_token_env; /* environment variable holding the bearer token */
	int	 clip_connect_timeout; /* milliseconds */
	int	 clip_timeout;	/* milliseconds for a whole call */
	int	 clip_retries;	/* extra attempts on 429/503/504 and network errors */
	char	*clip_client_id_env;	/* OAuth M2M client id variable */
	char	*clip_client_secret_env; /* OAuth M2M client secret variable */

	/* vs: the vector search service fashion-vsd ... */
	char	*vs_listen;	/* its FastCGI socket */
	int	 vs_workers;
	char	*vs_pidfile;
	char	*vs_data_dir;	/* snapshot files, one per index */
	int	 vs_page_size;	/* rows per page before next_page_token */
	long	 vs_max_body;
	struct vs_index_decl *vs_indexes;
	int	 vs_nindexes;
	/* ... and its clients (fashiond) */
	char	*vs_url;
	char	*vs_token_env;
	char	*vs_client_id_env;
	char	*vs_client_secret_env;
	int	 vs_connect_timeout;
	int	 vs_timeout;
	int	 vs_retries;

	/* search in fashiond */
	long	 search_max_upload;	/* largest image upload, bytes */
	int	 search_cache_entries;	/* query-embedding cache per worker */
};

/* Index declaration by name, NULL when fashion-vsd does not serve it. */
const struct vs_index_decl *config_vs_index(const struct settings *,
	    const char *name);

/*
 * Load and validate FILE.  On success returns a new struct (free with
 * config_free) and *err is untouched; on failure returns NULL and writes a
 * human-readable reason ("file:line: ...") into err.
 */
struct settings	*config_load(const char *file, char *err, size_t errlen);
void		 config_free(struct settings *);

/* Profile by name, NULL when unknown. */
const struct profile *config_profile(const struct settings *, const char *name);

/*
 * Expand a "{id}" template for product ID into buf.  Returns CFG_OK, or
 * CFG_ERROR when the result would not fit.
 */
int	 config_expand_id(const char *tmpl, long id, char *buf, size_t len);

/*
 * Read a password from db_password_file (first line), or NULL when none is
 * configured.  Caller frees.
 */
char	*config_db_password(const struct settings *);

/* Print every option with its default (for docs/tests). */
void	 config_dump_options(void);

#endif
