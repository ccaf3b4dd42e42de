/*
 * health.c - GET /api/v1/health: the database, the Vector Search indexes
 * of the active profile, the CLIP endpoint, and which profile is active.
 *
 * "status" is the database's ("ok": 200, "degraded": 503), as before:
 * the catalog works without the search upstreams.  "search" is "ok" when
 * every index of the profile is ready and the CLIP endpoint is READY,
 * else "degraded".  Upstreams are probed with clients that do not retry
 * and wait at most HEALTH_TIMEOUT_MS.
 */
#include <string.h>
#include <unistd.h>

#include "clip_client.h"
#include "handlers.h"
#include "vs_client.h"

/* One index of the profile as {"name", "role", "ready", "rows", "state"}. */
static int
index_health(struct buf *b, struct app *app, const char *role,
    const char *name)
{
	char state[64], err[512];
	long long rows = -1;
	int ready = 0, rc = VS_ERROR;

	state[0] = '\0';
	if (app->vs_probe != NULL)
		rc = vs_describe(app->vs_probe, name, &ready, &rows, state,
		    sizeof(state), err, sizeof(err));
	buf_puts(b, "{\"role\":");
	buf_json_str(b, role);
	buf_puts(b, ",\"name\":");
	buf_json_str(b, name);
	if (rc == VS_OK) {
		buf_printf(b, ",\"status\":\"%s\",\"indexed_row_count\":%lld,"
		    "\"detailed_state\":", ready ? "ok" : "not_ready", rows);
		buf_json_str(b, state);
	} else
		buf_printf(b, ",\"status\":\"%s\"", rc == VS_NOTFOUND ?
		    "missing" : "down");
	buf_puts(b, "}");
	return rc == VS_OK && ready;
}

void
h_health(struct request *r, struct app *app)
{
	const struct profile *p = app->cfg->active;
	PGresult *res;
	char err[512];
	int rc, up, ok = 1, clip = 0;

	db_poll_notify(&app->db);
	res = db_query(&app->db, "SELECT 1", 0, NULL, &rc);
	up = res != NULL;
	PQclear(res);

	buf_puts(&r->body, "{\"profile\":");
	buf_json_str(&r->body, p->name);
	buf_printf(&r->body, ",\"database\":\"%s\",\"vector_search\":{"
	    "\"endpoint\":", up ? "ok" : "down");
	buf_json_str(&r->body, p->vs_endpoint);
	buf_puts(&r->body, ",\"indexes\":[");
	ok &= index_health(&r->body, app, "text", p->text_index);
	if (strcmp(p->image_index, p->text_index) != 0) {
		buf_puts(&r->body, ",");
		ok &= index_health(&r->body, app, "image", p->image_index);
	}
	if (strcmp(p->hybrid_index, p->text_index) != 0 &&
	    strcmp(p->hybrid_index, p->image_index) != 0) {
		buf_puts(&r->body, ",");
		ok &= index_health(&r->body, app, "cross-modal", p->hybrid_index);
	}
	if (app->clip_probe != NULL)
		clip = clip_ready(app->clip_probe, err, sizeof(err)) == CLIP_OK;
	buf_printf(&r->body, "]},\"clip\":{\"endpoint\":");
	buf_json_str(&r->body, app->cfg->clip_endpoint);
	buf_printf(&r->body, ",\"status\":\"%s\"}", clip ? "ok" : "down");
	buf_printf(&r->body, ",\"search\":\"%s\",\"status\":\"%s\","
	    "\"worker_pid\":%ld}", ok && clip ? "ok" : "degraded",
	    up ? "ok" : "degraded", (long)getpid());
	r->status = up ? 200 : 503;
}
