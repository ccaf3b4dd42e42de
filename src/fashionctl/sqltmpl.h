/*
 * sqltmpl.h - expand the identifier placeholders of the sql/ schema files.
 *
 * "{{name}}" becomes the quoted identifier configured for NAME.  Identifier
 * characters right after the placeholder belong to the same identifier:
 * "{{products}}_gender_idx" with products = "productsdb" becomes the one
 * quoted identifier "productsdb_gender_idx".  Text inside -- comments and
 * '...' literals is copied unchanged.
 */
#ifndef FASHIONCTL_SQLTMPL_H
#define FASHIONCTL_SQLTMPL_H

#include <stddef.h>

#include "buf.h"

#define TMPL_OK		 0
#define TMPL_ERROR	-1

#define TMPL_IDENT_MAX	63	/* Postgres NAMEDATALEN - 1 */

struct tmpl_var {
	const char	*name;		/* placeholder name */
	const char	*value;		/* unquoted identifier, "" = not configured */
};

/* Quote IDENT into OUT; TMPL_OK or TMPL_ERROR. */
typedef int (*tmpl_quote_fn)(void *arg, const char *ident, struct buf *out);

/*
 * Expand SQL into OUT.  Unknown or unconfigured placeholders, unterminated
 * "{{" and identifiers longer than TMPL_IDENT_MAX are errors (message in
 * ERR).
 */
int	sqltmpl_expand(const char *sql, const struct tmpl_var *vars,
	    size_t nvars, tmpl_quote_fn quote, void *arg, struct buf *out,
	    char *err, size_t errlen);

#endif
