/* sqltmpl.c - see sqltmpl.h */
#include <stdio.h>
#include <string.h>

#include "sqltmpl.h"

static int
ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

static unsigned long
line_at(const char *sql, const char *p)
{
	unsigned long line = 1;

	for (; sql < p; sql++)
		if (*sql == '\n')
			line++;
	return line;
}

int
sqltmpl_expand(const char *sql, const struct tmpl_var *vars, size_t nvars,
    tmpl_quote_fn quote, void *arg, struct buf *out, char *err, size_t errlen)
{
	const char *p = sql, *q, *end, *sfx;
	char ident[TMPL_IDENT_MAX + 1];
	size_t i, nlen, vlen, slen;
	int n;

	while (*p != '\0') {
		if (p[0] == '-' && p[1] == '-') {		/* comment */
			q = p + strcspn(p, "\n");
			buf_add(out, p, (size_t)(q - p));
			p = q;
			continue;
		}
		if (p[0] == '\'') {				/* literal */
			q = strchr(p + 1, '\'');
			while (q != NULL && q[1] == '\'')
				q = strchr(q + 2, '\'');
			if (q == NULL) {
				snprintf(err, errlen, "line %lu: unterminated "
				    "string literal", line_at(sql, p));
				return TMPL_ERROR;
			}
			buf_add(out, p, (size_t)(q + 1 - p));
			p = q + 1;
			continue;
		}
		if (p[0] != '{' || p[1] != '{') {
			buf_add(out, p, 1);
			p++;
			continue;
		}
		if ((end = strstr(p + 2, "}}")) == NULL) {
			snprintf(err, errlen, "line %lu: \"{{\" without \"}}\"",
			    line_at(sql, p));
			return TMPL_ERROR;
		}
		nlen = (size_t)(end - (p + 2));
		for (i = 0; i < nvars; i++)
			if (strlen(vars[i].name) == nlen &&
			    strncmp(vars[i].name, p + 2, nlen) == 0)
				break;
		if (i == nvars) {
			snprintf(err, errlen, "line %lu: unknown placeholder "
			    "{{%.*s}}", line_at(sql, p), (int)nlen, p + 2);
			return TMPL_ERROR;
		}
		if (vars[i].value == NULL || vars[i].value[0] == '\0') {
			snprintf(err, errlen, "line %lu: {{%s}} is used but not "
			    "configured", line_at(sql, p), vars[i].name);
			return TMPL_ERROR;
		}
		sfx = end + 2;
		for (slen = 0; ident_char(sfx[slen]); slen++)
			;
		vlen = strlen(vars[i].value);
		n = snprintf(ident, sizeof(ident), "%s%.*s", vars[i].value,
		    (int)slen, sfx);
		if (n < 0 || (size_t)n >= sizeof(ident) || vlen + slen >
		    TMPL_IDENT_MAX) {
			snprintf(err, errlen, "line %lu: identifier \"%s%.*s\" "
			    "longer than %d bytes", line_at(sql, p),
			    vars[i].value, (int)slen, sfx, TMPL_IDENT_MAX);
			return TMPL_ERROR;
		}
		if (quote(arg, ident, out) != TMPL_OK) {
			snprintf(err, errlen, "line %lu: cannot quote \"%s\"",
			    line_at(sql, p), ident);
			return TMPL_ERROR;
		}
		p = sfx + slen;
	}
	if (buf_failed(out)) {
		snprintf(err, errlen, "out of memory");
		return TMPL_ERROR;
	}
	return TMPL_OK;
}
