/* base64.c - see base64.h */
#include <stdlib.h>

#include "base64.h"

#define B64_BAD		0xff	/* not a symbol */
#define B64_SPACE	0xfe	/* ignored */
#define B64_PAD		0xfd	/* "=" */

#define ALPHA_STD	0x01	/* saw "+" or "/" */
#define ALPHA_URL	0x02	/* saw "-" or "_" */

/* Value of byte C, or one of the B64_ markers above. */
static unsigned char
b64_value(unsigned char c, int *alpha)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	switch (c) {
	case '+':
		*alpha |= ALPHA_STD;
		return 62;
	case '/':
		*alpha |= ALPHA_STD;
		return 63;
	case '-':
		*alpha |= ALPHA_URL;
		return 62;
	case '_':
		*alpha |= ALPHA_URL;
		return 63;
	case '=':
		return B64_PAD;
	case ' ': case '\t': case '\n': case '\v': case '\f': case '\r':
		return B64_SPACE;
	default:
		return B64_BAD;
	}
}

/*
 * First pass: check IN and count its symbols into *NSYM.  Returns
 * BASE64_OK or BASE64_ERROR.
 */
static int
b64_scan(const char *in, size_t len, size_t *nsym)
{
	size_t i, n = 0, npad = 0;
	unsigned char v;
	int alpha = 0;

	for (i = 0; i < len; i++) {
		v = b64_value((unsigned char)in[i], &alpha);
		if (v == B64_BAD)
			return BASE64_ERROR;
		if (v == B64_SPACE)
			continue;
		if (v == B64_PAD) {
			npad++;
			continue;
		}
		if (npad > 0)
			return BASE64_ERROR;	/* data after padding */
		n++;
	}
	if (alpha == (ALPHA_STD | ALPHA_URL))
		return BASE64_ERROR;		/* two alphabets */
	if (n % 4 == 1)
		return BASE64_ERROR;		/* no encoding ends like that */
	if (npad > 0 && (n % 4 == 0 || n % 4 + npad != 4))
		return BASE64_ERROR;		/* wrong amount of padding */
	*nsym = n;
	return BASE64_OK;
}

int
base64_decode(const char *in, size_t len, unsigned char **out,
    size_t *outlen)
{
	unsigned char *dst = NULL, v;
	size_t i, nsym, need, o = 0;
	unsigned int acc = 0;
	int alpha = 0, bits = 0;

	*out = NULL;
	*outlen = 0;
	if (b64_scan(in, len, &nsym) != BASE64_OK)
		return BASE64_ERROR;
	/* 3 bytes per 4 symbols, 1 per 2 and 2 per 3 left over; no overflow. */
	need = nsym / 4 * 3 + (nsym % 4 == 0 ? 0 : nsym % 4 - 1);
	if ((dst = malloc(need > 0 ? need : 1)) == NULL)
		return BASE64_NOMEM;
	for (i = 0; i < len; i++) {
		v = b64_value((unsigned char)in[i], &alpha);
		if (v == B64_SPACE || v == B64_PAD)
			continue;
		acc = (acc << 6 | v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= need)
				goto fail;	/* cannot happen: scanned */
			dst[o++] = (acc >> bits) & 0xff;
		}
	}
	if (o != need)
		goto fail;
	*out = dst;
	*outlen = o;
	return BASE64_OK;
fail:
	free(dst);
	return BASE64_ERROR;
}
