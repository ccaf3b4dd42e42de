/*
 * fuzz_csv.c - libFuzzer harness for the styles.csv reader and the brand
 * rule (both see untrusted catalog files).  Build:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/fashionctl \
 *     src/fashionctl/fuzz_csv.c src/fashionctl/csv.c src/fashionctl/rules.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct csv c;
	struct csv_row r;
	struct brands *b;
	char buf[256];
	size_t i, n;
	int rc, rows = 0;

	if ((b = brands_new()) == NULL)
		return 0;
	csv_init(&c, (const char *)data, len);
	while ((rc = csv_next(&c, &r)) == CSV_ROW) {
		n = r.nfields < CSV_MAXFIELDS ? r.nfields : CSV_MAXFIELDS;
		for (i = 0; i < n; i++) {
			if (r.field[i][r.flen[i]] != '\0' || r.flen[i] > len)
				abort();
			if (strlen(r.field[i]) == r.flen[i]) {
				brands_learn(b, r.field[i]);
				(void)rules_brand_candidate(r.field[i], buf,
				    sizeof(buf));
			}
		}
		if (csv_offset(&c) > len || ++rows > (int)len + 1)
			abort();	/* no progress or overrun */
	}
	csv_free(&c);
	if (brands_finish(b) >= 0) {
		csv_init(&c, (const char *)data, len);
		while (csv_next(&c, &r) == CSV_ROW)
			if (r.nfields > 0 && strlen(r.field[0]) == r.flen[0])
				(void)brands_match(b, r.field[0], buf, sizeof(buf));
	}
	csv_free(&c);
	brands_free(b);
	(void)rules_price((const char *)"Apparel", "Topwear", (long)len);
	return 0;
}
