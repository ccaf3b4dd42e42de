/*
 * config.c - etc/fashion.cfg (libconfig) into one immutable struct settings.
 *
 * All options are declared once in the tables below.  `make check` verifies
 * that every option appears in etc/fashion.cfg and in doc/CONFIG.md.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "config.h"

/* OPT_LIST: a list parsed by its own function (vs.indexes); the table
 * entry exists so typos are caught and the option is documented. */
enum opt_type { OPT_STR, OPT_INT, OPT_LONG, OPT_BOOL, OPT_IDENT, OPT_LIST };

struct option {
	const char	*name;		/* path inside its group */
	enum opt_type	 type;
	const char	*def;		/* default; NULL = required */
	long		 min, max;	/* range for OPT_INT, OPT_LONG */
	int		 reload;	/* may a SIGHUP change it? */
	size_t		 off;		/* offset in the struct */
	const char	*doc;
};

#define S(f)	offsetof(struct settings, f)
#define P(f)	offsetof(struct profile, f)

/* Options of the server itself: group.name */
static const struct option server_opts[] = {
	{ "server.listen", OPT_STR, "127.0.0.1:9000", 0, 0, 0, S(listen),
	  "FastCGI socket: host:port, [v6]:port or unix:/path" },
	{ "server.workers", OPT_INT, "8", 1, 256, 1, S(workers),
	  "worker processes (they mostly wait on upstreams: more than cores)" },
	{ "server.backlog", OPT_INT, "511", 1, 65535, 0, S(backlog),
	  "listen(2) backlog" },
	{ "server.pidfile", OPT_STR, "", 0, 0, 0, S(pidfile),
	  "master pid file (fashionctl switch signals it)" },
	{ "server.user", OPT_STR, "", 0, 0, 0, S(user),
	  "drop privileges to this user after binding when started as root" },
	{ "server.log_debug", OPT_BOOL, "false", 0, 0, 1, S(log_debug),
	  "log every request" },
	{ "server.max_body", OPT_LONG, "1048576", 0, 64L << 20, 1, S(max_body),
	  "largest request body accepted, bytes" },
	{ "server.drain_timeout", OPT_INT, "30", 1, 3600, 1, S(drain_timeout),
	  "seconds old workers get to finish in-flight requests" },
	{ "database.conninfo", OPT_STR, "dbname=fashion", 0, 0, 1, S(db_conninfo),
	  "libpq conninfo (no password here: PGPASSWORD or password_file)" },
	{ "database.password_file", OPT_STR, "", 0, 0, 1, S(db_password_file),
	  "file whose first line is the database password" },
	{ "database.connect_timeout", OPT_INT, "5", 1, 600, 1, S(db_connect_timeout),
	  "seconds" },
	{ "database.statement_timeout", OPT_INT, "5000", 0, 600000, 1,
	  S(db_statement_timeout), "milliseconds, 0 = none" },
	{ "database.backoff_max", OPT_INT, "5000", 10, 600000, 1, S(db_backoff_max),
	  "largest reconnect backoff, milliseconds" },
	{ "clip.listen", OPT_STR, "127.0.0.1:9100", 0, 0, 0, S(clip_listen),
	  "fashion-clipd FastCGI socket" },
	{ "clip.workers", OPT_INT, "2", 1, 256, 1, S(clip_workers),
	  "fashion-clipd worker processes (CPU bound: about one per core)" },
	{ "clip.pidfile", OPT_STR, "", 0, 0, 0, S(clip_pidfile),
	  "fashion-clipd master pid file" },
	{ "clip.model", OPT_STR, "", 0, 0, 1, S(clip_model),
	  "model file (\"\" = the installed models/fashion-clip.bin)" },
	{ "clip.endpoint", OPT_STR, "fashion-clip", 0, 0, 1, S(clip_endpoint),
	  "Model Serving endpoint name" },
	{ "clip.max_batch", OPT_INT, "64", 1, 1024, 1, S(clip_max_batch),
	  "rows per invocation" },
	{ "clip.max_body", OPT_LONG, "16777216", 1024, 256L << 20, 1,
	  S(clip_max_body), "largest invocation body, bytes" },
	{ "clip.url", OPT_STR, "http://127.0.0.1:8090", 0, 0, 1, S(clip_url),
	  "base URL of the serving endpoint host, for clients" },
	{ "clip.token_env", OPT_STR, "DATABRICKS_TOKEN", 0, 0, 1,
	  S(clip_token_env), "environment variable with the bearer token" },
	{ "clip.connect_timeout", OPT_INT, "1000", 1, 600000, 1,
	  S(clip_connect_timeout), "milliseconds" },
	{ "clip.timeout", OPT_INT, "30000", 1, 3600000, 1, S(clip_timeout),
	  "milliseconds for one whole call" },
	{ "clip.retries", OPT_INT, "3", 0, 20, 1, S(clip_retries),
	  "extra attempts on 429/503/504 and connection errors" },
	{ "clip.client_id_env", OPT_STR, "DATABRICKS_CLIENT_ID", 0, 0, 1,
	  S(clip_client_id_env), "variable with an OAuth M2M client id (used "
	  "with the secret instead of the token when both are set)" },
	{ "clip.client_secret_env", OPT_STR, "DATABRICKS_CLIENT_SECRET", 0, 0, 1,
	  S(clip_client_secret_env), "variable with the OAuth M2M client secret" },
	{ "vs.listen", OPT_STR, "127.0.0.1:9200", 0, 0, 0, S(vs_listen),
	  "fashion-vsd FastCGI socket" },
	{ "vs.workers", OPT_INT, "2", 1, 256, 1, S(vs_workers),
	  "fashion-vsd worker processes (memory-bandwidth bound)" },
	{ "vs.pidfile", OPT_STR, "", 0, 0, 0, S(vs_pidfile),
	  "fashion-vsd master pid file" },
	{ "vs.data_dir", OPT_STR, "var/vsd", 0, 0, 1, S(vs_data_dir),
	  "directory of the index snapshot files" },
	{ "vs.page_size", OPT_INT, "1000", 1, 10000, 1, S(vs_page_size),
	  "result rows per page; more come with next_page_token" },
	{ "vs.max_body", OPT_LONG, "1048576", 1024, 64L << 20, 1, S(vs_max_body),
	  "largest query body, bytes" },
	{ "vs.url", OPT_STR, "http://127.0.0.1:8090", 0, 0, 1, S(vs_url),
	  "base URL of the Vector Search host, for clients" },
	{ "vs.token_env", OPT_STR, "DATABRICKS_TOKEN", 0, 0, 1, S(vs_token_env),
	  "environment variable with the bearer token" },
	{ "vs.client_id_env", OPT_STR, "DATABRICKS_CLIENT_ID", 0, 0, 1,
	  S(vs_client_id_env), "variable with an OAuth M2M client id" },
	{ "vs.client_secret_env", OPT_STR, "DATABRICKS_CLIENT_SECRET", 0, 0, 1,
	  S(vs_client_secret_env), "variable with the OAuth M2M client secret" },
	{ "vs.connect_timeout", OPT_INT, "1000", 1, 600000, 1,
	  S(vs_connect_timeout), "milliseconds" },
	{ "vs.timeout", OPT_INT, "5000", 1, 3600000, 1, S(vs_timeout),
	  "milliseconds for one whole call" },
	{ "vs.retries", OPT_INT, "2", 0, 20, 1, S(vs_retries),
	  "extra attempts on 429/503/504 and connection errors" },
	{ "vs.indexes", OPT_LIST, "()", 0, 0, 1, 0,
	  "indexes served: name, source, join, primary_key, "
	  "embedding_column, columns" },
	{ "search.max_upload", OPT_LONG, "10485760", 1024, 64L << 20, 1,
	  S(search_max_upload), "largest photo upload for image search, bytes" },
	{ "search.cache_entries", OPT_INT, "1024", 0, 1000000, 1,
	  S(search_cache_entries), "query text -> embedding cache per worker "
	  "(0 = off)" },
	{ NULL, 0, NULL, 0, 0, 0, 0, NULL }
};

