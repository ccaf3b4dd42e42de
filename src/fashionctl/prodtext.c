/* prodtext.c - see prodtext.h */
#include <stddef.h>

#include "buf.h"
#include "prodtext.h"

static int
space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

/* Does S hold anything but whitespace? */
static int
has_text(const char *s)
{
	if (s == NULL)
		return 0;
	for (; *s != '\0'; s++)
		if (!space(*s))
			return 1;
	return 0;
}

/* Append S trimmed, inner whitespace runs as one space. */
static void
add_words(struct buf *out, const char *s)
{
	size_t start;
	int gap = 0, any = 0;

	while (*s != '\0') {
		if (space(*s)) {
			gap = 1;
			s++;
			continue;
		}
		if (gap && any)
			buf_add(out, " ", 1);
		for (start = 0; s[start] != '\0' && !space(s[start]); start++)
			;
		buf_add(out, s, start);
		s += start;
		gap = 0;
		any = 1;
	}
}

void
prodtext(struct buf *out, const struct prodtext_fields *f)
{
	const char *sep = "";
	int desc;

	if (has_text(f->name)) {
		add_words(out, f->name);
		sep = ", ";
	}
	/* "<colour> <article> for <gender>" */
	desc = has_text(f->colour) || has_text(f->article) || has_text(f->gender);
	if (desc) {
		buf_puts(out, sep);
		sep = "";
		if (has_text(f->colour)) {
			add_words(out, f->colour);
			sep = " ";
		}
		if (has_text(f->article)) {
			buf_puts(out, sep);
			add_words(out, f->article);
			sep = " ";
		}
		if (has_text(f->gender)) {
			buf_puts(out, sep);
			buf_puts(out, "for ");
			add_words(out, f->gender);
		}
		sep = ", ";
	}
	if (has_text(f->usage)) {
		buf_puts(out, sep);
		add_words(out, f->usage);
	}
}
