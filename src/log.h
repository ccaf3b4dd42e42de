/*
 * log.h - printf-checked logging to stderr: "time level [pid] reqid: msg".
 * Log the decision, not the data: no passwords, tokens or bodies.
 */
#ifndef FASHION_LOG_H
#define FASHION_LOG_H

#define LOG_FMT(a, b) __attribute__((format(printf, a, b)))

void	log_init(const char *ident, int debug);
void	log_set_debug(int debug);
void	log_set_request(const char *reqid);	/* NULL clears */
void	log_debug(const char *fmt, ...) LOG_FMT(1, 2);
void	log_info(const char *fmt, ...) LOG_FMT(1, 2);
void	log_warn(const char *fmt, ...) LOG_FMT(1, 2);
void	log_crit(const char *fmt, ...) LOG_FMT(1, 2);

#endif
