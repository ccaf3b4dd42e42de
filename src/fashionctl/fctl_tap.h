/*
 * fctl_tap.h - the few TAP helpers the fashionctl unit tests need
 * (t/unit/fashionctl_*.c).  Header-only: each test is one program.
 */
#ifndef FASHIONCTL_FCTL_TAP_H
#define FASHIONCTL_FCTL_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static void tap_ok(int, const char *, ...) __attribute__((format(printf, 2, 3), unused));
static void tap_is(const char *, const char *, const char *) __attribute__((unused));
static int tap_done(void) __attribute__((unused));

static void
tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		tap_failed++;
}

/* String equality with a diagnostic; NULL equals only NULL. */
static void
tap_is(const char *got, const char *want, const char *name)
{
	int same = (got == NULL || want == NULL) ? got == want :
	    strcmp(got, want) == 0;

	tap_ok(same, "%s", name);
	if (!same)
		printf("#   got:      %s%s%s\n#   expected: %s%s%s\n",
		    got ? "\"" : "", got ? got : "NULL", got ? "\"" : "",
		    want ? "\"" : "", want ? want : "NULL", want ? "\"" : "");
}

static int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
