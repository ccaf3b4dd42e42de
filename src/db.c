/* db.c - see db.h */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "log.h"

static unsigned
hash_str(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void
forget_stmts(struct db *db)
{
	int i;

	for (i = 0; i < db->nstmts; i++)
		free(db->stmts[i].sql);
	db->nstmts = 0;
}

int
db_init(struct db *db, const struct settings *s, int listen)
{
	memset(db, 0, sizeof(*db));
	db->conninfo = strdup(s->db_conninfo);
	db->password = config_db_password(s);
	db->connect_timeout = s->db_connect_timeout;
	db->statement_timeout = s->db_statement_timeout;
	db->backoff_max = s->db_backoff_max;
	db->listen = listen;
	return db->conninfo ? DB_OK : DB_FAILED;
}

void
db_close(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	forget_stmts(db);
	free(db->conninfo);
	if (db->password != NULL) {
		explicit_bzero(db->password, strlen(db->password));
		free(db->password);
	}
	db->conninfo = db->password = NULL;
}

static PGconn *
connect_now(const char *conninfo, const char *password, int timeout)
{
	const char *keys[5], *vals[5];
	char tmo[16];
	int n = 0;

	snprintf(tmo, sizeof(tmo), "%d", timeout);
	keys[n] = "dbname"; vals[n++] = conninfo;	/* expanded as conninfo */
	keys[n] = "connect_timeout"; vals[n++] = tmo;
	keys[n] = "application_name"; vals[n++] = "fashion";
	if (password != NULL) {
		keys[n] = "password"; vals[n++] = password;
	}
	keys[n] = NULL; vals[n] = NULL;
	return PQconnectdbParams(keys, vals, 1);
}

static void
mark_down(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	forget_stmts(db);
	db->backoff = db->backoff ? db->backoff * 2 : 100;
	if (db->backoff > db->backoff_max)
		db->backoff = db->backoff_max;
	db->next_try = now_ms() + db->backoff;
}

int
db_ensure(struct db *db)
{
	PGresult *r;
	char sql[96];

	if (db->conn != NULL) {
		if (PQstatus(db->conn) == CONNECTION_OK)
			return DB_OK;
		log_warn("database connection lost: %s",
		    PQerrorMessage(db->conn));
		mark_down(db);
	}
	if (now_ms() < db->next_try)
		return DB_DOWN;
	db->conn = connect_now(db->conninfo, db->password, db->connect_timeout);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		char *m = PQerrorMessage(db->conn);
		m[strcspn(m, "\n")] = '\0';
		log_warn("database connect failed (retry in %d ms): %s",
		    db->backoff ? db->backoff * 2 > db->backoff_max ?
		    db->backoff_max : db->backoff * 2 : 100, m);
		mark_down(db);
		return DB_DOWN;
	}
	snprintf(sql, sizeof(sql), "SET statement_timeout = %d",
	    db->statement_timeout);
	r = PQexec(db->conn, sql);
	PQclear(r);
	if (db->listen) {
		r = PQexec(db->conn, "LISTEN " DB_CHANNEL);
		PQclear(r);
	}
	if (db->backoff)
		log_info("database connection restored");
	db->backoff = 0;
	db->generation++;
	return DB_OK;
}

/* Name of the prepared statement for SQL, preparing it when new. */
static int
prepare(struct db *db, const char *sql, int nparams, char *name, size_t len)
{
	unsigned h = hash_str(sql);
	PGresult *r;
	int i;

	for (i = 0; i < db->nstmts; i++)
		if (db->stmts[i].hash == h && strcmp(db->stmts[i].sql, sql) == 0) {
			snprintf(name, len, "s%d", i);
			return DB_OK;
		}
	if (db->nstmts == DB_STMT_MAX) {
		/* Cache full: run unnamed (still parameterised). */
		name[0] = '\0';
		return DB_OK;
	}
	snprintf(name, len, "s%d", db->nstmts);
	r = PQprepare(db->conn, name, sql, nparams, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		int down = PQstatus(db->conn) != CONNECTION_OK;
		log_warn("prepare failed: %s", PQresultErrorMessage(r));
		PQclear(r);
		return down ? DB_DOWN : DB_FAILED;
	}
	PQclear(r);
	if ((db->stmts[db->nstmts].sql = strdup(sql)) == NULL)
		return DB_FAILED;
	db->stmts[db->nstmts].hash = h;
	db->nstmts++;
	return DB_OK;
}

PGresult *
db_query(struct db *db, const char *sql, int nparams,
    const char *const *values, int *rc)
{
	char name[16];
	PGresult *r;
	ExecStatusType st;

	if ((*rc = db_ensure(db)) != DB_OK)
		return NULL;
	if ((*rc = prepare(db, sql, nparams, name, sizeof(name))) != DB_OK) {
		if (*rc == DB_DOWN)
			mark_down(db);
		return NULL;
	}
	if (name[0] != '\0')
		r = PQexecPrepared(db->conn, name, nparams, values, NULL, NULL, 0);
	else
		r = PQexecParams(db->conn, sql, nparams, NULL, values, NULL,
		    NULL, 0);
	st = PQresultStatus(r);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return r;
	if (PQstatus(db->conn) != CONNECTION_OK) {
		log_warn("query failed, connection lost: %s",
		    PQerrorMessage(db->conn));
		PQclear(r);
		mark_down(db);
		*rc = DB_DOWN;
		return NULL;
	}
	log_warn("query failed: %s", PQresultErrorMessage(r));
	PQclear(r);
	*rc = DB_FAILED;
	return NULL;
}

void
db_poll_notify(struct db *db)
{
	PGnotify *n;
	int seen = 0;

	if (db->conn == NULL)
		return;
	if (PQconsumeInput(db->conn) == 0) {
		mark_down(db);
		return;
	}
	while ((n = PQnotifies(db->conn)) != NULL) {
		seen = 1;
		PQfreemem(n);
	}
	if (seen)
		db->generation++;
}

PGconn *
db_connect_simple(const struct settings *s, char *err, size_t errlen)
{
	char *pw = config_db_password(s);
	PGconn *c = connect_now(s->db_conninfo, pw, s->db_connect_timeout);

	if (pw != NULL) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	if (PQstatus(c) != CONNECTION_OK) {
		snprintf(err, errlen, "cannot connect to the database: %s",
		    PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}
