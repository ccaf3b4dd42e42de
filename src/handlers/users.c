/* users.c - preferences, likes and recommendations: being written (issue 5). */
#include "handlers.h"

#define TODO(fn) void fn(struct request *r, struct app *app) { (void)app; \
	request_error(r, 501, "not_implemented", "not implemented yet"); }
TODO(h_prefs_get)
TODO(h_prefs_put)
TODO(h_recommendations)
TODO(h_like_add)
TODO(h_like_delete)
