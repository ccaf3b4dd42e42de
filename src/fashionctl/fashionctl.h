/*
 * fashionctl.h - the operator CLI: shared context, helpers and commands.
 *
 * Every command is cmd_<name>(ctl, argc, argv) with argv[0] the command
 * name, and returns an exit status: EXIT_OK, EXIT_FAIL (failed check or
 * runtime failure) or EXIT_USAGE.
 */
#ifndef FASHIONCTL_H
#define FASHIONCTL_H

#include <stddef.h>

#include <libpq-fe.h>

#include "buf.h"
#include "config.h"

#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2

#define CTL_OK		 0
#define CTL_ERROR	-1

/* Default config path when neither -c nor $FASHION_CONFIG is given. */
#define CTL_DEFAULT_CONFIG	"etc/fashion.cfg"

/* pg_advisory_xact_lock key taken by every command that writes. */
#define CTL_LOCK_KEY	"4242707115"	/* bigint, decimal */

struct ctl {
	const char	*cfgpath;	/* -c, $FASHION_CONFIG or the default */
	struct settings	*cfg;		/* loaded config */
	PGconn		*conn;		/* NULL until ctl_connect() */
	int		 tty;		/* stderr is a terminal (progress) */
};

/* Messages: "fashionctl: ..." on stderr. */
void	ctl_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct stat;
/*
 * Read the regular file PATH (at most MAX bytes, no NUL bytes) into OUT,
 * NUL-terminated; its stat into *ST when not NULL.  CTL_OK or CTL_ERROR
 * (reported).
 */
int	ctl_read_file(const char *path, long max, struct buf *out, struct stat *st);

/* Connect (once).  CTL_OK or CTL_ERROR (reported). */
int	ctl_connect(struct ctl *);

/*
 * Run SQL with text parameters; the result when its status is WANT, else
 * NULL after reporting "WHAT: <server message>".
 */
PGresult *ctl_exec(struct ctl *, const char *what, const char *sql,
	    int nparams, const char *const *values, ExecStatusType want);

/* Run a statement without result rows; CTL_OK or CTL_ERROR (reported). */
int	ctl_cmd(struct ctl *, const char *what, const char *sql);

/* Append the quoted identifier / "schema"."table" to OUT. */
int	ctl_ident(struct ctl *, const char *ident, struct buf *out);
int	ctl_qname(struct ctl *, const char *schema, const char *table,
	    struct buf *out);

/* Does SCHEMA.TABLE exist?  1, 0, or CTL_ERROR (reported). */
int	ctl_table_exists(struct ctl *, const char *schema, const char *table);

/* One bigint from a single-row query; CTL_OK or CTL_ERROR (reported). */
int	ctl_count(struct ctl *, const char *what, const char *sql,
	    int nparams, const char *const *values, long long *out);

/* BEGIN plus the fashionctl write lock. */
int	ctl_begin(struct ctl *);
/* ROLLBACK, ignoring errors (the transaction may already be aborted). */
void	ctl_rollback(struct ctl *);
/* NOTIFY DB_CHANNEL with PAYLOAD (delivered on commit). */
int	ctl_notify(struct ctl *, const char *payload);

/*
 * Send DATA (COPY text format) for the COPY statement SQL, in chunks,
 * updating PROG (rows = newlines sent) when not NULL.  CTL_OK or CTL_ERROR.
 */
struct progress;
int	ctl_copy(struct ctl *, const char *what, const char *sql,
	    const struct buf *data, struct progress *prog);

/* Append S to OUT escaped for COPY text format; NULL -> \N. */
void	ctl_copy_field(struct buf *out, const char *s, size_t len);

/* Parse a decimal long in [MIN, MAX]; CTL_OK or CTL_ERROR. */
int	ctl_parse_long(const char *s, long min, long max, long *out);

/* Image directory: ARG, else $FASHION_IMAGES, else NULL. */
const char *ctl_images_dir(const char *arg);

/*
 * The master's pid file from the config, relative paths taken relative to
 * the config file's directory.  1 and the path in OUT, 0 when none is
 * configured, CTL_ERROR (reported).
 */
int	ctl_pidfile(const struct ctl *, const struct settings *, char *out,
	    size_t len);
/*
 * The pid in PATH: > 0, 0 when the file does not exist, CTL_ERROR
 * (reason in WHY).
 */
long	ctl_read_pid(const char *path, char *why, size_t whylen);

/* Commands. */
int	cmd_init(struct ctl *, int, char **);
int	cmd_load(struct ctl *, int, char **);
int	cmd_migrate(struct ctl *, int, char **);
int	cmd_embed(struct ctl *, int, char **);
int	cmd_verify(struct ctl *, int, char **);
int	cmd_switch(struct ctl *, int, char **);
int	cmd_status(struct ctl *, int, char **);
int	cmd_sync(struct ctl *, int, char **);
int	cmd_personas(struct ctl *, int, char **);

#endif
