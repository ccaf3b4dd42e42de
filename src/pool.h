/*
 * pool.h - the master: bind, pre-fork, supervise, reload, drain.
 *
 * The master never parses a request.  It owns the listening socket (kept
 * open across reloads) and a table of workers, each tagged with the
 * configuration generation it was started with.
 *
 * Signals to the master:  HUP reload, TERM/QUIT graceful stop (a second one
 * forces), INT fast stop.  To a worker: QUIT finish in-flight work and exit,
 * TERM exit now.
 */
#ifndef FASHION_POOL_H
#define FASHION_POOL_H

#include <signal.h>

#include "config.h"

#define POOL_OK		 0
#define POOL_ERROR	-1

/* Set in a worker when it should finish its request and exit. */
extern volatile sig_atomic_t pool_worker_quit;

/*
 * Worker body: serve requests on LISTEN_FD (non-blocking) with settings S
 * until pool_worker_quit is set.  Returns the process exit status.
 */
typedef int (*pool_worker_fn)(const struct settings *s, int listen_fd);

/*
 * Called on every configuration the pool loads (reloads included) before
 * it is used: lets a service other than fashiond put its own socket,
 * worker count and pid file (e.g. clip.*) into the server.* fields the
 * master reads, and check what only it knows about (a model file).
 * Returns POOL_OK, or POOL_ERROR with the reason in ERR: the reload is
 * refused and the running configuration kept.
 */
typedef int (*pool_adapt_fn)(struct settings *s, char *err, size_t errlen);

/*
 * For an adapt function: make S's server.* fields those of another
 * service (its listen address, pid file, workers, largest body).
 * POOL_OK, or POOL_ERROR ("out of memory" in ERR) with S unchanged.
 */
int	pool_serve_as(struct settings *s, const char *listen,
	    const char *pidfile, int workers, long max_body, char *err,
	    size_t errlen);

/*
 * Run the master with the already-loaded (and adapted) settings S, owned
 * by the pool from now on; reloads re-read S->path and pass the result
 * through ADAPT when it is not NULL.  Returns the exit status.
 */
int	pool_run(struct settings *s, pool_worker_fn worker, pool_adapt_fn adapt);

/* Bind and listen on ADDR ("host:port", "[v6]:port", "unix:/path"). */
int	pool_listen(const char *addr, int backlog);

#endif
