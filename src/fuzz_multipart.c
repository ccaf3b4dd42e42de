/*
 * fuzz_multipart.c - libFuzzer harness for the multipart/form-data parser.
 * The input is a Content-Type header value, a LF, then the body: the
 * boundary comes from multipart_boundary(), or is "X" when that refuses
 * the header, so the body is fuzzed either way.  After MP_OK it checks
 * that every part lies inside the body and reads all of it, so ASan sees
 * a part that does not.  Built and run briefly by t/70-fuzz.t.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_form form;
	const struct mp_part *p, *q;
	const uint8_t *nl;
	unsigned char *body = NULL;
	char *ct = NULL, bd[MP_BOUNDARY_MAX + 1], msg[128];
	size_t hlen, blen, i;
	unsigned sum = 0;
	int k;

	if ((nl = memchr(data, '\n', size)) == NULL)
		return 0;
	hlen = (size_t)(nl - data);
	blen = size - hlen - 1;
	/* Exact-size copies, so a read past either end is caught. */
	if ((ct = malloc(hlen + 1)) == NULL ||
	    (body = malloc(blen > 0 ? blen : 1)) == NULL)
		goto out;
	memcpy(ct, data, hlen);
	ct[hlen] = '\0';
	memcpy(body, nl + 1, blen);

	if (multipart_boundary(ct, bd, sizeof(bd), msg, sizeof(msg)) !=
	    MP_OK) {
		if (msg[0] == '\0')
			abort();
		memcpy(bd, "X", 2);
	} else if (bd[0] == '\0' || strlen(bd) > MP_BOUNDARY_MAX)
		abort();

	if (multipart_parse(body, blen, bd, &form, msg, sizeof(msg)) !=
	    MP_OK) {
		if (msg[0] == '\0' || form.nparts != 0)
			abort();
		goto out;
	}
	if (form.nparts < 0 || form.nparts > MP_MAX_PARTS)
		abort();
	for (k = 0; k < form.nparts; k++) {
		p = &form.parts[k];
		if (p->name[0] == '\0' || p->data < body ||
		    p->len > blen || (size_t)(p->data - body) > blen - p->len)
			abort();
		for (i = 0; i < p->len; i++)
			sum += p->data[i];
		if (strlen(p->filename) >= sizeof(p->filename) ||
		    strlen(p->content_type) >= sizeof(p->content_type))
			abort();
		if ((q = multipart_get(&form, p->name)) == NULL || q > p)
			abort();	/* the first of that name */
	}
	if (sum == 0xffffffffU)
		msg[0] = '\0';
out:
	free(ct);
	free(body);
	return 0;
}