/* Options of each profile: profiles.<name>.name */
static const struct option profile_opts[] = {
	{ "schema", OPT_IDENT, NULL, 0, 0, 1, P(schema), "Postgres schema" },
	{ "products", OPT_IDENT, NULL, 0, 0, 1, P(products), "products table" },
	{ "users", OPT_IDENT, NULL, 0, 0, 1, P(users), "users table" },
	{ "user_features", OPT_IDENT, NULL, 0, 0, 1, P(user_features),
	  "user preferences / style features table" },
	{ "sessions", OPT_IDENT, "sessions", 0, 0, 1, P(sessions),
	  "login sessions table (hashes of the tokens)" },
	{ "likes", OPT_IDENT, "user_likes", 0, 0, 1, P(likes),
	  "liked products table" },
	{ "embeddings", OPT_IDENT, "", 0, 0, 1, P(embeddings),
	  "separate embeddings table (\"\" when denormalised)" },
	{ "vs_endpoint", OPT_STR, NULL, 0, 0, 1, P(vs_endpoint),
	  "Vector Search endpoint" },
	{ "image_index", OPT_STR, NULL, 0, 0, 1, P(image_index),
	  "index for image search" },
	{ "text_index", OPT_STR, NULL, 0, 0, 1, P(text_index),
	  "index for text search" },
	{ "hybrid_index", OPT_STR, NULL, 0, 0, 1, P(hybrid_index),
	  "index for cross-modal search" },
	{ "image_path", OPT_STR, NULL, 0, 0, 1, P(image_path),
	  "image_path template, {id} = product id" },
	{ "image_url", OPT_STR, "/images/{id}.jpg", 0, 0, 1, P(image_url),
	  "image_url template returned by the API" },
	{ "has_brand", OPT_BOOL, "false", 0, 0, 1, P(has_brand),
	  "products table has a brand column" },
	{ "embedded", OPT_BOOL, "false", 0, 0, 1, P(embedded),
	  "embedding columns live in the products table" },
	{ NULL, 0, NULL, 0, 0, 0, 0, NULL }
};

