/*
 * cmd_sync.c - "fashionctl sync [--all] [INDEX...]": ask the Vector Search
 * service (vs.url: a Databricks workspace, or fashion-vsd locally; see
 * src/vs_client.h) to sync Delta Sync indexes from their source tables,
 * and wait until each one is ready:
 *
 *   POST {vs.url}/api/2.0/vector-search/indexes/{name}/sync
 *   GET  {vs.url}/api/2.0/vector-search/indexes/{name}   until ready
 *
 * Which indexes: the names given; else with --all the distinct indexes of
 * both profiles; else those of the active profile (image_index,
 * text_index, hybrid_index, each name once).  One line per synced index
 * on stdout: name, status.indexed_row_count, seconds taken.
 *
 * Databricks answers the sync at once and works in the background: the
 * index is done when status.ready is true and detailed_state no longer
 * says an update is pending or running.  fashion-vsd builds the snapshot
 * before it answers, so the POST gets the whole wait (SYNC_WAIT_S) as its
 * timeout instead of vs.timeout, which is meant for queries.
 *
 * Errors name the index and the reason; when the service cannot be reached
 * the remaining indexes are not tried.  Exit status 0 when every index is
 * synced and ready, 1 otherwise.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "clock.h"
#include "fashionctl.h"
#include "vs_client.h"

#define SYNC_WAIT_S	600	/* per index, from the POST to ready */
#define SYNC_POLL_MS	200	/* first wait between two describes, */
#define SYNC_POLL_MAX_MS 5000	/* doubled up to this */
#define SYNC_NOTE_S	30	/* "still waiting" every this many seconds */
#define SYNC_DESCRIBE_TRIES 3	/* failed describes in a row before giving up */
#define SYNC_MAX_NAMES	64	/* indexes one command syncs, at most */
#define SYNC_STATE_MAX	64
#define SYNC_ERR_MAX	1024

/* Outcome of one index. */
#define SYNC_DONE	 0
#define SYNC_FAILED	-1	/* this index failed; go on with the next */
#define SYNC_UNREACHABLE -2	/* the service is down: stop */

static void
sync_usage(void)
{
	fprintf(stderr, "usage: fashionctl sync [--all] [INDEX...]\n"
	    "  no argument: the indexes of the active profile; --all: those of "
	    "both profiles\n");
}

/* Add NAME to NAMES[*N] unless it is empty or already there. */
static int
add_name(const char **names, int *n, const char *name)
{
	int i;

	if (name == NULL || name[0] == '\0')
		return CTL_OK;
	for (i = 0; i < *n; i++)
		if (strcmp(names[i], name) == 0)
			return CTL_OK;
	if (*n >= SYNC_MAX_NAMES) {
		ctl_warnx("sync: more than %d indexes", SYNC_MAX_NAMES);
		return CTL_ERROR;
	}
	names[(*n)++] = name;
	return CTL_OK;
}

static int
add_profile(const char **names, int *n, const struct profile *p)
{
	if (add_name(names, n, p->image_index) != CTL_OK ||
	    add_name(names, n, p->text_index) != CTL_OK ||
	    add_name(names, n, p->hybrid_index) != CTL_OK)
		return CTL_ERROR;
	return CTL_OK;
}

/*
 * Does detailed_state say a sync is still to come or under way?  Databricks
 * states: ONLINE_NO_PENDING_UPDATE, ONLINE_TRIGGERED_UPDATE,
 * ONLINE_CONTINUOUS_UPDATE, ONLINE_UPDATING_PIPELINE_RESOURCES,
 * PROVISIONING_*, OFFLINE_FAILED, ONLINE_PIPELINE_FAILED, ...
 */
static int
state_pending(const char *state)
{
	return strncmp(state, "PROVISIONING", 12) == 0 ||
	    strstr(state, "TRIGGERED_UPDATE") != NULL ||
	    strstr(state, "UPDATING") != NULL;
}

static int
state_failed(const char *state)
{
	return strstr(state, "FAILED") != NULL;
}

/* Report R (a VS_* other than VS_OK) for index NAME: what happened. */
static int
report(const struct settings *cfg, const char *name, const char *what,
    int r, const char *err)
{
	switch (r) {
	case VS_DOWN:
		ctl_warnx("sync %s: the Vector Search service at %s (vs.url) "
		    "is unreachable or unavailable: %s", name, cfg->vs_url,
		    err);
		return SYNC_UNREACHABLE;
	case VS_TIMEOUT:
		ctl_warnx("sync %s: %s: the Vector Search service at %s "
		    "(vs.url) did not answer in time: %s", name, what,
		    cfg->vs_url, err);
		return SYNC_FAILED;
	case VS_NOTFOUND:
		ctl_warnx("sync %s: no such index at the Vector Search service "
		    "%s (vs.url): %s", name, cfg->vs_url, err);
		return SYNC_FAILED;
	default:
		ctl_warnx("sync %s: %s failed: %s", name, what, err);
		return SYNC_FAILED;
	}
}

