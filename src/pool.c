/*
 * pool.c - master process: binds once, forks workers per configuration
 * generation, respawns crashed ones, swaps generations on SIGHUP.
 *
 * Signals are blocked in the master and taken synchronously with
 * sigtimedwait(), so no work ever happens in signal context.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "db.h"
#include "log.h"
#include "pool.h"

#define MAX_WORKERS	1024	/* all generations together */
#define RESPAWN_DELAY	1000	/* ms before respawning a worker that died young */

volatile sig_atomic_t pool_worker_quit;

enum wstate { W_FREE, W_RUNNING, W_DRAINING };

struct worker {
	pid_t		 pid;
	enum wstate	 state;
	unsigned	 gen;		/* configuration generation */
	long long	 started;	/* ms, monotonic */
	long long	 deadline;	/* ms: SIGKILL when draining past it */
};

struct master {
	struct settings	*cfg;		/* current configuration */
	unsigned	 gen;		/* its generation */
	int		 listen_fd;
	pool_worker_fn	 worker_fn;
	pool_adapt_fn	 adapt;		/* see pool_run, may be NULL */
	struct worker	 w[MAX_WORKERS];
	int		 stopping;	/* 0, or SIGTERM/SIGINT being honoured */
	long long	 stop_deadline;
	long long	 next_spawn;	/* throttle after young deaths */
};

int
pool_listen(const char *addr, int backlog)
{
	int fd = -1, one = 1;

	if (strncmp(addr, "unix:", 5) == 0) {
		struct sockaddr_un sun;
		const char *path = addr + 5;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (strlen(path) >= sizeof(sun.sun_path)) {
			log_crit("listen: %s: path too long", path);
			goto fail;
		}
		memcpy(sun.sun_path, path, strlen(path) + 1);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
			log_crit("socket: %s: %m", addr);
			goto fail;
		}
		(void)unlink(path);	/* stale socket from a previous run */
		if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
			log_crit("bind: %s: %m", addr);
			goto fail;
		}
		(void)chmod(path, 0660);
	} else {
		struct addrinfo hints, *res = NULL;
		char host[256];
		const char *port, *colon = strrchr(addr, ':');
		size_t hl;
		int rc;

		if (colon == NULL)
			goto fail;
		hl = (size_t)(colon - addr);
		if (hl >= sizeof(host))
			goto fail;
		memcpy(host, addr, hl);
		host[hl] = '\0';
		if (host[0] == '[' && hl >= 2 && host[hl - 1] == ']') {
			memmove(host, host + 1, hl - 2);
			host[hl - 2] = '\0';
		}
		port = colon + 1;
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
		if ((rc = getaddrinfo(host[0] ? host : NULL, port, &hints,
		    &res)) != 0) {
			log_crit("getaddrinfo: %s: %s", addr, gai_strerror(rc));
			goto fail;
		}
		fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd == -1) {
			log_crit("socket: %s: %m", addr);
			freeaddrinfo(res);
			goto fail;
		}
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, res->ai_addr, res->ai_addrlen) == -1) {
			log_crit("bind: %s: %m", addr);
			freeaddrinfo(res);
			goto fail;
		}
		freeaddrinfo(res);
	}
	if (listen(fd, backlog) == -1) {
		log_crit("listen: %s: %m", addr);
		goto fail;
	}
	/* Workers poll, then accept: never block in accept(). */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) {
		log_crit("fcntl: %s: %m", addr);
		goto fail;
	}
	return fd;
fail:
	if (fd != -1)
		close(fd);
	return -1;
}

static int
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (user[0] == '\0' || geteuid() != 0)
		return POOL_OK;
	if ((pw = getpwnam(user)) == NULL) {
		log_crit("getpwnam: %s: no such user", user);
		return POOL_ERROR;
	}
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		log_crit("drop privileges to %s: %m", user);
		return POOL_ERROR;
	}
	if (setuid(0) != -1) {
		log_crit("drop privileges to %s: still able to regain root", user);
		return POOL_ERROR;
	}
	return POOL_OK;
}

static void
worker_sig(int sig)
{
	(void)sig;
	pool_worker_quit = 1;
}