static const char *profile_names[2] = { "fashion_demo", "fashion_sota" };

/* Identifiers: what Postgres accepts unquoted, lower case, bounded. */
static int
valid_ident(const char *s)
{
	size_t i;

	if (s[0] == '\0' || strlen(s) >= CFG_NAME_MAX)
		return 0;
	if (!(islower((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
		    s[i] == '_'))
			return 0;
	return 1;
}

static int
parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return CFG_ERROR;
	*out = v;
	return CFG_OK;
}

/*
 * Set one option in BASE from SETTING (may be NULL: use the default).
 * WHERE names the option for messages.
 */
static int
set_option(const struct option *o, const config_setting_t *setting,
    void *base, const char *where, char *err, size_t errlen)
{
	char **sp = (char **)((char *)base + o->off);
	int *ip = (int *)((char *)base + o->off);
	const char *sv = NULL;
	long lv = 0;
	int line = setting ? config_setting_source_line(setting) : 0;

	if (setting == NULL && o->def == NULL) {
		snprintf(err, errlen, "%s: required option missing", where);
		return CFG_ERROR;
	}
	switch (o->type) {
	case OPT_LIST:
		return CFG_OK;		/* parse_indexes() */
	case OPT_STR:
	case OPT_IDENT:
		if (setting == NULL)
			sv = o->def;
		else if ((sv = config_setting_get_string(setting)) == NULL) {
			snprintf(err, errlen, "line %d: %s: must be a string",
			    line, where);
			return CFG_ERROR;
		}
		/* Optional identifiers may be "", required ones may not. */
		if (o->type == OPT_IDENT && (sv[0] != '\0' || o->def == NULL) &&
		    !valid_ident(sv)) {
			snprintf(err, errlen, "line %d: %s: \"%s\" is not a valid "
			    "identifier (lower case letters, digits, _; < %d chars)",
			    line, where, sv, CFG_NAME_MAX);
			return CFG_ERROR;
		}
		if ((*sp = strdup(sv)) == NULL) {
			snprintf(err, errlen, "strdup: %s", strerror(errno));
			return CFG_ERROR;
		}
		return CFG_OK;
	case OPT_INT:		/* stored in an int */
	case OPT_LONG:		/* stored in a long */
		if (setting == NULL) {
			if (parse_long(o->def, o->min, o->max, &lv) != CFG_OK)
				abort();	/* bad table entry */
		} else if (config_setting_type(setting) == CONFIG_TYPE_INT ||
		    config_setting_type(setting) == CONFIG_TYPE_INT64) {
			lv = config_setting_get_int64(setting);
			if (lv < o->min || lv > o->max) {
				snprintf(err, errlen, "line %d: %s: %ld out of range "
				    "%ld..%ld", line, where, lv, o->min, o->max);
				return CFG_ERROR;
			}
		} else {
			snprintf(err, errlen, "line %d: %s: must be an integer",
			    line, where);
			return CFG_ERROR;
		}
		if (o->type == OPT_LONG)
			*(long *)((char *)base + o->off) = lv;
		else
			*ip = (int)lv;
		return CFG_OK;
	case OPT_BOOL:
		if (setting == NULL)
			*ip = strcmp(o->def, "true") == 0;
		else if (config_setting_type(setting) == CONFIG_TYPE_BOOL)
			*ip = config_setting_get_bool(setting);
		else {
			snprintf(err, errlen, "line %d: %s: must be true or false",
			    line, where);
			return CFG_ERROR;
		}
		return CFG_OK;
	}
	return CFG_ERROR;
}

/* Reject keys in GROUP that no option in OPTS names (typos fail loudly). */
static int
check_unknown(const config_setting_t *group, const struct option *opts,
    const char *prefix, char *err, size_t errlen)
{
	int i, n = config_setting_length(group);
	size_t plen = strlen(prefix);

	for (i = 0; i < n; i++) {
		const config_setting_t *c = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(c);
		const struct option *o;
		int found = 0;

		for (o = opts; o->name != NULL; o++) {
			const char *on = o->name;
			if (plen > 0) {
				if (strncmp(on, prefix, plen) != 0 || on[plen] != '.')
					continue;
				on += plen + 1;
			}
			if (strcmp(on, name) == 0)
				found = 1;
		}
		if (!found) {
			snprintf(err, errlen, "line %d: unknown option %s%s%s",
			    config_setting_source_line(c), prefix,
			    plen ? "." : "", name);
			return CFG_ERROR;
		}
	}
	return CFG_OK;
}

/* "schema.table", both parts identifiers. */
static int
valid_qualified(const char *s)
{
	const char *dot = strchr(s, '.');
	char a[CFG_NAME_MAX + 1];
	size_t n;

	if (dot == NULL || (n = (size_t)(dot - s)) > CFG_NAME_MAX)
		return 0;
	memcpy(a, s, n);
	a[n] = '\0';
	return valid_ident(a) && valid_ident(dot + 1);
}

/* Index names: 1..255 of [A-Za-z0-9_.-], not starting with '.'. */
static int
valid_index_name(const char *s)
{
	size_t i;

	if (s[0] == '\0' || s[0] == '.' || strlen(s) > 255)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("_.-", s[i]) == NULL)
			return 0;
	return 1;
}

