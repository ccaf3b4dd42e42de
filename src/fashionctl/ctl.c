/* ctl.c - helpers shared by the fashionctl commands (see fashionctl.h). */
#include <sys/stat.h>

#include <ctype.h>
#include <fcntl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "fashionctl.h"
#include "progress.h"

#define COPY_CHUNK	(256 * 1024)

void
ctl_warnx(const char *fmt, ...)
{
	va_list ap;

	fputs("fashionctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The server's message without its trailing newline. */
static const char *
pq_msg(const PGconn *conn, const PGresult *r)
{
	static char msg[1024];
	const char *m = r ? PQresultErrorMessage(r) : "";

	if (m == NULL || m[0] == '\0')
		m = PQerrorMessage(conn);
	snprintf(msg, sizeof(msg), "%s", m);
	msg[strcspn(msg, "\n")] = '\0';
	return msg;
}

/* Notices (e.g. "relation already exists, skipping") are not news. */
static void
quiet_notices(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

int
ctl_connect(struct ctl *c)
{
	char err[512];

	if (c->conn != NULL)
		return CTL_OK;
	if ((c->conn = db_connect_simple(c->cfg, err, sizeof(err))) == NULL) {
		err[strcspn(err, "\n")] = '\0';
		ctl_warnx("%s", err);
		return CTL_ERROR;
	}
	PQsetNoticeProcessor(c->conn, quiet_notices, NULL);
	return CTL_OK;
}

PGresult *
ctl_exec(struct ctl *c, const char *what, const char *sql, int nparams,
    const char *const *values, ExecStatusType want)
{
	PGresult *r;

	r = PQexecParams(c->conn, sql, nparams, NULL, values, NULL, NULL, 0);
	if (PQresultStatus(r) != want) {
		ctl_warnx("%s: %s", what, pq_msg(c->conn, r));
		PQclear(r);
		return NULL;
	}
	return r;
}

int
ctl_cmd(struct ctl *c, const char *what, const char *sql)
{
	PGresult *r;

	if ((r = ctl_exec(c, what, sql, 0, NULL, PGRES_COMMAND_OK)) == NULL)
		return CTL_ERROR;
	PQclear(r);
	return CTL_OK;
}

int
ctl_ident(struct ctl *c, const char *ident, struct buf *out)
{
	char *q;

	if ((q = PQescapeIdentifier(c->conn, ident, strlen(ident))) == NULL) {
		ctl_warnx("cannot quote identifier \"%s\": %s", ident,
		    pq_msg(c->conn, NULL));
		return CTL_ERROR;
	}
	buf_puts(out, q);
	PQfreemem(q);
	return buf_failed(out) ? CTL_ERROR : CTL_OK;
}

int
ctl_qname(struct ctl *c, const char *schema, const char *table,
    struct buf *out)
{
	if (ctl_ident(c, schema, out) != CTL_OK)
		return CTL_ERROR;
	buf_add(out, ".", 1);
	return ctl_ident(c, table, out);
}

int
ctl_table_exists(struct ctl *c, const char *schema, const char *table)
{
	const char *v[2] = { schema, table };
	PGresult *r;
	int found;

	r = ctl_exec(c, "catalog lookup",
	    "SELECT 1 FROM pg_catalog.pg_class k "
	    "JOIN pg_catalog.pg_namespace n ON n.oid = k.relnamespace "
	    "WHERE n.nspname = $1 AND k.relname = $2 AND k.relkind IN ('r','p')",
	    2, v, PGRES_TUPLES_OK);
	if (r == NULL)
		return CTL_ERROR;
	found = PQntuples(r) > 0;
	PQclear(r);
	return found;
}

int
ctl_count(struct ctl *c, const char *what, const char *sql, int nparams,
    const char *const *values, long long *out)
{
	PGresult *r;
	char *end;
	const char *s;

	if ((r = ctl_exec(c, what, sql, nparams, values, PGRES_TUPLES_OK)) == NULL)
		return CTL_ERROR;
	if (PQntuples(r) != 1 || PQnfields(r) < 1) {
		ctl_warnx("%s: expected one row", what);
		PQclear(r);
		return CTL_ERROR;
	}
	if (PQgetisnull(r, 0, 0)) {
		*out = 0;
		PQclear(r);
		return CTL_OK;
	}
	s = PQgetvalue(r, 0, 0);
	errno = 0;
	*out = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0') {
		ctl_warnx("%s: not a number: \"%s\"", what, s);
		PQclear(r);
		return CTL_ERROR;
	}
	PQclear(r);
	return CTL_OK;
}

int
ctl_begin(struct ctl *c)
{
	const char *v[1] = { CTL_LOCK_KEY };
	PGresult *r;

	if (ctl_cmd(c, "BEGIN", "BEGIN") != CTL_OK)
		return CTL_ERROR;
	/* One writer at a time: a second fashionctl waits here. */
	r = ctl_exec(c, "lock", "SELECT pg_advisory_xact_lock($1::bigint)", 1,
	    v, PGRES_TUPLES_OK);
	if (r == NULL) {
		ctl_rollback(c);
		return CTL_ERROR;
	}
	PQclear(r);
	return CTL_OK;
}

void
ctl_rollback(struct ctl *c)
{
	PGresult *r;

	if (c->conn == NULL)
		return;
	r = PQexec(c->conn, "ROLLBACK");
	PQclear(r);
}

int
ctl_notify(struct ctl *c, const char *payload)
{
	const char *v[2] = { DB_CHANNEL, payload };
	PGresult *r;

	r = ctl_exec(c, "notify", "SELECT pg_notify($1, $2)", 2, v,
	    PGRES_TUPLES_OK);
	if (r == NULL)
		return CTL_ERROR;
	PQclear(r);
	return CTL_OK;
}

int
ctl_copy(struct ctl *c, const char *what, const char *sql,
    const struct buf *data, struct progress *prog)
{
	PGresult *r;
	size_t off = 0, n, i;
	unsigned long rows = 0;
	int rc = CTL_ERROR;

	if ((r = ctl_exec(c, what, sql, 0, NULL, PGRES_COPY_IN)) == NULL)
		return CTL_ERROR;
	PQclear(r);
	while (off < data->len) {
		n = data->len - off;
		if (n > COPY_CHUNK)
			n = COPY_CHUNK;
		if (PQputCopyData(c->conn, data->data + off, (int)n) != 1) {
			ctl_warnx("%s: %s", what, pq_msg(c->conn, NULL));
			PQputCopyEnd(c->conn, "client failed");
			goto drain;
		}
		if (prog != NULL) {
			for (i = off; i < off + n; i++)
				if (data->data[i] == '\n')
					rows++;
			progress_update(prog, rows);
		}
		off += n;
	}
	if (PQputCopyEnd(c->conn, NULL) != 1) {
		ctl_warnx("%s: %s", what, pq_msg(c->conn, NULL));
		goto drain;
	}
	rc = CTL_OK;
drain:
	while ((r = PQgetResult(c->conn)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == CTL_OK) {
			ctl_warnx("%s: %s", what, pq_msg(c->conn, r));
			rc = CTL_ERROR;
		}
		PQclear(r);
	}
	return rc;
}

void
ctl_copy_field(struct buf *out, const char *s, size_t len)
{
	size_t i, start = 0;

	if (s == NULL) {
		buf_add(out, "\\N", 2);
		return;
	}
	for (i = 0; i < len; i++) {
		const char *esc;

		switch (s[i]) {
		case '\\': esc = "\\\\"; break;
		case '\t': esc = "\\t"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		default: continue;
		}
		buf_add(out, s + start, i - start);
		buf_add(out, esc, 2);
		start = i + 1;
	}
	buf_add(out, s + start, len - start);
}

int
ctl_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s) || *s == '+')
		return CTL_ERROR;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return CTL_ERROR;
	*out = v;
	return CTL_OK;
}

