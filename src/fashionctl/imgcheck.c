/* imgcheck.c - see imgcheck.h */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>

#include "imgcheck.h"

/* libjpeg error manager: errors longjmp back, warnings are recorded. */
struct errmgr {
	struct jpeg_error_mgr	pub;
	jmp_buf			jb;
	char			msg[JMSG_LENGTH_MAX];	/* first error/warning */
};

static void
err_exit(j_common_ptr ci)
{
	struct errmgr *e = (struct errmgr *)ci->err;

	(*ci->err->format_message)(ci, e->msg);
	longjmp(e->jb, 1);
}

static void
err_emit(j_common_ptr ci, int level)
{
	struct errmgr *e = (struct errmgr *)ci->err;

	if (level >= 0)
		return;		/* trace messages */
	/* A warning: corrupt data, premature end of file, ... */
	if (ci->err->num_warnings == 0)
		(*ci->err->format_message)(ci, e->msg);
	ci->err->num_warnings++;
}

static void
err_output(j_common_ptr ci)
{
	(void)ci;		/* never print: the caller reports */
}

void
imgcheck_init(struct imgcheck *ic)
{
	ic->buf = NULL;
	ic->cap = 0;
}

void
imgcheck_free(struct imgcheck *ic)
{
	free(ic->buf);
	imgcheck_init(ic);
}

int
imgcheck_mem(const unsigned char *data, size_t len, int *w, int *h,
    char *why, size_t whylen)
{
	struct jpeg_decompress_struct ci;
	struct errmgr em;
	JSAMPARRAY row;

	if (len == 0) {
		snprintf(why, whylen, "empty file");
		return IMG_BAD;
	}
	memset(&ci, 0, sizeof(ci));
	memset(&em, 0, sizeof(em));
	ci.err = jpeg_std_error(&em.pub);
	em.pub.error_exit = err_exit;
	em.pub.emit_message = err_emit;
	em.pub.output_message = err_output;
	if (setjmp(em.jb) != 0) {
		snprintf(why, whylen, "%s", em.msg);
		jpeg_destroy_decompress(&ci);
		return IMG_BAD;
	}
	jpeg_create_decompress(&ci);
	jpeg_mem_src(&ci, data, (unsigned long)len);
	if (jpeg_read_header(&ci, TRUE) != JPEG_HEADER_OK) {
		snprintf(why, whylen, "no JPEG image");
		goto bad;
	}
	if (ci.image_width < IMG_MINSIDE || ci.image_width > IMG_MAXSIDE ||
	    ci.image_height < IMG_MINSIDE || ci.image_height > IMG_MAXSIDE) {
		snprintf(why, whylen, "size %ux%u outside %d..%d", ci.image_width,
		    ci.image_height, IMG_MINSIDE, IMG_MAXSIDE);
		goto bad;
	}
	jpeg_start_decompress(&ci);
	row = (*ci.mem->alloc_sarray)((j_common_ptr)&ci, JPOOL_IMAGE,
	    ci.output_width * (JDIMENSION)ci.output_components, 1);
	while (ci.output_scanline < ci.output_height)
		if (jpeg_read_scanlines(&ci, row, 1) != 1) {
			snprintf(why, whylen, "decoder stalled at line %u",
			    ci.output_scanline);
			goto bad;
		}
	jpeg_finish_decompress(&ci);
	if (em.pub.num_warnings > 0) {
		snprintf(why, whylen, "%s", em.msg);
		goto bad;
	}
	*w = (int)ci.image_width;
	*h = (int)ci.image_height;
	jpeg_destroy_decompress(&ci);
	return IMG_OK;
bad:
	jpeg_destroy_decompress(&ci);
	return IMG_BAD;
}

int
imgcheck_file(struct imgcheck *ic, const char *path, int *w, int *h,
    char *why, size_t whylen)
{
	struct stat st;
	size_t got = 0, need;
	ssize_t n;
	unsigned char *p;
	int fd = -1, rc = IMG_BAD;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR)
			return IMG_MISSING;
		snprintf(why, whylen, "open: %s", strerror(errno));
		return IMG_BAD;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(why, whylen, "fstat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "not a regular file");
		goto out;
	}
	if (st.st_size > IMG_MAXBYTES) {
		snprintf(why, whylen, "file larger than %ld bytes", IMG_MAXBYTES);
		goto out;
	}
	need = (size_t)st.st_size;
	if (need > ic->cap) {
		if ((p = realloc(ic->buf, need)) == NULL) {
			rc = IMG_NOMEM;
			goto out;
		}
		ic->buf = p;
		ic->cap = need;
	}
	while (got < need) {
		n = read(fd, ic->buf + got, need - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(why, whylen, "read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;		/* shrank meanwhile: check what we have */
		got += (size_t)n;
	}
	rc = imgcheck_mem(ic->buf, got, w, h, why, whylen);
out:
	close(fd);
	return rc;
}
