/*
 * fuzz_query.c - libFuzzer harness for the untrusted-input parsers of a
 * request: query string (percent-decoding, UTF-8, limits), path decoding
 * and the number parsers.  Built and run briefly by t/70-fuzz.t.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request r;
	char err[128], *s, *out = NULL;
	long long ll;
	double d;
	int i;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	memset(&r, 0, sizeof(r));
	(void)query_parse(&r, s, err, sizeof(err));
	for (i = 0; i < r.nparams; i++) {
		free(r.params[i].name);
		free(r.params[i].value);
	}
	if (percent_decode(s, strlen(s), &out, 0) == REQ_OK)
		free(out);
	(void)parse_int(s, -1000, 1000, &ll);
	(void)parse_price(s, &d);
	(void)utf8_valid((const char *)data, size);
	free(s);
	return 0;
}
