/* fashionctl_csv.c - TAP tests of the styles.csv reader (src/fashionctl/csv.c). */
#include <stdio.h>
#include <string.h>

#include "csv.h"
#include "fctl_tap.h"

static int
next(struct csv *c, struct csv_row *r)
{
	return csv_next(c, r);
}

int
main(void)
{
	struct csv c;
	struct csv_row r;
	const char *in;
	char big[512];
	size_t i;

	in = "id,name\n1,plain\n";
	csv_init(&c, in, strlen(in));
	tap_ok(next(&c, &r) == CSV_ROW && r.nfields == 2, "header: 2 fields");
	tap_is(r.field[1], "name", "header field");
	tap_ok(next(&c, &r) == CSV_ROW && r.nfields == 2 && r.flags == 0 &&
	    r.line == 2, "plain row on line 2");
	tap_is(r.field[1], "plain", "plain field");
	tap_ok(next(&c, &r) == CSV_EOF, "EOF");
	tap_ok(next(&c, &r) == CSV_EOF, "EOF again");
	csv_free(&c);

	in = "1,\"a, b\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n2,x\n";
	csv_init(&c, in, strlen(in));
	tap_ok(next(&c, &r) == CSV_ROW && r.nfields == 4 && r.flags == 0,
	    "quoted fields: 4 fields, no flags");
	tap_is(r.field[1], "a, b", "comma inside quotes");
	tap_is(r.field[2], "say \"hi\"", "\"\" is a quote");
	tap_is(r.field[3], "two\nlines", "newline inside quotes");
	tap_ok(next(&c, &r) == CSV_ROW && r.line == 3 && r.nfields == 2,
	    "CRLF ends the row; next row starts on line 3");
	csv_free(&c);

	in = "\n\n1,a\n\r\n\n2,b";
	csv_init(&c, in, strlen(in));
	tap_ok(next(&c, &r) == CSV_ROW && r.line == 3, "blank lines skipped");
	tap_ok(next(&c, &r) == CSV_ROW && r.line == 6 && r.nfields == 2,
	    "last row without newline");
	tap_is(r.field[1], "b", "its field");
	tap_ok(next(&c, &r) == CSV_EOF, "then EOF");
	csv_free(&c);

	in = "1,,x,\n";
	csv_init(&c, in, strlen(in));
	tap_ok(next(&c, &r) == CSV_ROW && r.nfields == 4 && r.flen[1] == 0 &&
	    r.flen[3] == 0, "empty fields, trailing comma");
	csv_free(&c);

	/* The real file's two bare quotes. */
	in = "7491,Women,Apparel,Bottomwear,Shorts,Pink,Summer,2011,Sports,"
	    "Nike Women's EM Tempo 3.5\" Pink Short\n";
	csv_init(&c, in, strlen(in));
	tap_ok(next(&c, &r) == CSV_ROW && r.nfields == 10 &&
	    r.flags == CSV_BAREQUOTE, "bare quote flagged, 10 fields");
	tap_is(r.field[9], "Nike Women's EM Tempo 3.5\" Pink Short",
	    "bare quote kept literally");
	csv_free(&c);

	/* An unquoted comma in the display name. */
	in = "44065,Women,Accessories,Jewellery,Earrings,Silver,Summer,2012,"
	    "Casual,Cobblerz Women Set of 2, Silver Earrings\n";
	csv_init(&c, in, strlen(in));
	tap_ok(next(&c, &r) == CSV_ROW && r.nfields == 11 && r.flags == 0,
	    "unquoted comma: 11 fields");
	csv_free(&c);

	in = "1,\"ab\"cd,2\n3,\"open\n";
	csv_init(&c, in, strlen(in));
	tap_ok(next(&c, &r) == CSV_ROW && (r.flags & CSV_JUNK) &&
	    r.nfields == 3, "text after closing quote flagged");
	tap_is(r.field[1], "abcd", "junk kept");
	tap_ok(next(&c, &r) == CSV_ROW && (r.flags & CSV_UNTERM) &&
	    r.nfields == 2, "unterminated quote flagged");
	tap_ok(next(&c, &r) == CSV_EOF, "EOF after unterminated");
	csv_free(&c);

	for (i = 0; i < 99; i++)
		big[i] = ',';
	big[99] = '\n';
	csv_init(&c, big, 100);
	tap_ok(next(&c, &r) == CSV_ROW && r.nfields == 100 &&
	    r.field[CSV_MAXFIELDS - 1] != NULL, "100 fields counted, first "
	    "CSV_MAXFIELDS kept");
	csv_free(&c);

	in = "a\0b,c\n";
	csv_init(&c, in, 6);
	tap_ok(next(&c, &r) == CSV_ROW && r.flen[0] == 3 && r.nfields == 2,
	    "NUL byte kept, length says so");
	csv_free(&c);

	in = "\"\"\"\"";
	csv_init(&c, in, strlen(in));
	tap_ok(next(&c, &r) == CSV_ROW && r.nfields == 1 && r.flags == 0,
	    "\"\"\"\" at EOF");
	tap_is(r.field[0], "\"", "is one quote");
	csv_free(&c);

	return tap_done();
}
