/*
 * fcgi_worker.h - the body of a pool worker: hold kept-alive FastCGI
 * connections, serve whichever has a request ready, drain on quit.
 * fashiond and fashion-clipd differ only in the serve function.
 */
#ifndef FASHION_FCGI_WORKER_H
#define FASHION_FCGI_WORKER_H

#include <fcgiapp.h>

#define WORKER_CONNS	64	/* FastCGI connections one worker holds */

/* Answer the request ready on FCGX (read it, write the response). */
typedef void (*fcgi_serve_fn)(void *ctx, FCGX_Request *fcgx);

/*
 * Serve on the non-blocking LISTEN_FD until pool_worker_quit is set, then
 * drain.  Returns the worker's exit status.
 */
int	fcgi_worker_loop(int listen_fd, fcgi_serve_fn serve, void *ctx);

#endif
