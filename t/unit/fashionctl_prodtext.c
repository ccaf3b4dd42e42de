/* fashionctl_prodtext.c - the product text "fashionctl embed" embeds. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fctl_tap.h"
#include "prodtext.h"

static void
is_text(const char *name, const char *colour, const char *article,
    const char *gender, const char *usage, const char *want, const char *what)
{
	struct prodtext_fields f = { name, colour, article, gender, usage };
	struct buf b;

	buf_init(&b);
	prodtext(&b, &f);
	buf_add(&b, "", 1);
	tap_is(buf_failed(&b) ? NULL : b.data, want, what);
	buf_free(&b);
}

int
main(void)
{
	is_text("Turtle Check Men Navy Blue Shirt", "Navy Blue", "Shirts", "Men",
	    "Casual",
	    "Turtle Check Men Navy Blue Shirt, Navy Blue Shirts for Men, Casual",
	    "all fields");
	is_text("Puma Men Grey T-shirt", "Grey", "Tshirts", "Men", NULL,
	    "Puma Men Grey T-shirt, Grey Tshirts for Men", "no usage (NULL)");
	is_text("Puma Men Grey T-shirt", "Grey", "Tshirts", "Men", "",
	    "Puma Men Grey T-shirt, Grey Tshirts for Men", "no usage (empty)");
	is_text("Lakme Lip Gloss", NULL, "Lip Gloss", "Women", "Casual",
	    "Lakme Lip Gloss, Lip Gloss for Women, Casual", "no colour");
	is_text("Lakme Lip Gloss", "Pink", "", "Women", "Casual",
	    "Lakme Lip Gloss, Pink for Women, Casual", "no article type");
	is_text("Lakme Lip Gloss", "Pink", "Lip Gloss", "", "Casual",
	    "Lakme Lip Gloss, Pink Lip Gloss, Casual", "no gender");
	is_text("Lakme Lip Gloss", "", "", "Women", "",
	    "Lakme Lip Gloss, for Women", "gender only");
	is_text("Lakme Lip Gloss", NULL, "", NULL, "Casual",
	    "Lakme Lip Gloss, Casual", "usage only");
	is_text("Lakme Lip Gloss", NULL, NULL, NULL, NULL, "Lakme Lip Gloss",
	    "name only");
	is_text("", "Red", "Dress", "Women", "Party", "Red Dress for Women, Party",
	    "no name");
	is_text(NULL, NULL, NULL, NULL, NULL, "", "nothing");
	is_text("  Nike  Women's EM Tempo 3.5\" Pink\tShort ", " Pink ",
	    " Shorts", "Women ", "  Sports  ",
	    "Nike Women's EM Tempo 3.5\" Pink Short, Pink Shorts for Women, "
	    "Sports", "whitespace trimmed and collapsed, quotes kept");
	is_text("Name", "  ", "\t", " ", "\n", "Name",
	    "whitespace-only fields count as empty");
	is_text("Fabindia Necklace", "NA", "Necklace and Chains", "Women", "NA",
	    "Fabindia Necklace, NA Necklace and Chains for Women, NA",
	    "NA is kept as written");
	is_text("Catwalk Women Köln Heels", "Black", "Heels", "Women", "Casual",
	    "Catwalk Women Köln Heels, Black Heels for Women, Casual",
	    "UTF-8 passes through");
	return tap_done();
}
