/*
 * cmd_status.c - "fashionctl status": the active profile, row counts per
 * layout, and whether the master named by the pid file runs.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "fashionctl.h"

/* One layout's line. */
static int
status_profile(struct ctl *c, const struct profile *p)
{
	struct buf tbl, sql;
	long long rows = 0, emb = 0;
	int e, rc = CTL_ERROR;

	buf_init(&tbl);
	buf_init(&sql);
	if ((e = ctl_table_exists(c, p->schema, p->products)) < 0)
		goto fail;
	if (!e) {
		printf("%-13s %s.%s: missing (run fashionctl init)%s\n", p->name,
		    p->schema, p->products, p == c->cfg->active ? "  <- active" :
		    "");
		rc = CTL_OK;
		goto fail;
	}
	if (ctl_qname(c, p->schema, p->products, &tbl) != CTL_OK)
		goto fail;
	buf_printf(&sql, "SELECT count(*) FROM %s", tbl.data);
	if (buf_failed(&sql) || ctl_count(c, "status", sql.data, 0, NULL,
	    &rows) != CTL_OK)
		goto fail;
	buf_reset(&sql);
	if (p->embedded) {
		buf_printf(&sql, "SELECT count(*) FROM %s WHERE embedding IS NOT "
		    "NULL", tbl.data);
	} else if (p->embeddings[0] != '\0') {
		if ((e = ctl_table_exists(c, p->schema, p->embeddings)) < 0)
			goto fail;
		if (e) {
			buf_printf(&sql, "SELECT count(*) FROM %s p JOIN ",
			    tbl.data);
			if (ctl_qname(c, p->schema, p->embeddings, &sql) != CTL_OK)
				goto fail;
			buf_puts(&sql, " e USING (product_id) WHERE e.embedding "
			    "IS NOT NULL");
		}
	}
	if (sql.len > 0 && (buf_failed(&sql) || ctl_count(c, "status",
	    sql.data, 0, NULL, &emb) != CTL_OK))
		goto fail;
	printf("%-13s %s.%s: %lld products, %lld with embeddings%s\n", p->name,
	    p->schema, p->products, rows, emb, p == c->cfg->active ?
	    "  <- active" : "");
	rc = CTL_OK;
fail:
	buf_free(&tbl);
	buf_free(&sql);
	return rc;
}

int
cmd_status(struct ctl *c, int argc, char **argv)
{
	char pidpath[PATH_MAX], why[512];
	long pid;
	int i, r, rc = EXIT_OK;

	if (argc != 1) {
		fprintf(stderr, "usage: fashionctl status\n");
		return strcmp(argv[1], "-h") == 0 ? EXIT_OK : EXIT_USAGE;
	}
	printf("config:       %s\n", c->cfgpath);
	printf("profile:      %s\n", c->cfg->profile_name);

	if ((r = ctl_pidfile(c, c->cfg, pidpath, sizeof(pidpath))) < 0)
		rc = EXIT_FAIL;
	else if (r == 0)
		printf("master:       no server.pidfile configured\n");
	else if ((pid = ctl_read_pid(pidpath, why, sizeof(why))) < 0) {
		printf("master:       %s\n", why);
		rc = EXIT_FAIL;
	} else if (pid == 0)
		printf("master:       not running (no %s)\n", pidpath);
	else if (kill((pid_t)pid, 0) == 0 || errno == EPERM)
		printf("master:       running, pid %ld (%s)\n", pid, pidpath);
	else
		printf("master:       not running (stale %s: pid %ld)\n", pidpath,
		    pid);

	if (ctl_connect(c) != CTL_OK)
		return EXIT_FAIL;
	for (i = 0; i < 2; i++)
		if (status_profile(c, &c->cfg->profiles[i]) != CTL_OK)
			rc = EXIT_FAIL;
	return rc;
}
