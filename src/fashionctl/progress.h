/*
 * progress.h - progress of a long step on stderr: rows done, rows/s and ETA
 * updated in place on a terminal; one summary line otherwise.
 */
#ifndef FASHIONCTL_PROGRESS_H
#define FASHIONCTL_PROGRESS_H

struct progress {
	const char	*what;		/* "load", "migrate" */
	unsigned long	 total;		/* rows expected, 0 = unknown */
	unsigned long	 done;
	long long	 t0;		/* start, monotonic ms */
	long long	 last;		/* last redraw, monotonic ms */
	long long	 r0;		/* first update: rate and ETA count from here */
	unsigned long	 d0;		/* rows done at r0 */
	int		 tty;		/* stderr is a terminal */
	int		 drawn;		/* a line is on screen */
};

void	progress_start(struct progress *, const char *what, unsigned long total,
	    int tty);
void	progress_update(struct progress *, unsigned long done);
/* Final line: "WHAT: N rows in S s (R rows/s)" plus NOTE when not NULL. */
void	progress_end(struct progress *, const char *note);
/* Clear an in-place line before printing something else to stderr. */
void	progress_clear(struct progress *);

#endif
