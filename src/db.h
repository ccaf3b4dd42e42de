/*
 * db.h - one persistent libpq connection per process, prepared statements
 * cached by SQL text, reconnect with exponential backoff.
 */
#ifndef FASHION_DB_H
#define FASHION_DB_H

#include <libpq-fe.h>

#include "config.h"

#define DB_OK		 0
#define DB_DOWN		-1	/* not connected; retry later (HTTP 503) */
#define DB_FAILED	-2	/* the statement failed (HTTP 500) */

#define DB_STMT_MAX	256	/* prepared statements kept per connection */

/* Channel fashionctl NOTIFYs after changing catalog data. */
#define DB_CHANNEL	"fashion_catalog"

struct db_stmt {
	char		*sql;		/* statement text, the cache key */
	unsigned	 hash;
};

struct db {
	PGconn		*conn;		/* NULL while down */
	char		*conninfo;	/* from the settings */
	char		*password;	/* from password_file, may be NULL */
	int		 connect_timeout;
	int		 statement_timeout;
	int		 backoff_max;	/* ms */
	int		 backoff;	/* current backoff, ms; 0 = none */
	long long	 next_try;	/* monotonic ms of the next connect attempt */
	unsigned long	 generation;	/* bumped by every successful connect and
					   every catalog NOTIFY: caches key on it */
	struct db_stmt	 stmts[DB_STMT_MAX];
	int		 nstmts;
	int		 listen;	/* LISTEN on DB_CHANNEL after connect */
};

/* Copy settings into DB (does not connect). */
int	 db_init(struct db *, const struct settings *, int listen);
void	 db_close(struct db *);

/* Connected, or try now if the backoff allows.  DB_OK or DB_DOWN. */
int	 db_ensure(struct db *);

/*
 * Run SQL (prepared on first use) with text parameters.  Returns the result
 * (PGRES_TUPLES_OK or PGRES_COMMAND_OK) or NULL with *rc = DB_DOWN when the
 * connection is lost, DB_FAILED when the statement failed.
 */
PGresult *db_query(struct db *, const char *sql, int nparams,
	    const char *const *values, int *rc);

/* Consume pending NOTIFYs; bumps generation when the catalog changed. */
void	 db_poll_notify(struct db *);

/*
 * For fashionctl: a blocking connection from the settings, or NULL with a
 * message in err.
 */
PGconn	*db_connect_simple(const struct settings *, char *err, size_t errlen);

#endif
