/*
 * fashiond - the storefront API: a FastCGI worker pool.
 *
 *   fashiond -c FILE        run the master in the foreground
 *   fashiond -t -c FILE     check the configuration and exit
 *   fashiond -O             print every option: name, default, reload|restart
 *
 * Started by a CGI host (GATEWAY_INTERFACE set) it answers that one request
 * and exits; started with a listening socket on stdin (spawn-fcgi) it runs
 * one worker on it without a master.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "handlers.h"
#include "log.h"
#include "pool.h"

#define WORKER_CONNS	64	/* FastCGI connections one worker holds */
#define DRAIN_QUIET_MS	20	/* idle time that ends a drain */

const struct route fashiond_routes[] = {
	{ "GET", "/api/v1/products", h_products_list },
	{ "GET", "/api/v1/products/filters/options", h_filter_options },
	{ "GET", "/api/v1/products/{}", h_product_get },
	{ "GET", "/api/v1/health", h_health },
	{ NULL, NULL, NULL }
};

static void
usage(void)
{
	fprintf(stderr, "usage: fashiond [-tO] [-c config]\n");
	exit(2);
}

static void
serve_one(struct app *app, FCGX_Request *fcgx)
{
	struct request r;
	int close_conn = 0;

	if (request_begin(&r, fcgx) == REQ_OK &&
	    request_read_body(&r, app->cfg->max_body, &close_conn) == REQ_OK)
		router_dispatch(fashiond_routes, &r, app);
	if (close_conn && fcgx != NULL)
		fcgx->keepConnection = 0;	/* unread body: don't reuse */
	request_send(&r);
	request_end(&r);
}

static void
app_init(struct app *app, const struct settings *s)
{
	memset(app, 0, sizeof(*app));
	app->cfg = s;
	db_init(&app->db, s, 1);
	(void)db_ensure(&app->db);	/* connect before the first request */
}

static void
app_free(struct app *app)
{
	db_close(&app->db);
	catalog_cache_free(&app->cache);
}

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
drain(struct app *app, FCGX_Request *conns)
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
			serve_one(app, req);
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
static int
worker_main(const struct settings *s, int listen_fd)
{
	static FCGX_Request conns[WORKER_CONNS];
	struct pollfd pfd[WORKER_CONNS + 1];
	int slot_of[WORKER_CONNS + 1];
	struct app app;
	int i, n, nused;

	log_init("fashiond", s->log_debug);
	app_init(&app, s);
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
			serve_one(&app, req);
			FCGX_Finish_r(req);
		}
	}
	drain(&app, conns);
	app_free(&app);
	return 0;
}

int
main(int argc, char *argv[])
{
	const char *file = getenv("FASHION_CONFIG");
	struct settings *s;
	char err[512];
	int ch, test = 0;

	if (file == NULL)
		file = SYSCONFDIR "/fashion.cfg";
	while ((ch = getopt(argc, argv, "c:thO")) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 't':
			test = 1;
			break;
		case 'O':	/* the option table, for docs and tests */
			config_dump_options();
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("fashiond", 0);

	if ((s = config_load(file, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fashiond: configuration invalid: %s\n", err);
		return 1;
	}
	if (test) {
		printf("fashiond: configuration %s is valid (profile %s)\n", file,
		    s->active->name);
		config_free(s);
		return 0;
	}
	log_set_debug(s->log_debug);

	if (getenv("GATEWAY_INTERFACE") != NULL) {
		struct app app;

		app_init(&app, s);
		serve_one(&app, NULL);
		app_free(&app);
		config_free(s);
		return 0;
	}
	if (!FCGX_IsCGI()) {
		/* spawn-fcgi style: a listening socket on stdin, no master. */
		int rc;

		(void)fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
		rc = worker_main(s, 0);
		config_free(s);
		return rc;
	}
	return pool_run(s, worker_main);
}
