/*
 * cmd_switch.c - "fashionctl switch PROFILE": rewrite the top-level
 * `profile = "...";` of the config file atomically (temp file in the same
 * directory, fsync, check it loads, rename, fsync the directory), then send
 * SIGHUP to the master named by server.pidfile.  This is the rollback.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "fashionctl.h"

#define CFG_MAXBYTES	(1L << 20)

/* Directory of the config file (for relative paths and the temp file). */
static int
config_dir(const char *cfgpath, char *out, size_t len)
{
	char tmp[PATH_MAX];
	int n;

	n = snprintf(tmp, sizeof(tmp), "%s", cfgpath);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return CTL_ERROR;
	n = snprintf(out, len, "%s", dirname(tmp));
	if (n < 0 || (size_t)n >= len)
		return CTL_ERROR;
	return CTL_OK;
}

/* server.pidfile, already resolved against the config's directory by
 * config_load(). */
int
ctl_pidfile(const struct ctl *c, const struct settings *s, char *out,
    size_t len)
{
	int n;

	(void)c;
	if (s->pidfile[0] == '\0')
		return 0;
	n = snprintf(out, len, "%s", s->pidfile);
	if (n < 0 || (size_t)n >= len) {
		ctl_warnx("server.pidfile: path too long");
		return CTL_ERROR;
	}
	return 1;
}

long
ctl_read_pid(const char *path, char *why, size_t whylen)
{
	char text[32];
	ssize_t n;
	long pid;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return CTL_ERROR;
	}
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return CTL_ERROR;
	}
	text[n] = '\0';
	text[strcspn(text, "\r\n")] = '\0';
	if (text[0] == '\0')
		return 0;	/* an empty pid file: no master */
	if (ctl_parse_long(text, 2, INT_MAX, &pid) != CTL_OK) {
		snprintf(why, whylen, "%s: \"%.20s\" is not a pid", path, text);
		return CTL_ERROR;
	}
	return pid;
}

/*
 * Find the string value of the top-level "profile" setting in TEXT: the
 * byte range [*start, *end) inside its quotes.  Comments (#, //, / * * /),
 * strings and nested groups are skipped.  CTL_OK, or CTL_ERROR with a
 * reason in WHY when there is not exactly one.
 */
static int
find_profile(const char *text, size_t *start, size_t *end, char *why,
    size_t whylen)
{
	const char *p = text, *q, *v;
	int depth = 0, bol = 1, found = 0;

	while (*p != '\0') {
		if (*p == '\n') {
			bol = 1;
			p++;
			continue;
		}
		if (*p == ' ' || *p == '\t' || *p == '\r') {
			p++;
			continue;
		}
		if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			p += strcspn(p, "\n");
			continue;
		}
		if (p[0] == '/' && p[1] == '*') {
			if ((q = strstr(p + 2, "*/")) == NULL)
				break;
			p = q + 2;
			continue;
		}
		if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++)
				if (*p == '\\' && p[1] != '\0')
					p++;
			if (*p == '"')
				p++;
			bol = 0;
			continue;
		}
		if (*p == '{' || *p == '(' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ')' || *p == ']')
			depth--;
		else if (depth == 0 && bol && strncmp(p, "profile", 7) == 0 &&
		    strchr(" \t=:", p[7]) != NULL) {
			q = p + 7;
			q += strspn(q, " \t");
			if (*q != '=' && *q != ':')
				goto next;
			q++;
			q += strspn(q, " \t");
			if (*q != '"')
				goto next;
			v = q + 1;
			for (q = v; *q != '\0' && *q != '"' && *q != '\\' &&
			    *q != '\n'; q++)
				;
			if (*q != '"') {
				snprintf(why, whylen, "the profile value is not a "
				    "plain string");
				return CTL_ERROR;
			}
			*start = (size_t)(v - text);
			*end = (size_t)(q - text);
			found++;
			p = q + 1;
			bol = 0;
			continue;
		}
