/* router.c - see router.h */
#include <stdlib.h>
#include <string.h>

#include "router.h"

/* Match PATH against PAT; on success fill captures (caller frees). */
static int
match(const char *pat, const char *path, char **caps)
{
	int ncap = 0;

	while (*pat != '\0' && *path != '\0') {
		if (pat[0] == '{' && pat[1] == '}') {
			const char *end = strchr(path, '/');
			size_t n = end ? (size_t)(end - path) : strlen(path);

			if (n == 0 || ncap == REQ_MAX_CAPTURES)
				goto fail;
			if ((caps[ncap] = strndup(path, n)) == NULL)
				goto fail;
			ncap++;
			pat += 2;
			path += n;
			continue;
		}
		if (*pat != *path)
			goto fail;
		pat++;
		path++;
	}
	if (*pat == '\0' && (*path == '\0' || strcmp(path, "/") == 0))
		return 1;
fail:
	while (ncap > 0) {
		free(caps[--ncap]);
		caps[ncap] = NULL;
	}
	return 0;
}

void
router_dispatch(const struct route *table, struct request *r, struct app *app)
{
	const struct route *rt;
	int path_known = 0;
	static char allow[64];

	allow[0] = '\0';
	for (rt = table; rt->pattern != NULL; rt++) {
		char *caps[REQ_MAX_CAPTURES] = { NULL };
		int i;

		if (!match(rt->pattern, r->path, caps))
			continue;
		if (strcmp(rt->method, r->method) == 0 ||
		    (strcmp(rt->method, "GET") == 0 &&
		    strcmp(r->method, "HEAD") == 0)) {
			memcpy(r->captures, caps, sizeof(caps));
			rt->fn(r, app);
			return;
		}
		for (i = 0; i < REQ_MAX_CAPTURES; i++)
			free(caps[i]);
		path_known = 1;
		if (strlen(allow) + strlen(rt->method) + 3 < sizeof(allow)) {
			if (allow[0] != '\0')
				strcat(allow, ", ");
			strcat(allow, rt->method);
		}
	}
	if (path_known) {
		r->allow = allow;
		request_error(r, 405, "method_not_allowed",
		    "method %s not allowed here", r->method);
	} else
		request_error(r, 404, "not_found", "no such endpoint");
}
