/*
 * fuzz_jpeg.c - libFuzzer harness for the image validation of migrate
 * (libjpeg-turbo behind a setjmp error manager).  Build:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc/fashionctl \
 *     src/fashionctl/fuzz_jpeg.c src/fashionctl/imgcheck.c -ljpeg
 */
#include <stdint.h>
#include <stdlib.h>

#include "imgcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char why[256];
	int w = 0, h = 0, r;

	r = imgcheck_mem(data, len, &w, &h, why, sizeof(why));
	if (r == IMG_OK && (w < IMG_MINSIDE || w > IMG_MAXSIDE ||
	    h < IMG_MINSIDE || h > IMG_MAXSIDE))
		abort();
	if (r != IMG_OK && r != IMG_BAD)
		abort();
	return 0;
}