static void
spawn(struct master *m)
{
	struct worker *w = NULL;
	sigset_t none;
	pid_t pid;
	int i;

	for (i = 0; i < MAX_WORKERS; i++)
		if (m->w[i].state == W_FREE) {
			w = &m->w[i];
			break;
		}
	if (w == NULL) {
		log_crit("worker table full (%d): not spawning", MAX_WORKERS);
		return;
	}
	switch ((pid = fork())) {
	case -1:
		log_crit("fork: %m");
		return;
	case 0: {
		struct sigaction sa;
		int status;

		memset(&sa, 0, sizeof(sa));
		/*
		 * SA_RESTART: a read inside libfcgi in the middle of a request
		 * carries on; poll() is never restarted, so the idle loop still
		 * wakes up and sees the flag.
		 */
		sa.sa_handler = worker_sig;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGQUIT, &sa, NULL);
		sa.sa_handler = SIG_IGN;
		sa.sa_flags = 0;
		sigaction(SIGHUP, &sa, NULL);
		sigaction(SIGPIPE, &sa, NULL);
		sa.sa_handler = SIG_DFL;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGCHLD, &sa, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* If the master goes away, finish up and leave. */
		(void)prctl(PR_SET_PDEATHSIG, SIGQUIT);
		if (getppid() == 1)
			_exit(0);
		status = m->worker_fn(m->cfg, m->listen_fd);
		exit(status);
	}
	default:
		w->pid = pid;
		w->state = W_RUNNING;
		w->gen = m->gen;
		w->started = now_ms();
		w->deadline = 0;
		log_debug("worker %ld started (generation %u)", (long)pid, m->gen);
	}
}

static int
count_state(const struct master *m, enum wstate st, int gen_only)
{
	int i, n = 0;

	for (i = 0; i < MAX_WORKERS; i++)
		if (m->w[i].state == st && (!gen_only || m->w[i].gen == m->gen))
			n++;
	return n;
}

static void
signal_all(struct master *m, int sig, int old_only)
{
	int i;

	for (i = 0; i < MAX_WORKERS; i++) {
		struct worker *w = &m->w[i];
		if (w->state == W_FREE || (old_only && w->gen == m->gen))
			continue;
		if (kill(w->pid, sig) == -1 && errno != ESRCH)
			log_warn("kill: worker %ld: %m", (long)w->pid);
		if (sig == SIGQUIT && w->state == W_RUNNING) {
			w->state = W_DRAINING;
			w->deadline = now_ms() +
			    (long long)m->cfg->drain_timeout * 1000;
		}
	}
}

static void
reap(struct master *m)
{
	pid_t pid;
	int status, i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < MAX_WORKERS; i++)
			if (m->w[i].state != W_FREE && m->w[i].pid == pid)
				break;
		if (i == MAX_WORKERS)
			continue;
		if (WIFSIGNALED(status) && m->w[i].state == W_RUNNING)
			log_crit("worker %ld exited on signal %d", (long)pid,
			    WTERMSIG(status));
		else if (WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
		    m->w[i].state == W_RUNNING)
			log_warn("worker %ld exited with status %d", (long)pid,
			    WEXITSTATUS(status));
		else
			log_debug("worker %ld exited", (long)pid);
		if (m->w[i].state == W_RUNNING && m->w[i].gen == m->gen &&
		    now_ms() - m->w[i].started < RESPAWN_DELAY)
			m->next_spawn = now_ms() + RESPAWN_DELAY;
		m->w[i].state = W_FREE;
		m->w[i].pid = 0;
	}
}

static void
reload(struct master *m)
{
	struct settings *n;
	char err[512];

	log_info("reloading configuration from %s", m->cfg->path);
	if ((n = config_load(m->cfg->path, err, sizeof(err))) == NULL) {
		log_warn("reload rejected, keeping the running configuration: %s",
		    err);
		return;
	}
	if (m->adapt != NULL && m->adapt(n, err, sizeof(err)) != POOL_OK) {
		log_warn("reload rejected, keeping the running configuration: %s",
		    err);
		config_free(n);
		return;
	}
	if (strcmp(n->listen, m->cfg->listen) != 0 ||
	    n->backlog != m->cfg->backlog || strcmp(n->user, m->cfg->user) ||
	    strcmp(n->pidfile, m->cfg->pidfile))
		log_warn("reload: server.listen, backlog, user and pidfile "
		    "need a restart; keeping the old values");
	/* Keep the restart-only values of the running master. */
	free(n->listen);
	free(n->user);
	free(n->pidfile);
	n->listen = strdup(m->cfg->listen);
	n->user = strdup(m->cfg->user);
	n->pidfile = strdup(m->cfg->pidfile);
	n->backlog = m->cfg->backlog;
	if (n->listen == NULL || n->user == NULL || n->pidfile == NULL) {
		log_crit("reload: out of memory, keeping the running configuration");
		config_free(n);
		return;
	}
	config_free(m->cfg);
	m->cfg = n;
	m->gen++;
	log_set_debug(n->log_debug);
	log_info("configuration generation %u: profile %s, %d workers",
	    m->gen, n->active->name, n->workers);
	/* New workers first, then the old ones finish and leave. */
	while (count_state(m, W_RUNNING, 1) < m->cfg->workers)
		spawn(m);
	signal_all(m, SIGQUIT, 1);
}

