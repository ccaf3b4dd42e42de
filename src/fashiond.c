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
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "clip_client.h"
#include "embcache.h"
#include "fcgi_worker.h"
#include "handlers.h"
#include "log.h"
#include "pool.h"
#include "vs_client.h"

const struct route fashiond_routes[] = {
	{ "GET", "/api/v1/products", h_products_list },
	{ "GET", "/api/v1/products/filters/options", h_filter_options },
	{ "GET", "/api/v1/products/{}", h_product_get },
	{ "GET", "/api/v1/products/{}/similar", h_product_similar },
	{ "POST", "/api/v1/search/text", h_search_text },
	{ "POST", "/api/v1/search/image", h_search_image },
	{ "POST", "/api/v1/search/cross-modal", h_search_cross_modal },
	{ "GET", "/api/v1/health", h_health },
	{ "POST", "/api/v1/auth/signup", h_signup },
	{ "POST", "/api/v1/auth/login", h_login },
	{ "POST", "/api/v1/auth/logout", h_logout },
	{ "GET", "/api/v1/me", h_me },
	{ "GET", "/api/v1/users/{}/preferences", h_prefs_get },
	{ "PUT", "/api/v1/users/{}/preferences", h_prefs_put },
	{ "GET", "/api/v1/users/{}/recommendations", h_recommendations },
	{ "POST", "/api/v1/users/{}/likes/{}", h_like_add },
	{ "DELETE", "/api/v1/users/{}/likes/{}", h_like_delete },
	{ NULL, NULL, NULL }
};

static void
usage(void)
{
	fprintf(stderr, "usage: fashiond [-tO] [-c config]\n");
	exit(2);
}

/* One request (FCGX NULL: plain CGI); an fcgi_serve_fn. */
static void
serve_one(void *ctx, FCGX_Request *fcgx)
{
	struct app *app = ctx;
	struct request r;
	long max = app->cfg->max_body;
	int close_conn = 0;

	if (request_begin(&r, fcgx) == REQ_OK) {
		/* Photos for search/image and search/cross-modal. */
		if (strncmp(r.path, "/api/v1/search/", 15) == 0 &&
		    app->cfg->search_max_upload > max)
			max = app->cfg->search_max_upload;
		if (request_read_body(&r, max, &close_conn) == REQ_OK)
			router_dispatch(fashiond_routes, &r, app);
	}
	if (close_conn && fcgx != NULL)
		fcgx->keepConnection = 0;	/* unread body: don't reuse */
	request_send(&r);
	request_end(&r);
}

static void
app_init(struct app *app, const struct settings *s)
{
	const struct profile *p = s->active;
	struct settings probe = *s;	/* clients copy what they keep */
	char err[512];

	memset(app, 0, sizeof(*app));
	app->cfg = s;
	db_init(&app->db, s, 1);
	(void)db_ensure(&app->db);	/* connect before the first request */
	if ((app->vs = vs_client_new(s, err, sizeof(err))) == NULL)
		log_crit("vector search client: %s", err);
	if ((app->clip = clip_client_new(s, err, sizeof(err))) == NULL)
		log_crit("CLIP client: %s", err);
	probe.vs_retries = probe.clip_retries = 0;
	if (probe.vs_timeout > HEALTH_TIMEOUT_MS)
		probe.vs_timeout = HEALTH_TIMEOUT_MS;
	if (probe.clip_timeout > HEALTH_TIMEOUT_MS)
		probe.clip_timeout = HEALTH_TIMEOUT_MS;
	app->vs_probe = vs_client_new(&probe, err, sizeof(err));
	app->clip_probe = clip_client_new(&probe, err, sizeof(err));
	if (s->search_cache_entries > 0 &&
	    (app->emb = embcache_new((size_t)s->search_cache_entries)) == NULL)
		log_crit("query embedding cache: out of memory");
	log_info("search: profile %s, text %s, image %s, cross-modal %s",
	    p->name, p->text_index, p->image_index, p->hybrid_index);
}

static void
app_free(struct app *app)
{
	db_close(&app->db);
	catalog_cache_free(&app->cache);
	vs_client_free(app->vs);
	clip_client_free(app->clip);
	vs_client_free(app->vs_probe);
	clip_client_free(app->clip_probe);
	embcache_free(app->emb);
}

static int
worker_main(const struct settings *s, int listen_fd)
{
	struct app app;
	int rc;

	log_init("fashiond", s->log_debug);
	app_init(&app, s);
	rc = fcgi_worker_loop(listen_fd, serve_one, &app);
	app_free(&app);
	return rc;
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
	return pool_run(s, worker_main, NULL);
}
