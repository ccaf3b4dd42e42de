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
 * Run the master with the already-loaded settings S (owned by the pool
 * from now on; reloads re-read S->path).  Returns the exit status.
 */
int	pool_run(struct settings *s, pool_worker_fn worker);

/* Bind and listen on ADDR ("host:port", "[v6]:port", "unix:/path"). */
int	pool_listen(const char *addr, int backlog);

#endif