static int
write_pidfile(const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (path[0] == '\0')
		return POOL_OK;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return POOL_ERROR;
	if ((f = fopen(tmp, "w")) == NULL) {
		log_crit("open: %s: %m", tmp);
		return POOL_ERROR;
	}
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0 || rename(tmp, path) == -1) {
		log_crit("write pidfile %s: %m", path);
		(void)unlink(tmp);
		return POOL_ERROR;
	}
	return POOL_OK;
}

int
pool_run(struct settings *cfg, pool_worker_fn worker, pool_adapt_fn adapt)
{
	static struct master m;	/* large: keep it off the stack */
	sigset_t set;
	struct timespec tick = { 0, 200 * 1000000 };
	int sig, i, rc = 0;

	memset(&m, 0, sizeof(m));
	m.cfg = cfg;
	m.gen = 1;
	m.worker_fn = worker;
	m.adapt = adapt;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((m.listen_fd = pool_listen(cfg->listen, cfg->backlog)) == -1)
		return 1;
	if (write_pidfile(cfg->pidfile) != POOL_OK)
		return 1;
	if (drop_privileges(cfg->user) != POOL_OK)
		return 1;
	log_info("listening on %s, profile %s, %d workers", cfg->listen,
	    cfg->active->name, cfg->workers);

	for (;;) {
		long long now;

		reap(&m);
		now = now_ms();
		if (!m.stopping && now >= m.next_spawn)
			while (count_state(&m, W_RUNNING, 1) < m.cfg->workers)
				spawn(&m);
		/* A reload may lower the worker count: retire the extras. */
		if (!m.stopping && count_state(&m, W_RUNNING, 1) > m.cfg->workers)
			for (i = 0; i < MAX_WORKERS &&
			    count_state(&m, W_RUNNING, 1) > m.cfg->workers; i++)
				if (m.w[i].state == W_RUNNING) {
					kill(m.w[i].pid, SIGQUIT);
					m.w[i].state = W_DRAINING;
					m.w[i].deadline = now +
					    (long long)m.cfg->drain_timeout * 1000;
				}
		for (i = 0; i < MAX_WORKERS; i++)
			if (m.w[i].state == W_DRAINING && now > m.w[i].deadline) {
				log_warn("worker %ld did not finish within %d s: "
				    "killing it", (long)m.w[i].pid,
				    m.cfg->drain_timeout);
				kill(m.w[i].pid, SIGKILL);
				m.w[i].deadline = now + 60000;
			}
		if (m.stopping && count_state(&m, W_RUNNING, 0) == 0 &&
		    count_state(&m, W_DRAINING, 0) == 0)
			break;

		sig = sigtimedwait(&set, NULL, &tick);
		switch (sig) {
		case SIGHUP:
			if (!m.stopping)
				reload(&m);
			break;
		case SIGTERM:
		case SIGQUIT:
			if (m.stopping) {
				log_info("second stop signal: stopping now");
				signal_all(&m, SIGTERM, 0);
				break;
			}
			log_info("graceful stop: draining workers");
			m.stopping = sig;
			signal_all(&m, SIGQUIT, 0);
			break;
		case SIGINT:
			log_info("fast stop");
			m.stopping = sig;
			signal_all(&m, SIGTERM, 0);
			break;
		default:
			break;	/* SIGCHLD or timeout: loop reaps */
		}
	}
	if (m.cfg->pidfile[0] != '\0')
		(void)unlink(m.cfg->pidfile);
	if (strncmp(m.cfg->listen, "unix:", 5) == 0)
		(void)unlink(m.cfg->listen + 5);
	close(m.listen_fd);
	log_info("stopped");
	config_free(m.cfg);
	return rc;
}

int
pool_serve_as(struct settings *s, const char *listen, const char *pidfile,
    int workers, long max_body, char *err, size_t errlen)
{
	char *l = strdup(listen), *p = strdup(pidfile);

	if (l == NULL || p == NULL) {
		free(l);
		free(p);
		snprintf(err, errlen, "out of memory");
		return POOL_ERROR;
	}
	free(s->listen);
	free(s->pidfile);
	s->listen = l;
	s->pidfile = p;
	s->workers = workers;
	s->max_body = max_body;
	return POOL_OK;
}
