/* health.c - GET /api/v1/health: database reachability and active profile. */
#include <unistd.h>

#include "handlers.h"

void
h_health(struct request *r, struct app *app)
{
	PGresult *res;
	int rc, up;

	db_poll_notify(&app->db);
	res = db_query(&app->db, "SELECT 1", 0, NULL, &rc);
	up = res != NULL;
	PQclear(res);
	r->status = up ? 200 : 503;
	buf_printf(&r->body, "{\"status\":\"%s\",\"database\":\"%s\","
	    "\"profile\":", up ? "ok" : "degraded", up ? "ok" : "down");
	buf_json_str(&r->body, app->cfg->active->name);
	buf_printf(&r->body, ",\"worker_pid\":%ld}", (long)getpid());
}
