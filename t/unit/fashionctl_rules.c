/*
 * fashionctl_rules.c - TAP tests of the derived-field rules
 * (src/fashionctl/rules.c, documented in doc/DATA.md).  The pinned prices
 * were computed independently from the documented formula: if one changes,
 * the rule changed and doc/DATA.md must change with it.
 */
#include <stdio.h>
#include <string.h>

#include "rules.h"
#include "fctl_tap.h"

static const char *
cand(const char *name)
{
	static char out[256];

	return rules_brand_candidate(name, out, sizeof(out)) ? out : NULL;
}

int
main(void)
{
	struct brands *b;
	char buf[256];
	long id, p;
	int i, bad;

	/* price */
	tap_ok(rules_id_hash(15970) == 3819455129UL, "FNV-1a of \"15970\"");
	tap_ok(rules_price("Apparel", "Topwear", 15970) == 149900,
	    "15970 Topwear: 1499.00");
	tap_ok(rules_price("Apparel", "Bottomwear", 39386) == 109900,
	    "39386 Bottomwear: 1099.00");
	tap_ok(rules_price("Accessories", "Watches", 59263) == 469900,
	    "59263 Watches: 4699.00");
	tap_ok(rules_price("Personal Care", "Nails", 1) == 19900,
	    "1 Nails: 199.00");
	tap_ok(rules_price("Footwear", "Sandal", 28319) == 164900,
	    "28319 Sandal: 1649.00");
	tap_ok(rules_price("Footwear", "No Such Sub", 28319) ==
	    rules_price("Apparel", "Eyewear", 28319),
	    "unknown subCategory: masterCategory band (Footwear = Eyewear = 1999)");
	tap_ok(rules_price("X", "Y", 7) == rules_price(NULL, NULL, 7) &&
	    rules_price("X", "Y", 7) ==
	    rules_price("Apparel", "Loungewear and Nightwear", 7),
	    "unknown bands: the default 999");
	bad = 0;
	for (id = 1; id <= 60000; id++) {
		p = rules_price("Free Items", "Free Gifts", id);
		if (p % 100 != 0 || p / 100 < 49 ||
		    !(p / 100 % 100 == 49 || p / 100 % 100 == 99))
			bad++;
		p = rules_price("Accessories", "Watches", id);
		if (p % 100 != 0 || p / 100 < 3999 * 6 / 10 - 25 ||
		    p / 100 > 3999 * 18 / 10 + 25 ||
		    !(p / 100 % 100 == 49 || p / 100 % 100 == 99))
			bad++;
	}
	tap_ok(bad == 0, "prices: >= 49, whole rupees ending in 49/99, within "
	    "0.6..1.8 of the base (%d bad)", bad);

	/* brand candidates */
	tap_is(cand("Turtle Check Men Navy Blue Shirt"), "Turtle Check",
	    "two words before Men");
	tap_is(cand("Titan Women Silver Watch"), "Titan", "one word");
	tap_is(cand("Scullers For Her Grey Trousers"), "Scullers", "For Her");
	tap_is(cand("Gini and Jony Girls Pink Top"), "Gini and Jony", "Girls");
	tap_is(cand("United Colors of Benetton Men Red Sweater"),
	    "United Colors of Benetton", "four words");
	tap_is(cand("A B C D E Men Shirt"), NULL, "five words: none");
	tap_is(cand("Men Black Shirt"), NULL, "audience word first: none");
	tap_is(cand("Colorbar Soft Touch Lipstick"), NULL, "no audience: none");
	tap_is(cand("Doodle  Boy's   Kidswear"), "Doodle", "extra blanks");
	tap_is(cand("Nike men's Shoe"), "Nike", "case-insensitive audience");

	/* the dictionary */
	b = brands_new();
	tap_ok(b != NULL, "brands_new");
	for (i = 0; i < 3; i++) {
		brands_learn(b, "Red Tape Men Black Shoes");
		brands_learn(b, "Red Tape Black Men Shoes");
		brands_learn(b, "Turtle Men Shirt");
		brands_learn(b, "Turtle Check Men Navy Blue Shirt");
		brands_learn(b, "Lee Cooper Men Shoes");
	}
	brands_learn(b, "ADIDAS Men Shoe");
	brands_learn(b, "ADIDAS Women Shoe");
	brands_learn(b, "Adidas Men Shoe");
	brands_learn(b, "Rare Men Shirt");
	brands_learn(b, "Rare Men Shirt");
	tap_ok(brands_finish(b) == 6, "dictionary: Red Tape, Red Tape Black, "
	    "Turtle, Turtle Check, Lee Cooper, ADIDAS");
	tap_is(brands_match(b, "Turtle Check Men Navy Blue Shirt", buf,
	    sizeof(buf)), "Turtle", "shortest entry wins (15970)");
	tap_is(brands_match(b, "Red Tape Black Men Shoes", buf, sizeof(buf)),
	    "Red Tape", "colour after the brand dropped");
	tap_is(brands_match(b, "Lee Cooper Women Boots", buf, sizeof(buf)),
	    "Lee Cooper", "two-word entry");
	tap_is(brands_match(b, "adidas Black Shoe", buf, sizeof(buf)), "ADIDAS",
	    "case-insensitive, most frequent spelling, no audience word needed");
	tap_is(brands_match(b, "Rare Men Shirt", buf, sizeof(buf)), "Rare",
	    "not in the dictionary: the name's own candidate");
	tap_is(brands_match(b, "Colorbar Soft Touch Lipstick", buf, sizeof(buf)),
	    NULL, "neither: no brand");
	tap_is(brands_match(b, "Turtle", buf, sizeof(buf)), NULL,
	    "a brand alone is not a name");
	tap_is(brands_match(b, "Turtles Men Shirt", buf, sizeof(buf)), "Turtles",
	    "whole words only");
	brands_free(b);

	return tap_done();
}