const char *
ctl_images_dir(const char *arg)
{
	const char *e;

	if (arg != NULL && arg[0] != '\0')
		return arg;
	if ((e = getenv("FASHION_IMAGES")) != NULL && e[0] != '\0')
		return e;
	return NULL;
}

int
ctl_read_file(const char *path, long max, struct buf *out, struct stat *stp)
{
	struct stat st;
	char chunk[8192];
	ssize_t n;
	int fd, rc = CTL_ERROR;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		ctl_warnx("%s: %s", path, strerror(errno));
		return CTL_ERROR;
	}
	if (fstat(fd, &st) == -1) {
		ctl_warnx("fstat: %s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > max) {
		ctl_warnx("%s: not a regular file of at most %ld bytes", path, max);
		goto fail;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			ctl_warnx("read: %s: %s", path, strerror(errno));
			goto fail;
		}
		buf_add(out, chunk, (size_t)n);
		if (out->len > (size_t)max) {
			ctl_warnx("%s: larger than %ld bytes", path, max);
			goto fail;
		}
	}
	buf_add(out, "", 1);
	out->len--;		/* data is never NULL; the NUL is outside len */
	if (buf_failed(out)) {
		ctl_warnx("%s: out of memory", path);
		goto fail;
	}
	if (memchr(out->data, '\0', out->len) != NULL) {
		ctl_warnx("%s: contains a NUL byte", path);
		goto fail;
	}
	if (stp != NULL)
		*stp = st;
	rc = CTL_OK;
fail:
	close(fd);
	return rc;
}
