/* fashionctl_sqltmpl.c - TAP tests of the schema-file placeholder expansion. */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "sqltmpl.h"
#include "fctl_tap.h"

static int
quote(void *arg, const char *ident, struct buf *out)
{
	(void)arg;
	buf_printf(out, "\"%s\"", ident);
	return TMPL_OK;
}

static const struct tmpl_var vars[] = {
	{ "schema", "fashion_demo" },
	{ "products", "productsdb" },
	{ "embeddings", "" },
	{ "long", "a_name_of_exactly_fifty_characters_xxxxxxxxxxxxxxx" },
};

/* Expand IN; the result, or "ERROR: ..." */
static const char *
expand(const char *in)
{
	static char res[1024];
	struct buf out;
	char err[256];

	buf_init(&out);
	if (sqltmpl_expand(in, vars, sizeof(vars) / sizeof(vars[0]), quote,
	    NULL, &out, err, sizeof(err)) != TMPL_OK)
		snprintf(res, sizeof(res), "ERROR: %s", err);
	else
		snprintf(res, sizeof(res), "%s", out.len ? out.data : "");
	buf_free(&out);
	return res;
}

int
main(void)
{
	tap_is(expand("CREATE TABLE {{schema}}.{{products}} (x int);"),
	    "CREATE TABLE \"fashion_demo\".\"productsdb\" (x int);",
	    "schema-qualified table");
	tap_is(expand("CREATE INDEX {{products}}_gender_idx ON t"),
	    "CREATE INDEX \"productsdb_gender_idx\" ON t",
	    "suffix joins the identifier");
	tap_is(expand("{{products}}.x"), "\"productsdb\".x",
	    "'.' ends the identifier");
	tap_is(expand("-- {{nope}} in a comment\nSELECT 1"),
	    "-- {{nope}} in a comment\nSELECT 1", "comments untouched");
	tap_is(expand("SELECT '{{nope}}', 'it''s {{x}}'"),
	    "SELECT '{{nope}}', 'it''s {{x}}'", "literals untouched");
	tap_is(expand("{{nope}}"), "ERROR: line 1: unknown placeholder {{nope}}",
	    "unknown placeholder");
	tap_is(expand("\n{{embeddings}}"),
	    "ERROR: line 2: {{embeddings}} is used but not configured",
	    "unconfigured placeholder");
	tap_is(expand("{{schema"), "ERROR: line 1: \"{{\" without \"}}\"",
	    "unterminated placeholder");
	tap_ok(strncmp(expand("{{long}}_and_more_than_63_bytes"), "ERROR: "
	    "line 1: identifier", 25) == 0, "identifier over 63 bytes");
	tap_is(expand("{{long}}_and_less_063"),
	    "\"a_name_of_exactly_fifty_characters_xxxxxxxxxxxxxxx_and_less_063\"",
	    "identifier of 63 bytes");
	tap_is(expand("SELECT 'open"), "ERROR: line 1: unterminated string "
	    "literal", "unterminated literal");
	tap_is(expand(""), "", "empty input");
	return tap_done();
}
