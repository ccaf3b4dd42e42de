/*
 * fashiond - the storefront API: a FastCGI worker pool.
 *
 *   fashiond -c FILE        run the master in the foreground
 *   fashiond -t -c FILE     check the configuration and exit
 *
 * Started by a CGI host (GATEWAY_INTERFACE set) it answers that one request
 * and exits; started with a listening socket on stdin (spawn-fcgi) it runs
 * one worker on it without a master.
 */
#include <sys/socket.h>

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
	fprintf(stderr, "usage: fashiond [-t] [-c config]\n");
	exit(2);
}

static void
serve_one(struct app *app, FCGX_Request *fcgx)
{
	struct request r;

	if (request_begin(&r, fcgx) == REQ_OK)
		router_dispatch(fashiond_routes, &r, app);
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

/*
 * Wait until there is something to do: a request on the kept-alive
 * connection, or a new connection on the listening socket.  An idle
 * kept-alive connection is dropped when a new connection waits, so an
 * nginx holding idle connections can never starve the backlog.
 * Returns 1 when FCGX_Accept_r may run, 0 to loop, -1 to quit.
 */
static int
wait_for_work(FCGX_Request *req, int listen_fd)
{
	struct pollfd pfd[2];
	int n = 0, conn = req->ipcFd;

	if (pool_worker_quit)
		return -1;
	if (conn >= 0) {
		pfd[n].fd = conn;
		pfd[n++].events = POLLIN;
	}
	pfd[n].fd = listen_fd;
	pfd[n++].events = POLLIN;
	if (poll(pfd, (nfds_t)n, -1) == -1) {
		if (errno != EINTR)
			log_warn("poll: %m");
		return pool_worker_quit ? -1 : 0;
	}
	if (conn >= 0 && pfd[0].revents != 0)
		return 1;	/* next request, or EOF handled by libfcgi */
	if (conn >= 0) {
		/* Idle keep-alive while someone queues: give it back. */
		close(conn);
		req->ipcFd = -1;
	}
	if (pool_worker_quit)
		return -1;
	if ((req->ipcFd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("accept: %m");
		return 0;
	}
	return 1;
}

static int
worker_main(const struct settings *s, int listen_fd)
{
	FCGX_Request req;
	struct app app;
	int rc;

	log_init("fashiond", s->log_debug);
	app_init(&app, s);
	if (FCGX_Init() != 0 ||
	    FCGX_InitRequest(&req, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_crit("FCGX_Init failed");
		return 1;
	}
	for (;;) {
		if ((rc = wait_for_work(&req, listen_fd)) < 0)
			break;
		if (rc == 0)
			continue;
		/*
		 * FCGX_Accept_r first "finishes" the previous request and
		 * would close the connection we hand it unless marked kept;
		 * the BEGIN_REQUEST record then sets the real keep flag.
		 */
		req.keepConnection = 1;
		if (FCGX_Accept_r(&req) < 0)
			continue;	/* peer closed or nothing to accept */
		serve_one(&app, &req);
		FCGX_Finish_r(&req);
	}
	if (req.ipcFd >= 0) {
		close(req.ipcFd);
		req.ipcFd = -1;
	}
	FCGX_Free(&req, 0);
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
	while ((ch = getopt(argc, argv, "c:th")) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 't':
			test = 1;
			break;
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
