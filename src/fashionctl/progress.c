/* progress.c - see progress.h */
#include <stdio.h>

#include "clock.h"
#include "progress.h"

#define REDRAW_MS	100

void
progress_start(struct progress *p, const char *what, unsigned long total,
    int tty)
{
	p->what = what;
	p->total = total;
	p->done = 0;
	p->t0 = p->last = now_ms();
	p->r0 = -1;
	p->d0 = 0;
	p->tty = tty;
	p->drawn = 0;
}

static double
rate(const struct progress *p, long long now)
{
	long long ms = now - p->t0;

	return ms > 0 ? (double)p->done * 1000.0 / (double)ms : 0.0;
}

void
progress_update(struct progress *p, unsigned long done)
{
	long long now;
	double r;

	p->done = done;
	if (!p->tty)
		return;
	now = now_ms();
	if (p->r0 < 0) {	/* the work starts now: no rate yet */
		p->r0 = now;
		p->d0 = done;
		return;
	}
	if (now - p->last < REDRAW_MS && done != p->total)
		return;
	p->last = now;
	r = now > p->r0 ? (double)(done - p->d0) * 1000.0 / (double)(now - p->r0) :
	    0.0;
	if (p->total > 0)
		fprintf(stderr, "\r%s: %lu/%lu rows", p->what, done, p->total);
	else
		fprintf(stderr, "\r%s: %lu rows", p->what, done);
	if (r > 0)
		fprintf(stderr, "  %.0f rows/s", r);
	if (r > 0 && p->total > 0 && done <= p->total)
		fprintf(stderr, "  ETA %.0f s", (double)(p->total - done) / r);
	fputs("   ", stderr);
	fflush(stderr);
	p->drawn = 1;
}

void
progress_clear(struct progress *p)
{
	if (p->tty && p->drawn) {
		fprintf(stderr, "\r%*s\r", 72, "");
		p->drawn = 0;
	}
}

void
progress_end(struct progress *p, const char *note)
{
	long long now = now_ms();

	progress_clear(p);
	fprintf(stderr, "%s: %lu rows in %.2f s (%.0f rows/s)%s%s\n", p->what,
	    p->done, (double)(now - p->t0) / 1000.0, rate(p, now),
	    note ? ", " : "", note ? note : "");
}
