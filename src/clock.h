/* clock.h - the monotonic clock in milliseconds, and sleeping by it. */
#ifndef FASHION_CLOCK_H
#define FASHION_CLOCK_H

/* Milliseconds on CLOCK_MONOTONIC (not wall time: for deadlines, ages). */
long long now_ms(void);

/* Sleep MS milliseconds, the whole of them: a signal does not cut it short. */
void sleep_ms(long ms);

#endif