static void
index_free(struct vs_index_decl *x)
{
	int i;

	free(x->name);
	free(x->source);
	free(x->join);
	free(x->primary_key);
	free(x->embedding_column);
	for (i = 0; i < x->ncolumns; i++)
		free(x->columns[i]);
	free(x->columns);
}

/* Member NAME of G as a string checked by OK, or "" when absent and !REQ. */
static int
index_string(const config_setting_t *g, const char *name, int req,
    int (*ok)(const char *), char **out, const char *where, char *err,
    size_t errlen)
{
	const config_setting_t *m = config_setting_get_member(g, name);
	const char *v = "";

	if (m == NULL && req) {
		snprintf(err, errlen, "%s.%s: required option missing", where, name);
		return CFG_ERROR;
	}
	if (m != NULL && ((v = config_setting_get_string(m)) == NULL ||
	    (v[0] != '\0' && !ok(v)) || (req && v[0] == '\0'))) {
		snprintf(err, errlen, "line %d: %s.%s: invalid value",
		    config_setting_source_line(m), where, name);
		return CFG_ERROR;
	}
	if ((*out = strdup(v)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return CFG_ERROR;
	}
	return CFG_OK;
}

/* vs.indexes: a list of groups, one per index fashion-vsd serves. */
static int
parse_indexes(const config_setting_t *list, struct settings *s, char *err,
    size_t errlen)
{
	static const char *keys[] = { "name", "source", "join", "primary_key",
	    "embedding_column", "columns", NULL };
	int i, j, k, n;

	if (list == NULL)
		return CFG_OK;
	if (!config_setting_is_list(list) ||
	    (n = config_setting_length(list)) > CFG_MAX_INDEXES) {
		snprintf(err, errlen, "line %d: vs.indexes: a list ( {...}, ... ) "
		    "of at most %d indexes", config_setting_source_line(list),
		    CFG_MAX_INDEXES);
		return CFG_ERROR;
	}
	if (n == 0)
		return CFG_OK;
	if ((s->vs_indexes = calloc((size_t)n, sizeof(*s->vs_indexes))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return CFG_ERROR;
	}
	for (i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list,
		    (unsigned)i), *cols;
		struct vs_index_decl *x = &s->vs_indexes[i];
		char where[48];

		s->vs_nindexes = i + 1;
		snprintf(where, sizeof(where), "vs.indexes[%d]", i);
		if (!config_setting_is_group(g)) {
			snprintf(err, errlen, "line %d: %s: must be a group { }",
			    config_setting_source_line(g), where);
			return CFG_ERROR;
		}
		for (j = 0; j < config_setting_length(g); j++) {
			const char *kn = config_setting_name(
			    config_setting_get_elem(g, (unsigned)j));
			for (k = 0; keys[k] != NULL && strcmp(keys[k], kn); k++)
				;
			if (keys[k] == NULL) {
				snprintf(err, errlen, "line %d: unknown option "
				    "%s.%s", config_setting_source_line(g),
				    where, kn);
				return CFG_ERROR;
			}
		}
		if (index_string(g, "name", 1, valid_index_name, &x->name,
		    where, err, errlen) != CFG_OK ||
		    index_string(g, "source", 1, valid_qualified, &x->source,
		    where, err, errlen) != CFG_OK ||
		    index_string(g, "join", 0, valid_qualified, &x->join,
		    where, err, errlen) != CFG_OK ||
		    index_string(g, "primary_key", 1, valid_ident,
		    &x->primary_key, where, err, errlen) != CFG_OK ||
		    index_string(g, "embedding_column", 1, valid_ident,
		    &x->embedding_column, where, err, errlen) != CFG_OK)
			return CFG_ERROR;
		for (j = 0; j < i; j++)
			if (strcmp(s->vs_indexes[j].name, x->name) == 0) {
				snprintf(err, errlen, "%s: index %s declared "
				    "twice", where, x->name);
				return CFG_ERROR;
			}
		cols = config_setting_get_member(g, "columns");
		k = cols != NULL ? config_setting_length(cols) : 0;
		if (cols != NULL && (!config_setting_is_array(cols) ||
		    k > CFG_MAX_COLUMNS)) {
			snprintf(err, errlen, "line %d: %s.columns: an array "
			    "[\"col\", ...] of at most %d names",
			    config_setting_source_line(cols), where,
			    CFG_MAX_COLUMNS);
			return CFG_ERROR;
		}
		if (k > 0 && (x->columns = calloc((size_t)k,
		    sizeof(char *))) == NULL) {
			snprintf(err, errlen, "out of memory");
			return CFG_ERROR;
		}
		for (j = 0; j < k; j++) {
			const char *c = config_setting_get_string_elem(cols,
			    (unsigned)j);
			int d;

			if (c == NULL || !valid_ident(c) ||
			    strcmp(c, x->primary_key) == 0 ||
			    strcmp(c, x->embedding_column) == 0) {
				snprintf(err, errlen, "line %d: %s.columns[%d]: "
				    "not a column name, or the key or vector",
				    config_setting_source_line(cols), where, j);
				return CFG_ERROR;
			}
			for (d = 0; d < j; d++)
				if (strcmp(x->columns[d], c) == 0) {
					snprintf(err, errlen, "%s.columns: %s "
					    "twice", where, c);
					return CFG_ERROR;
				}
			if ((x->columns[j] = strdup(c)) == NULL) {
				snprintf(err, errlen, "out of memory");
				return CFG_ERROR;
			}
			x->ncolumns = j + 1;
		}
	}
	return CFG_OK;
}

/* Relative paths in the file are relative to the file's directory. */
static int
resolve_path(const char *file, char **pathp)
{
	const char *slash = strrchr(file, '/');
	char *n;
	int len;

	if ((*pathp)[0] == '\0' || (*pathp)[0] == '/' || slash == NULL)
		return CFG_OK;
	len = snprintf(NULL, 0, "%.*s/%s", (int)(slash - file), file, *pathp);
	if (len < 0 || (n = malloc((size_t)len + 1)) == NULL)
		return CFG_ERROR;
	snprintf(n, (size_t)len + 1, "%.*s/%s", (int)(slash - file), file, *pathp);
	free(*pathp);
	*pathp = n;
	return CFG_OK;
}

struct settings *
config_load(const char *file, char *err, size_t errlen)
{
	config_t cf;
	struct settings *s = NULL;
	const config_setting_t *root, *grp, *profs;
	const struct option *o;
	const char *pname = NULL;
	char where[160];
	int i;

	config_init(&cf);
	if (config_read_file(&cf, file) != CONFIG_TRUE) {
		if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read: %s", file,
			    strerror(errno));
		else
			snprintf(err, errlen, "%s:%d: %s", file,
			    config_error_line(&cf), config_error_text(&cf));
		goto fail;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = strdup(file)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	root = config_root_setting(&cf);

	/* top level: profile, server, database, profiles */
	for (i = 0; i < config_setting_length(root); i++) {
		const char *n = config_setting_name(
		    config_setting_get_elem(root, (unsigned)i));
		if (strcmp(n, "profile") && strcmp(n, "server") &&
		    strcmp(n, "database") && strcmp(n, "clip") &&
		    strcmp(n, "vs") && strcmp(n, "search") &&
		    strcmp(n, "profiles")) {
			snprintf(err, errlen, "%s:%d: unknown option %s", file,
			    config_setting_source_line(
			    config_setting_get_elem(root, (unsigned)i)), n);
			goto fail;
		}
	}
	if (config_lookup_string(&cf, "profile", &pname) != CONFIG_TRUE) {
		snprintf(err, errlen, "%s: \"profile\" must be set to "
		    "\"fashion_demo\" or \"fashion_sota\"", file);
		goto fail;
	}
	if ((s->profile_name = strdup(pname)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}

	for (o = server_opts; o->name != NULL; o++) {
		char e[256];
		if (set_option(o, config_lookup(&cf, o->name), s, o->name, e,
		    sizeof(e)) != CFG_OK) {
			snprintf(err, errlen, "%s: %s", file, e);
			goto fail;
		}
	}
	for (i = 0; i < 5; i++) {
		static const char *groups[] = { "server", "database", "clip",
		    "vs", "search" };

		if ((grp = config_lookup(&cf, groups[i])) != NULL &&
		    check_unknown(grp, server_opts, groups[i], where,
		    sizeof(where)) != CFG_OK) {
			snprintf(err, errlen, "%s: %s", file, where);
			goto fail;
		}
	}

	if (parse_indexes(config_lookup(&cf, "vs.indexes"), s, where,
	    sizeof(where)) != CFG_OK) {
		snprintf(err, errlen, "%s: %s", file, where);
		goto fail;
	}

	if ((profs = config_lookup(&cf, "profiles")) == NULL ||
	    !config_setting_is_group(profs)) {
		snprintf(err, errlen, "%s: \"profiles\" group missing", file);
		goto fail;
	}
	for (i = 0; i < config_setting_length(profs); i++) {
		const char *n = config_setting_name(
		    config_setting_get_elem(profs, (unsigned)i));
		if (strcmp(n, profile_names[0]) && strcmp(n, profile_names[1])) {
			snprintf(err, errlen, "%s: unknown profile %s (known: "
			    "fashion_demo, fashion_sota)", file, n);
			goto fail;
		}
	}
	for (i = 0; i < 2; i++) {
		struct profile *p = &s->profiles[i];
		const config_setting_t *pg = config_setting_get_member(profs,
		    profile_names[i]);
		char e[256];

		if ((p->name = strdup(profile_names[i])) == NULL) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		if (pg == NULL) {
			snprintf(err, errlen, "%s: profiles.%s missing", file,
			    profile_names[i]);
			goto fail;
		}
		if (check_unknown(pg, profile_opts, "", e, sizeof(e)) != CFG_OK) {
			snprintf(err, errlen, "%s: profiles.%s: %s", file,
			    profile_names[i], e);
			goto fail;
		}
		for (o = profile_opts; o->name != NULL; o++) {
			snprintf(where, sizeof(where), "profiles.%s.%s",
			    profile_names[i], o->name);
			if (set_option(o, config_setting_get_member(pg, o->name),
			    p, where, e, sizeof(e)) != CFG_OK) {
				snprintf(err, errlen, "%s: %s", file, e);
				goto fail;
			}
		}
		if (strstr(p->image_url, "{id}") == NULL ||
		    strstr(p->image_path, "{id}") == NULL) {
			snprintf(err, errlen, "%s: profiles.%s: image_url and "
			    "image_path must contain {id}", file, profile_names[i]);
			goto fail;
		}
	}
	if (resolve_path(file, &s->pidfile) != CFG_OK ||
	    resolve_path(file, &s->db_password_file) != CFG_OK ||
	    resolve_path(file, &s->clip_pidfile) != CFG_OK ||
	    resolve_path(file, &s->clip_model) != CFG_OK ||
	    resolve_path(file, &s->vs_pidfile) != CFG_OK ||
	    resolve_path(file, &s->vs_data_dir) != CFG_OK) {
		snprintf(err, errlen, "%s: path too long", file);
		goto fail;
	}
	if ((s->active = config_profile(s, s->profile_name)) == NULL) {
		snprintf(err, errlen, "%s: profile \"%s\" is not one of "
		    "fashion_demo, fashion_sota", file, s->profile_name);
		goto fail;
	}
	if (strncmp(s->listen, "unix:", 5) != 0 && strrchr(s->listen, ':') == NULL) {
		snprintf(err, errlen, "%s: server.listen \"%s\": expected "
		    "host:port or unix:/path", file, s->listen);
		goto fail;
	}
	if (strstr(s->db_conninfo, "password") != NULL) {
		snprintf(err, errlen, "%s: database.conninfo must not hold a "
		    "password: use PGPASSWORD or database.password_file", file);
		goto fail;
	}
	config_destroy(&cf);
	return s;
fail:
	config_destroy(&cf);
	config_free(s);
	return NULL;
}

static void
free_strings(void *base, const struct option *opts)
{
	const struct option *o;

	for (o = opts; o->name != NULL; o++)
		if (o->type == OPT_STR || o->type == OPT_IDENT)
			free(*(char **)((char *)base + o->off));
}

void
config_free(struct settings *s)
{
	int i;

	if (s == NULL)
		return;
	free_strings(s, server_opts);
	for (i = 0; i < s->vs_nindexes; i++)
		index_free(&s->vs_indexes[i]);
	free(s->vs_indexes);
	for (i = 0; i < 2; i++) {
		free_strings(&s->profiles[i], profile_opts);
		free(s->profiles[i].name);
	}
	free(s->profile_name);
	free(s->path);
	free(s);
}

const struct vs_index_decl *
config_vs_index(const struct settings *s, const char *name)
{
	int i;

	for (i = 0; i < s->vs_nindexes; i++)
		if (strcmp(s->vs_indexes[i].name, name) == 0)
			return &s->vs_indexes[i];
	return NULL;
}

const struct profile *
config_profile(const struct settings *s, const char *name)
{
	int i;

	for (i = 0; i < 2; i++)
		if (s->profiles[i].name != NULL &&
		    strcmp(s->profiles[i].name, name) == 0)
			return &s->profiles[i];
	return NULL;
}

int
config_expand_id(const char *tmpl, long id, char *buf, size_t len)
{
	const char *p = strstr(tmpl, "{id}");
	int n;

	if (p == NULL)
		return CFG_ERROR;
	n = snprintf(buf, len, "%.*s%ld%s", (int)(p - tmpl), tmpl, id, p + 4);
	if (n < 0 || (size_t)n >= len)
		return CFG_ERROR;
	return CFG_OK;
}

char *
config_db_password(const struct settings *s)
{
	FILE *f;
	char line[512];
	size_t n;

	if (s->db_password_file[0] == '\0')
		return NULL;
	if ((f = fopen(s->db_password_file, "r")) == NULL)
		return NULL;
	if (fgets(line, sizeof(line), f) == NULL) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	return strdup(line);
}

void
config_dump_options(void)
{
	const struct option *o;

	printf("profile\t(required)\treload\tactive layout: fashion_demo or "
	    "fashion_sota\n");
	for (o = server_opts; o->name != NULL; o++)
		printf("%s\t%s\t%s\t%s\n", o->name, o->def ? o->def : "(required)",
		    o->reload ? "reload" : "restart", o->doc);
	for (o = profile_opts; o->name != NULL; o++)
		printf("profiles.*.%s\t%s\t%s\t%s\n", o->name,
		    o->def ? o->def : "(required)",
		    o->reload ? "reload" : "restart", o->doc);
}
