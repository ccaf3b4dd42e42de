/* fcgi_worker.c - see fcgi_worker.h */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "fcgi_worker.h"
#include "log.h"
#include "pool.h"

#define DRAIN_QUIET_MS	20	/* idle time that ends a drain */

/* Accept every waiting connection into a free slot. */
static void
accept_into(FCGX_Request *conns, int listen_fd)
{
	int i, fd, one = 1;

	for (i = 0; i < WORKER_CONNS; i++) {
		if (conns[i].ipcFd >= 0)
			continue;
		if ((fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("accept: %m");
			return;
		}
		/*
		 * libfcgi writes the STDOUT and END_REQUEST records
		 * separately: without TCP_NODELAY, Nagle holds the last
		 * one for the peer's delayed ACK (~40 ms a request).
		 */
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));	/* fails harmlessly on unix sockets */
		conns[i].ipcFd = fd;
	}
}

/*
 * Leaving (reload or stop): serve what nginx already sent on our
 * connections, closing each after its response, until all have been quiet
 * for DRAIN_QUIET_MS; then close the idle rest.  nginx retries a request
 * that meets a closed cached connection.
 */
static void
drain(FCGX_Request *conns, fcgi_serve_fn serve, void *ctx)
{
	struct pollfd pfd[WORKER_CONNS];
	int slot_of[WORKER_CONNS];
	int i, n;

	for (;;) {
		for (i = n = 0; i < WORKER_CONNS; i++)
			if (conns[i].ipcFd >= 0) {
				pfd[n].fd = conns[i].ipcFd;
				pfd[n].events = POLLIN;
				slot_of[n++] = i;
			}
		if (n == 0 || poll(pfd, (nfds_t)n, DRAIN_QUIET_MS) <= 0)
			break;
		for (i = 0; i < n; i++) {
			FCGX_Request *req = &conns[slot_of[i]];

			if (pfd[i].revents == 0)
				continue;
			req->keepConnection = 1;
			if (FCGX_Accept_r(req) < 0)
				continue;
			serve(ctx, req);
			req->keepConnection = 0;	/* Finish closes it */
			FCGX_Finish_r(req);
		}
	}
	for (i = 0; i < WORKER_CONNS; i++) {
		if (conns[i].ipcFd >= 0)
			close(conns[i].ipcFd);
		conns[i].ipcFd = -1;
		FCGX_Free(&conns[i], 0);
	}
}

/*
 * Worker loop.  A worker holds up to WORKER_CONNS kept-alive FastCGI
 * connections from nginx, each with its own FCGX_Request, and serves
 * whichever has a request ready; libfcgi only parses the protocol.  This
 * way no connection nginx opened waits in the backlog behind another
 * connection's idle keep-alive.  Accepting is ours (non-blocking listen
 * socket); the requests are initialised with no listen socket so libfcgi
 * never accepts by itself.
 */
int
fcgi_worker_loop(int listen_fd, fcgi_serve_fn serve, void *ctx)
{
	static FCGX_Request conns[WORKER_CONNS];
	struct pollfd pfd[WORKER_CONNS + 1];
	int slot_of[WORKER_CONNS + 1];
	int i, n, nused;

	if (FCGX_Init() != 0) {
		log_crit("FCGX_Init failed");
		return 1;
	}
	for (i = 0; i < WORKER_CONNS; i++)
		FCGX_InitRequest(&conns[i], -1, 0);

	while (!pool_worker_quit) {
		n = nused = 0;
		for (i = 0; i < WORKER_CONNS; i++)
			if (conns[i].ipcFd >= 0) {
				pfd[n].fd = conns[i].ipcFd;
				pfd[n].events = POLLIN;
				slot_of[n++] = i;
				nused++;
			}
		if (nused < WORKER_CONNS) {
			pfd[n].fd = listen_fd;
			pfd[n].events = POLLIN;
			slot_of[n++] = -1;
		}
		if (poll(pfd, (nfds_t)n, -1) == -1) {
			if (errno != EINTR)
				log_warn("poll: %m");
			continue;
		}
		for (i = 0; i < n && !pool_worker_quit; i++) {
			FCGX_Request *req;

			if (pfd[i].revents == 0)
				continue;
			if (slot_of[i] == -1) {
				accept_into(conns, listen_fd);
				continue;
			}
			req = &conns[slot_of[i]];
			/*
			 * FCGX_Accept_r first "finishes" the previous request
			 * and would close the connection unless marked kept;
			 * the BEGIN_REQUEST record then sets the real flag.
			 * On EOF or a protocol error it closes the connection
			 * and, having no listen socket, returns < 0.
			 */
			req->keepConnection = 1;
			if (FCGX_Accept_r(req) < 0)
				continue;
			serve(ctx, req);
			FCGX_Finish_r(req);
		}
	}
	drain(conns, serve, ctx);
	return 0;
}

