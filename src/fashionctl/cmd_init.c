/*
 * cmd_init.c - "fashionctl init": run sql/<profile>.sql for both profiles,
 * with the names from the config, in one transaction.  Idempotent.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fashionctl.h"
#include "sqltmpl.h"

#define SQL_MAXBYTES	(1L << 20)	/* a schema file is far smaller */

/* The directory holding the schema files (see doc/DATA.md). */
static const char *
sql_dir(void)
{
	const char *e;
	char probe[4096];
	int n;

	if ((e = getenv("FASHION_SQLDIR")) != NULL && e[0] != '\0')
		return e;
#ifdef FASHION_SQLDIR
	n = snprintf(probe, sizeof(probe), "%s/fashion_demo.sql", FASHION_SQLDIR);
	if (n >= 0 && (size_t)n < sizeof(probe) && access(probe, R_OK) == 0)
		return FASHION_SQLDIR;
#else
	(void)probe;
	(void)n;
#endif
	return "sql";
}

static int
quote_cb(void *arg, const char *ident, struct buf *out)
{
	return ctl_ident(arg, ident, out) == CTL_OK ? TMPL_OK : TMPL_ERROR;
}

/* Expand and run DIR/FILE.sql for profile P (inside the transaction). */
static int
run_file(struct ctl *c, const char *dir, const char *file,
    const struct profile *p)
{
	struct tmpl_var vars[] = {
		{ "schema", p->schema },
		{ "products", p->products },
		{ "embeddings", p->embeddings },
		{ "users", p->users },
		{ "user_features", p->user_features },
		{ "sessions", p->sessions },
		{ "likes", p->likes },
	};
	struct buf text, sql;
	char path[4096], err[512];
	PGresult *r = NULL;
	int n, rc = CTL_ERROR;

	buf_init(&text);
	buf_init(&sql);
	n = snprintf(path, sizeof(path), "%s/%s.sql", dir, file);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		ctl_warnx("%s: path too long", dir);
		goto fail;
	}
	if (ctl_read_file(path, SQL_MAXBYTES, &text, NULL) != CTL_OK)
		goto fail;
	if (sqltmpl_expand(text.data, vars, sizeof(vars) / sizeof(vars[0]),
	    quote_cb, c, &sql, err, sizeof(err)) != TMPL_OK) {
		ctl_warnx("%s: %s", path, err);
		goto fail;
	}
	if (sql.len == 0) {
		ctl_warnx("%s: empty", path);
		goto fail;
	}
	/* Several statements: the simple query protocol. */
	r = PQexec(c->conn, sql.data);
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		char *m = PQresultErrorMessage(r);
		ctl_warnx("%s: %.*s", path, (int)strcspn(m, "\n"), m);
		goto fail;
	}
	rc = CTL_OK;
fail:
	PQclear(r);
	buf_free(&text);
	buf_free(&sql);
	return rc;
}

int
cmd_init(struct ctl *c, int argc, char **argv)
{
	const char *dir = sql_dir();
	int i;

	if (argc != 1) {
		fprintf(stderr, "usage: fashionctl init\n");
		return EXIT_USAGE;
	}
	(void)argv;
	if (ctl_connect(c) != CTL_OK || ctl_begin(c) != CTL_OK)
		return EXIT_FAIL;
	if (ctl_cmd(c, "init", "SET LOCAL client_min_messages = warning") !=
	    CTL_OK)
		goto fail;
	/* Each layout's catalog tables, then the same shopper tables. */
	for (i = 0; i < 2; i++)
		if (run_file(c, dir, c->cfg->profiles[i].name,
		    &c->cfg->profiles[i]) != CTL_OK ||
		    run_file(c, dir, "users", &c->cfg->profiles[i]) != CTL_OK)
			goto fail;
	if (ctl_cmd(c, "commit", "COMMIT") != CTL_OK)
		goto fail;
	for (i = 0; i < 2; i++) {
		const struct profile *p = &c->cfg->profiles[i];
		int sep = p->embeddings[0] != '\0' && !p->embedded;

		printf("init: %s: schema %s, products table %s%s%s ready\n",
		    p->name, p->schema, p->products,
		    sep ? ", embeddings table " : "", sep ? p->embeddings : "");
	}
	return EXIT_OK;
fail:
	ctl_rollback(c);
	ctl_warnx("init failed; nothing was changed");
	return EXIT_FAIL;
}
