/*
 * fashion-clipd - the embedding service: the Databricks Model Serving
 * invocations API in front of the dual encoder of models/fashion-clip.bin.
 *
 *   fashion-clipd -c FILE      run the master (clip.listen, clip.workers)
 *   fashion-clipd -t -c FILE   check the configuration and the model
 *
 * POST /serving-endpoints/{clip.endpoint}/invocations
 *     {"dataframe_records"|"dataframe_split"|"inputs"|"instances": ...},
 *     rows with "text" or base64 "image" (JPEG or PNG)
 *     -> {"predictions": [[512 floats], ...]}
 * GET /api/2.0/serving-endpoints/{clip.endpoint}
 *     -> {"name": ..., "state": {"ready": "READY", ...}}
 *
 * Errors are Databricks-shaped: {"error_code": "...", "message": "..."}
 * (request_error_style).
 * Each worker maps the model file read-only; the page cache shares it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "config.h"
#include "fcgi_worker.h"
#include "image.h"
#include "invocation.h"
#include "log.h"
#include "model.h"
#include "pool.h"
#include "request.h"

#ifndef FASHION_MODELDIR
#define FASHION_MODELDIR "/usr/local/share/fashion/models"
#endif
#ifndef SYSCONFDIR
#define SYSCONFDIR "/usr/local/etc"
#endif

#define MAX_TEXT	2048	/* bytes of one text row */

struct clipd {
	const struct settings	*cfg;
	struct model		 model;
	struct model_ws		*ws;
	float			*vecs;	/* clip_max_batch * MODEL_DIM */
	const char		*token;	/* required bearer token, NULL = none */
};

static void
usage(void)
{
	fprintf(stderr, "usage: fashion-clipd [-t] [-c config]\n");
	exit(2);
}

static const char *
model_path(const struct settings *s)
{
	return s->clip_model[0] != '\0' ? s->clip_model :
	    FASHION_MODELDIR "/fashion-clip.bin";
}

/*
 * Put clip.* where the pool reads its socket, workers and pid file, and
 * check the model opens (a reload naming a bad model is refused).
 */
static int
adapt(struct settings *s, char *err, size_t errlen)
{
	struct model m;

	if (model_open(model_path(s), &m, err, errlen) != MODEL_OK)
		return POOL_ERROR;
	model_close(&m);
	return pool_serve_as(s, s->clip_listen, s->clip_pidfile,
	    s->clip_workers, s->clip_max_body, err, errlen);
}

/* "/prefix{name}suffix" -> name (into OUT), or 0 when PATH has another shape. */
static int
match(const char *path, const char *prefix, const char *suffix, char *out,
    size_t outlen)
{
	size_t pl = strlen(prefix), sl = strlen(suffix), n;

	n = strlen(path);
	if (n <= pl + sl || strncmp(path, prefix, pl) != 0 ||
	    strcmp(path + n - sl, suffix) != 0)
		return 0;
	n -= pl + sl;
	if (n >= outlen || memchr(path + pl, '/', n) != NULL)
		return 0;
	memcpy(out, path + pl, n);
	out[n] = '\0';
	return 1;
}

static void
invocations(struct clipd *c, struct request *r)
{
	struct invocation inv;
	unsigned char px[IMG_BYTES];
	char msg[512], why[256];
	const char *ct = request_env(r, "CONTENT_TYPE");
	int status, rc;
	size_t i, k;

	if (ct != NULL && ct[0] != '\0' &&
	    strncasecmp(ct, "application/json", 16) != 0) {
		request_error(r, 415, "BAD_REQUEST", "Content-Type must be "
		    "application/json, not %.64s", ct);
		return;
	}
	memset(&inv, 0, sizeof(inv));
	if (invocation_parse(r->input.data, r->input.len,
	    (size_t)c->cfg->clip_max_batch, MAX_TEXT,
	    (size_t)c->cfg->clip_max_body, &inv, &status, msg,
	    sizeof(msg)) != INV_OK) {
		request_error(r, status, "BAD_REQUEST", "%s", msg);
		return;
	}
	for (i = 0; i < inv.n; i++) {
		const struct inv_row *row = &inv.rows[i];
		float *v = c->vecs + i * MODEL_DIM;

		if (row->kind == INV_TEXT) {
			model_embed_text(&c->model, row->text, row->text_len, v);
			continue;
		}
		rc = image_prepare(row->image, row->image_len, px, why,
		    sizeof(why));
		if (rc != IMG_OK) {
			request_error(r, rc == IMG_UNSUPPORTED ? 415 : 400,
			    "BAD_REQUEST", "row %zu: %s", i, why);
			invocation_free(&inv);
			return;
		}
		model_embed_image(&c->model, c->ws, px, v);
	}
	buf_reset(&r->body);
	buf_puts(&r->body, "{\"predictions\":[");
	for (i = 0; i < inv.n; i++) {
		buf_puts(&r->body, i ? ",[" : "[");
		for (k = 0; k < MODEL_DIM; k++)
			buf_printf(&r->body, k ? ",%.9g" : "%.9g",
			    (double)c->vecs[i * MODEL_DIM + k]);
		buf_puts(&r->body, "]");
	}
	buf_puts(&r->body, "]}");
	r->status = 200;
	log_debug("invocation: %zu rows", inv.n);
	invocation_free(&inv);
}

