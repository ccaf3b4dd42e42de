/*
 * fuzz_invocation.c - libFuzzer harness for the invocation body parser of
 * fashion-clipd (JSON in every scoring format, base64 images) with small
 * limits, checking what a caller relies on; and for base64_decode() alone,
 * with a round trip.  Built and run briefly by t/70-fuzz.t:
 *   clang -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -Isrc \
 *     src/clipd/fuzz_invocation.c src/clipd/invocation.c \
 *     src/clipd/base64.c src/buf.c $(pkg-config --cflags --libs json-c)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clipd/base64.h"
#include "clipd/image.h"
#include "clipd/invocation.h"
#include "clipd/tokenize.h"

#define MAX_ROWS	8
#define MAX_TEXT	64
#define MAX_IMAGE	1024

static volatile unsigned int sink;

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char sym[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Encode IN (LEN bytes) without padding into OUT (4 * len / 3 + 4). */
static size_t
encode(const unsigned char *in, size_t len, char *out)
{
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = sym[v >> 18 & 63];
		out[o++] = sym[v >> 12 & 63];
		out[o++] = sym[v >> 6 & 63];
		out[o++] = sym[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = sym[v >> 18 & 63];
		out[o++] = sym[v >> 12 & 63];
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = sym[v >> 18 & 63];
		out[o++] = sym[v >> 12 & 63];
		out[o++] = sym[v >> 6 & 63];
	}
	return o;
}

static void
check_base64(const uint8_t *data, size_t len)
{
	unsigned char *out = NULL, *again = NULL;
	char *enc = NULL;
	size_t n, n2, elen;

	if (base64_decode((const char *)data, len, &out, &n) != BASE64_OK) {
		if (out != NULL || n != 0)
			abort();
		return;
	}
	if (out == NULL || n > len)
		abort();
	if ((enc = malloc(n / 3 * 4 + 4)) == NULL)
		goto out;
	elen = encode(out, n, enc);
	if (base64_decode(enc, elen, &again, &n2) != BASE64_OK)
		abort();
	if (n2 != n || memcmp(out, again, n) != 0)
		abort();
out:
	free(again);
	free(enc);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static uint32_t ids[TOK_MAX_FEATURES];
	static unsigned char px[IMG_BYTES];
	char why[256];
	struct invocation inv;
	const struct inv_row *r;
	char msg[128];
	size_t i, j;
	int status = 0;

	memset(msg, 'x', sizeof(msg));
	if (invocation_parse((const char *)data, len, MAX_ROWS, MAX_TEXT,
	    MAX_IMAGE, &inv, &status, msg, sizeof(msg)) != INV_OK) {
		if (inv.rows != NULL || inv.n != 0 || memchr(msg, '\0',
		    sizeof(msg)) == NULL || msg[0] == '\0' ||
		    (status != 400 && status != 413 && status != 500))
			abort();
	} else {
		if (inv.n == 0 || inv.n > MAX_ROWS || inv.rows == NULL)
			abort();
		for (i = 0; i < inv.n; i++) {
			r = &inv.rows[i];
			if (r->kind == INV_TEXT) {
				if (r->text == NULL || r->image != NULL ||
				    r->text_len == 0 ||
				    r->text_len > MAX_TEXT ||
				    strlen(r->text) != r->text_len ||
				    r->text[0] == ' ' ||
				    r->text[r->text_len - 1] == ' ')
					abort();
				/* The tokenizer sees what the model sees. */
				if (tokenize(r->text, r->text_len, 32768, ids,
				    TOK_MAX_FEATURES) > TOK_MAX_FEATURES)
					abort();
			} else if (r->kind == INV_IMAGE) {
				if (r->image == NULL || r->text != NULL ||
				    r->image_len == 0 ||
				    r->image_len > MAX_IMAGE)
					abort();
				/* Touch every byte for ASan. */
				for (j = 0; j < r->image_len; j++)
					sink += r->image[j];
				/* Then the decoder (JPEG/PNG) and the resize. */
				(void)image_prepare(r->image, r->image_len, px,
				    why, sizeof(why));
			} else
				abort();
		}
	}
	invocation_free(&inv);
	check_base64(data, len);
	return 0;
}
