/* log.c - see log.h */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_ident = "fashion";
static int log_debug_on;
static char log_reqid[40];

void
log_init(const char *ident, int debug)
{
	log_ident = ident;
	log_debug_on = debug;
	setvbuf(stderr, NULL, _IOLBF, 0);
}

void
log_set_debug(int debug)
{
	log_debug_on = debug;
}

void
log_set_request(const char *reqid)
{
	if (reqid == NULL)
		log_reqid[0] = '\0';
	else
		snprintf(log_reqid, sizeof(log_reqid), "%s", reqid);
}

static void
vlog(const char *level, const char *fmt, va_list ap)
{
	char ts[32], msg[1024];
	struct tm tm;
	time_t now = time(NULL);
	int saved = errno;

	localtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
	errno = saved;		/* so %m in fmt still works */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "%s %s %s[%ld]%s%s: %s\n", ts, level, log_ident,
	    (long)getpid(), log_reqid[0] ? " req=" : "", log_reqid, msg);
	errno = saved;
}

#define LOGFN(fn, level, cond)			\
void						\
fn(const char *fmt, ...)			\
{						\
	va_list ap;				\
	if (!(cond))				\
		return;				\
	va_start(ap, fmt);			\
	vlog(level, fmt, ap);			\
	va_end(ap);				\
}

LOGFN(log_debug, "[debug]", log_debug_on)
LOGFN(log_info, "[info]", 1)
LOGFN(log_warn, "[warn]", 1)
LOGFN(log_crit, "[crit]", 1)