static void
describe(struct clipd *c, struct request *r)
{
	buf_reset(&r->body);
	buf_puts(&r->body, "{\"name\":");
	buf_json_str(&r->body, c->cfg->clip_endpoint);
	buf_puts(&r->body, ",\"state\":{\"ready\":\"READY\","
	    "\"config_update\":\"NOT_UPDATING\"},\"config\":{"
	    "\"served_entities\":[{\"name\":\"fashion-clip\","
	    "\"entity_name\":\"fashion-clip\",\"entity_version\":\"1\"}]},"
	    "\"embedding_dim\":512}");
	r->status = 200;
}

static void
route(struct clipd *c, struct request *r)
{
	char name[256];
	int inv;

	if (!request_bearer_ok(r, c->token)) {
		request_error(r, 401, "UNAUTHENTICATED", "missing or wrong bearer "
		    "token");
		return;
	}
	inv = match(r->path, "/serving-endpoints/", "/invocations", name,
	    sizeof(name));
	if (!inv && !match(r->path, "/api/2.0/serving-endpoints/", "", name,
	    sizeof(name))) {
		request_error(r, 404, "ENDPOINT_NOT_FOUND", "No API found for "
		    "'%s %.200s'", r->method, r->path);
		return;
	}
	if (strcmp(name, c->cfg->clip_endpoint) != 0) {
		request_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "Endpoint with name "
		    "'%.200s' does not exist.", name);
		return;
	}
	if (strcmp(r->method, inv ? "POST" : "GET") != 0) {
		r->allow = inv ? "POST" : "GET";
		request_error(r, 405, "BAD_REQUEST", "method %s not allowed",
		    r->method);
		return;
	}
	if (inv)
		invocations(c, r);
	else
		describe(c, r);
}

static void
serve(void *ctx, FCGX_Request *fcgx)
{
	struct clipd *c = ctx;
	struct request r;
	int close_conn = 0;

	if (request_begin(&r, fcgx) == REQ_OK &&
	    request_read_body(&r, c->cfg->clip_max_body, &close_conn) ==
	    REQ_OK)
		route(c, &r);
	if (close_conn && fcgx != NULL)
		fcgx->keepConnection = 0;	/* unread body: don't reuse */
	request_send(&r);
	request_end(&r);
}

static int
clipd_init(struct clipd *c, const struct settings *s)
{
	char err[512];
	const char *tok;

	memset(c, 0, sizeof(*c));
	c->cfg = s;
	if (model_open(model_path(s), &c->model, err, sizeof(err)) !=
	    MODEL_OK) {
		log_crit("model: %s", err);
		return -1;
	}
	c->ws = model_ws_new(&c->model);
	c->vecs = calloc((size_t)s->clip_max_batch, MODEL_DIM * sizeof(float));
	if (c->ws == NULL || c->vecs == NULL) {
		log_crit("out of memory");
		return -1;
	}
	tok = getenv(s->clip_token_env);
	c->token = tok != NULL && tok[0] != '\0' ? tok : NULL;
	return 0;
}

static void
clipd_free(struct clipd *c)
{
	model_ws_free(c->ws);
	free(c->vecs);
	model_close(&c->model);
}

static int
worker_main(const struct settings *s, int listen_fd)
{
	struct clipd c;
	int rc = 1;

	log_init("fashion-clipd", s->log_debug);
	if (clipd_init(&c, s) == 0)
		rc = fcgi_worker_loop(listen_fd, serve, &c);
	clipd_free(&c);
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
	log_init("fashion-clipd", 0);
	if ((s = config_load(file, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fashion-clipd: configuration invalid: %s\n",
		    err);
		return 1;
	}
	/* Fails now, not in every worker, when the model is unusable. */
	if (adapt(s, err, sizeof(err)) != POOL_OK) {
		fprintf(stderr, "fashion-clipd: %s\n", err);
		config_free(s);
		return 1;
	}
	if (test) {
		printf("fashion-clipd: configuration %s and model %s are valid\n",
		    file, model_path(s));
		config_free(s);
		return 0;
	}
	log_set_debug(s->log_debug);
	request_error_style(REQ_ERRORS_DATABRICKS);
	if (!FCGX_IsCGI()) {
		/* spawn-fcgi style: a listening socket on stdin, no master. */
		int rc;

		(void)fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
		rc = worker_main(s, 0);
		config_free(s);
		return rc;
	}
	return pool_run(s, worker_main, adapt);
}