/* Sync NAME and wait until it is ready; SYNC_DONE, _FAILED or _UNREACHABLE. */
static int
sync_one(const struct settings *cfg, struct vs_client *syncer,
    struct vs_client *vs, const char *name)
{
	char err[SYNC_ERR_MAX], state[SYNC_STATE_MAX];
	long long t0, now, deadline, next_note, rows;
	long wait = SYNC_POLL_MS;
	int r, ready, fails = 0;

	t0 = now_ms();
	deadline = t0 + SYNC_WAIT_S * 1000LL;
	next_note = t0 + SYNC_NOTE_S * 1000LL;
	if ((r = vs_sync(syncer, name, err, sizeof(err))) != VS_OK)
		return report(cfg, name, "sync request", r, err);
	for (;;) {
		r = vs_describe(vs, name, &ready, &rows, state, sizeof(state),
		    err, sizeof(err));
		now = now_ms();
		if (r == VS_OK) {
			fails = 0;
			if (ready && !state_pending(state))
				break;
			if (!ready && state_failed(state)) {
				ctl_warnx("sync %s: the index failed: state %s",
				    name, state);
				return SYNC_FAILED;
			}
		} else if (r == VS_NOTFOUND || r == VS_BAD || r == VS_ERROR ||
		    ++fails >= SYNC_DESCRIBE_TRIES)
			return report(cfg, name, "status", r, err);
		if (now >= deadline) {
			ctl_warnx("sync %s: not ready after %d s (state %s); "
			    "the sync may still be running: run fashionctl "
			    "sync %s again later", name, SYNC_WAIT_S,
			    state[0] ? state : "unknown", name);
			return SYNC_FAILED;
		}
		if (now >= next_note) {
			ctl_warnx("sync %s: waiting for the index to be ready "
			    "(%lld s, state %s)", name, (now - t0) / 1000,
			    state[0] ? state : "unknown");
			next_note += SYNC_NOTE_S * 1000LL;
		}
		if (wait > deadline - now)
			wait = (long)(deadline - now);
		sleep_ms(wait);
		if ((wait *= 2) > SYNC_POLL_MAX_MS)
			wait = SYNC_POLL_MAX_MS;
	}
	if (rows >= 0)
		printf("sync: %s: %lld rows, ready in %.1f s\n", name, rows,
		    (double)(now - t0) / 1000.0);
	else
		printf("sync: %s: ready in %.1f s (no row count)\n", name,
		    (double)(now - t0) / 1000.0);
	fflush(stdout);
	return SYNC_DONE;
}

int
cmd_sync(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *names[SYNC_MAX_NAMES];
	struct vs_client *syncer = NULL, *vs = NULL;
	struct settings scfg;
	char err[SYNC_ERR_MAX];
	int ch, i, n = 0, all = 0, failed = 0, r, rc = EXIT_FAIL;

	while ((ch = getopt_long(argc, argv, "ah", opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			all = 1;
			break;
		case 'h':
			sync_usage();
			return EXIT_OK;
		default:
			sync_usage();
			return EXIT_USAGE;
		}
	}
	if (all && optind != argc) {
		ctl_warnx("sync: give --all or index names, not both");
		sync_usage();
		return EXIT_USAGE;
	}
	for (i = optind; i < argc; i++) {
		if (argv[i][0] == '\0') {
			ctl_warnx("sync: empty index name");
			return EXIT_USAGE;
		}
		if (add_name(names, &n, argv[i]) != CTL_OK)
			return EXIT_USAGE;
	}
	if (optind == argc) {
		if (all) {
			if (add_profile(names, &n, &c->cfg->profiles[0]) !=
			    CTL_OK ||
			    add_profile(names, &n, &c->cfg->profiles[1]) !=
			    CTL_OK)
				return EXIT_FAIL;
		} else if (add_profile(names, &n, c->cfg->active) != CTL_OK)
			return EXIT_FAIL;
		if (n == 0) {
			ctl_warnx("sync: profile %s names no index",
			    all ? "fashion_demo nor fashion_sota" :
			    c->cfg->active->name);
			return EXIT_FAIL;
		}
	}

	/*
	 * The client for the POST: the same settings but the whole wait as
	 * its timeout (a shallow copy; only read by vs_client_new).
	 */
	scfg = *c->cfg;
	scfg.vs_timeout = SYNC_WAIT_S * 1000;
	if ((syncer = vs_client_new(&scfg, err, sizeof(err))) == NULL ||
	    (vs = vs_client_new(c->cfg, err, sizeof(err))) == NULL) {
		ctl_warnx("sync: Vector Search client (vs.url %s): %s",
		    c->cfg->vs_url, err);
		goto out;
	}
	for (i = 0; i < n; i++) {
		r = sync_one(c->cfg, syncer, vs, names[i]);
		if (r == SYNC_DONE)
			continue;
		failed++;
		if (r == SYNC_UNREACHABLE) {
			if (i + 1 < n)
				ctl_warnx("sync: not trying the %d other "
				    "index%s", n - i - 1,
				    n - i - 1 == 1 ? "" : "es");
			failed += n - i - 1;
			break;
		}
	}
	if (failed == 0)
		rc = EXIT_OK;
	else
		ctl_warnx("sync: %d of %d index%s not synced", failed, n,
		    n == 1 ? "" : "es");
out:
	vs_client_free(syncer);
	vs_client_free(vs);
	return rc;
}
