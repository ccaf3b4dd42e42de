/*
 * buf.h - growable byte buffer with JSON helpers.  Allocation failure is
 * sticky: every append becomes a no-op and buf_failed() reports it once at
 * the end, so builders need not check each call.
 */
#ifndef FASHION_BUF_H
#define FASHION_BUF_H

#include <stddef.h>

struct buf {
	char	*data;		/* NUL-terminated when len > 0 */
	size_t	 len;
	size_t	 cap;
	int	 failed;	/* an allocation failed */
};

void	buf_init(struct buf *);
void	buf_free(struct buf *);
void	buf_reset(struct buf *);		/* len = 0, keep memory */
void	buf_add(struct buf *, const void *, size_t);
void	buf_puts(struct buf *, const char *);
void	buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	buf_json_str(struct buf *, const char *);	/* "quoted, escaped" */
void	buf_json_strn(struct buf *, const char *, size_t);
int	buf_failed(const struct buf *);

/*
 * Copy client-chosen S (LEN bytes) into DST for a message: at most MAX
 * bytes, anything but printable ASCII (and quotes, backslashes) as '?',
 * "..." when cut.  DST holds MAX + 4 bytes to show it all.
 */
void	str_shown(const char *s, size_t len, size_t max, char *dst,
	    size_t dstlen);

/* 1 if S[0..len) is valid UTF-8 without NUL bytes. */
int	utf8_valid(const char *s, size_t len);

#endif
