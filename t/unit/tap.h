/* tap.h - the smallest TAP producer for the C unit tests. */
#ifndef FASHION_TAP_H
#define FASHION_TAP_H
#include <stdio.h>

static int tap_n, tap_failed;

#define ok(cond, ...) do {						\
	tap_n++;							\
	if (cond)							\
		printf("ok %d - ", tap_n);				\
	else {								\
		printf("not ok %d - ", tap_n);				\
		tap_failed++;						\
	}								\
	printf(__VA_ARGS__);						\
	printf("\n");							\
} while (0)

#define done_testing() (printf("1..%d\n", tap_n), tap_failed ? 1 : 0)
#endif