next:
		bol = 0;
		p++;
	}
	if (found != 1) {
		snprintf(why, whylen, found ? "more than one top-level "
		    "\"profile\" setting" : "no top-level `profile = \"...\";` "
		    "line");
		return CTL_ERROR;
	}
	return CTL_OK;
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return CTL_ERROR;
		}
		p += n;
		len -= (size_t)n;
	}
	return CTL_OK;
}

/*
 * Write TEXT to a temp file beside REAL, check it loads with PROFILE
 * active, rename it over REAL, fsync the directory.
 */
static int
replace_config(const char *real, const char *text, size_t len,
    const struct stat *st, const char *profile)
{
	struct settings *s = NULL;
	char dir[PATH_MAX], base[PATH_MAX], tmp[PATH_MAX], err[1024];
	int fd = -1, dfd = -1, n, renamed = 0, rc = CTL_ERROR;

	tmp[0] = '\0';
	n = snprintf(base, sizeof(base), "%s", real);
	if (n < 0 || (size_t)n >= sizeof(base) ||
	    config_dir(real, dir, sizeof(dir)) != CTL_OK) {
		ctl_warnx("%s: path too long", real);
		goto fail;
	}
	n = snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, basename(base));
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		ctl_warnx("%s: path too long", real);
		tmp[0] = '\0';
		goto fail;
	}
	if ((fd = mkstemp(tmp)) == -1) {
		ctl_warnx("mkstemp: %s: %s", tmp, strerror(errno));
		tmp[0] = '\0';
		goto fail;
	}
	if (fchmod(fd, st->st_mode & 07777) == -1) {
		ctl_warnx("fchmod: %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (fchown(fd, st->st_uid, st->st_gid) == -1 && errno != EPERM) {
		ctl_warnx("fchown: %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (write_all(fd, text, len) != CTL_OK || fsync(fd) == -1) {
		ctl_warnx("write: %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		ctl_warnx("close: %s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if ((s = config_load(tmp, err, sizeof(err))) == NULL) {
		ctl_warnx("the rewritten config does not load, not installed: %s",
		    err);
		goto fail;
	}
	if (strcmp(s->profile_name, profile) != 0) {
		ctl_warnx("the rewritten config has profile \"%s\", not \"%s\"; "
		    "not installed", s->profile_name, profile);
		goto fail;
	}
	if (rename(tmp, real) == -1) {
		ctl_warnx("rename %s -> %s: %s", tmp, real, strerror(errno));
		goto fail;
	}
	renamed = 1;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(dfd) == -1)
		ctl_warnx("warning: fsync %s: %s", dir, strerror(errno));
	rc = CTL_OK;
fail:
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
	if (!renamed && tmp[0] != '\0')
		unlink(tmp);
	config_free(s);
	return rc;
}

/*
 * Refuse to activate an empty or missing layout (unless forced).  A
 * database that cannot be reached only warns: a rollback must not depend
 * on it.  CTL_OK to go on.
 */
static int
target_ready(struct ctl *c, const struct profile *p)
{
	struct buf sql;
	long long n;
	int e, rc = CTL_ERROR;

	buf_init(&sql);
	if (ctl_connect(c) != CTL_OK) {
		ctl_warnx("warning: cannot check that %s.%s has data; switching "
		    "anyway", p->schema, p->products);
		return CTL_OK;
	}
	if ((e = ctl_table_exists(c, p->schema, p->products)) < 0)
		goto fail;
	if (!e) {
		ctl_warnx("%s.%s does not exist (run fashionctl init, load/"
		    "migrate; -f switches anyway)", p->schema, p->products);
		goto fail;
	}
	buf_puts(&sql, "SELECT count(*) FROM (SELECT 1 FROM ");
	if (ctl_qname(c, p->schema, p->products, &sql) != CTL_OK)
		goto fail;
	buf_puts(&sql, " LIMIT 1) x");
	if (buf_failed(&sql) || ctl_count(c, "switch", sql.data, 0, NULL, &n) !=
	    CTL_OK)
		goto fail;
	if (n == 0) {
		ctl_warnx("%s.%s is empty (run fashionctl load/migrate; -f "
		    "switches anyway)", p->schema, p->products);
		goto fail;
	}
	rc = CTL_OK;
fail:
	buf_free(&sql);
	return rc;
}

static void
switch_usage(void)
{
	fprintf(stderr, "usage: fashionctl switch [-f] fashion_demo|"
	    "fashion_sota\n");
}

int
cmd_switch(struct ctl *c, int argc, char **argv)
{
	const struct profile *target;
	struct buf text, out;
	struct stat st;
	char real[PATH_MAX], pidpath[PATH_MAX], why[512];
	const char *want;
	size_t start = 0, end = 0;
	long pid;
	int ch, force = 0, same, r, rc = EXIT_FAIL;

	buf_init(&text);
	buf_init(&out);
	while ((ch = getopt(argc, argv, "fh")) != -1) {
		switch (ch) {
		case 'f':
			force = 1;
			break;
		case 'h':
			switch_usage();
			return EXIT_OK;
		default:
			switch_usage();
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		switch_usage();
		return EXIT_USAGE;
	}
	want = argv[optind];
	if ((target = config_profile(c->cfg, want)) == NULL) {
		ctl_warnx("unknown profile \"%s\" (fashion_demo or fashion_sota)",
		    want);
		return EXIT_USAGE;
	}
	if (realpath(c->cfgpath, real) == NULL) {
		ctl_warnx("%s: %s", c->cfgpath, strerror(errno));
		return EXIT_FAIL;
	}
	if (!force && target_ready(c, target) != CTL_OK)
		goto fail;

	if (ctl_read_file(real, CFG_MAXBYTES, &text, &st) != CTL_OK)
		goto fail;
	if (find_profile(text.data, &start, &end, why, sizeof(why)) != CTL_OK) {
		ctl_warnx("%s: %s", c->cfgpath, why);
		goto fail;
	}
	same = end - start == strlen(want) &&
	    memcmp(text.data + start, want, end - start) == 0;
	if (same) {
		printf("switch: %s: profile is already %s; file unchanged\n",
		    c->cfgpath, want);
	} else {
		buf_add(&out, text.data, start);
		buf_puts(&out, want);
		buf_add(&out, text.data + end, text.len - end);
		if (buf_failed(&out)) {
			ctl_warnx("out of memory");
			goto fail;
		}
		if (replace_config(real, out.data, out.len, &st, want) != CTL_OK)
			goto fail;
		printf("switch: %s: profile %.*s -> %s\n", c->cfgpath,
		    (int)(end - start), text.data + start, want);
	}

	/* The running master rereads the file on SIGHUP. */
	if ((r = ctl_pidfile(c, c->cfg, pidpath, sizeof(pidpath))) < 0)
		goto fail;
	if (r == 0) {
		printf("switch: no server.pidfile configured: no running master "
		    "was signalled\n");
		rc = EXIT_OK;
		goto fail;
	}
	if ((pid = ctl_read_pid(pidpath, why, sizeof(why))) < 0) {
		ctl_warnx("the config was switched, but the master cannot be "
		    "signalled: %s", why);
		goto fail;
	}
	if (pid == 0) {
		printf("switch: %s absent or empty: no running master was "
		    "signalled\n", pidpath);
		rc = EXIT_OK;
		goto fail;
	}
	if (kill((pid_t)pid, SIGHUP) == -1) {
		if (errno == ESRCH) {
			printf("switch: pid %ld from %s is not running (stale "
			    "pid file): no master was signalled\n", pid, pidpath);
			rc = EXIT_OK;
		} else
			ctl_warnx("the config was switched, but the master "
			    "cannot be signalled: kill %ld (from %s): %s", pid,
			    pidpath, strerror(errno));
		goto fail;
	}
	printf("switch: sent SIGHUP to the master, pid %ld (%s): it reloads "
	    "and serves %s\n", pid, pidpath, want);
	rc = EXIT_OK;
fail:
	buf_free(&text);
	buf_free(&out);
	return rc;
}
