/* auth.c - see auth.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "auth.h"
#include "handlers.h"
#include "log.h"

/* The value of cookie NAME in R's Cookie header into OUT, or -1. */
static int
cookie_value(const struct request *r, const char *name, char *out,
    size_t outlen)
{
	const char *h = request_env(r, "HTTP_COOKIE"), *p, *v, *e;
	size_t nl = strlen(name), vl;

	for (p = h; p != NULL && *p != '\0'; p = e + (*e != '\0')) {
		while (*p == ' ' || *p == '\t')
			p++;
		e = p + strcspn(p, ";");
		if ((size_t)(e - p) > nl && strncmp(p, name, nl) == 0 &&
		    p[nl] == '=') {
			v = p + nl + 1;
			vl = (size_t)(e - v);
			while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				vl--;
			if (vl >= outlen)
				return -1;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return 0;
		}
	}
	return -1;
}

/* "\x<hex of SHA-256(TOKEN)>" for a bytea parameter, from the cookie. */
static int
session_key(const struct request *r, char key[AUTH_KEY_LEN + 1])
{
	unsigned char raw[32], h[crypto_hash_sha256_BYTES];
	char cookie[64];
	size_t n;

	if (cookie_value(r, AUTH_COOKIE, cookie, sizeof(cookie)) != 0 ||
	    sodium_base642bin(raw, sizeof(raw), cookie, strlen(cookie), NULL,
	    &n, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != sizeof(raw))
		return -1;
	crypto_hash_sha256(h, raw, sizeof(raw));
	key[0] = '\\';
	key[1] = 'x';
	sodium_bin2hex(key + 2, 65, h, sizeof(h));
	return 0;
}

int
auth_session_user(struct request *r, struct app *app, long long *uid)
{
	const struct profile *p = app->cfg->active;
	const char *vals[1];
	char key[AUTH_KEY_LEN + 1], sql[256];
	PGresult *res;
	int rc;

	if (session_key(r, key) != 0)
		return AUTH_NONE;
	snprintf(sql, sizeof(sql), "SELECT user_id FROM \"%s\".\"%s\" WHERE "
	    "token_hash = $1::bytea AND expires_at > now()", p->schema,
	    p->sessions);
	vals[0] = key;
	if ((res = db_query(&app->db, sql, 1, vals, &rc)) == NULL) {
		reply_db_error(r, rc);
		return AUTH_ERROR;
	}
	rc = AUTH_NONE;
	if (PQntuples(res) == 1) {
		*uid = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		rc = AUTH_OK;
	}
	PQclear(res);
	return rc;
}

int
auth_require(struct request *r, struct app *app, long long *uid)
{
	int rc = auth_session_user(r, app, uid);

	if (rc == AUTH_NONE)
		request_error(r, 401, "unauthenticated", "sign in first");
	return rc == AUTH_OK ? 0 : -1;
}

int
auth_require_self(struct request *r, struct app *app, long long *uid)
{
	long long id;

	if (parse_int(r->captures[0], 1, 9223372036854775807LL, &id) !=
	    REQ_OK) {
		request_error(r, 400, "invalid_id", "user id must be a positive "
		    "integer");
		return -1;
	}
	if (auth_require(r, app, uid) != 0)
		return -1;
	if (*uid != id) {
		request_error(r, 403, "forbidden", "this is another shopper's "
		    "data");
		return -1;
	}
	return 0;
}

/*
 * The host name of "scheme://host[:port][/...]" (U) or of "host[:port]"
 * (U without "://"), into OUT without the port; -1 if none.  IPv6
 * literals keep their brackets.
 */
static int
host_name(const char *u, char *out, size_t len)
{
	const char *s = strstr(u, "://");
	size_t n;

	if (s != NULL && (size_t)(s - u) > 5)
		return -1;
	s = s != NULL ? s + 3 : u;
	if (*s == '[')
		n = strcspn(s, "]") + 1;
	else
		n = strcspn(s, ":/?#");
	if (n == 0 || n >= len || (s[0] == '[' && s[n - 1] != ']'))
		return -1;
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

int
auth_check_origin(struct request *r)
{
	const char *host = request_env(r, "HTTP_HOST");
	const char *o = request_env(r, "HTTP_ORIGIN");
	char a[256], b[256];

	if (o == NULL || o[0] == '\0' || strcmp(o, "null") == 0)
		o = request_env(r, "HTTP_REFERER");
	if (host != NULL && o != NULL && strstr(o, "://") != NULL &&
	    host_name(o, a, sizeof(a)) == 0 &&
	    host_name(host, b, sizeof(b)) == 0 && strcasecmp(a, b) == 0)
		return 0;
	request_error(r, 403, "csrf", "cross-site request refused: the Origin "
	    "(or Referer) header must name this site");
	return -1;
}

int
auth_hash_password(const char *pw, size_t len, char out[AUTH_HASH_MAX])
{
	if (sodium_init() < 0)
		return -1;
	return crypto_pwhash_str(out, pw, len,
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0 ? 0 : -1;
}

int
auth_verify_password(const char *hash, const char *pw, size_t len)
{
	static char dummy[AUTH_HASH_MAX];

	if (sodium_init() < 0)
		return 0;
	if (hash == NULL) {
		/* Unknown account: spend the same time on a hash of our own. */
		if (dummy[0] == '\0' &&
		    auth_hash_password("not a password", 14, dummy) != 0)
			return 0;
		if (crypto_pwhash_str_verify(dummy, pw, len) == 0)
			log_crit("the dummy hash matched a password");
		return 0;
	}
	return crypto_pwhash_str_verify(hash, pw, len) == 0;
}

int
auth_new_session(char token[AUTH_TOKEN_LEN + 1], char key[AUTH_KEY_LEN + 1])
{
	unsigned char raw[32], h[crypto_hash_sha256_BYTES];

	if (sodium_init() < 0)
		return -1;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(token, AUTH_TOKEN_LEN + 1, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	crypto_hash_sha256(h, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	key[0] = '\\';
	key[1] = 'x';
	sodium_bin2hex(key + 2, 65, h, sizeof(h));
	return 0;
}

int
auth_session_key(const struct request *r, char key[AUTH_KEY_LEN + 1])
{
	return session_key(r, key);
}

void
auth_set_cookie(struct request *r, const char *token)
{
	if (token != NULL)
		request_header(r, "Set-Cookie", "%s=%s; Max-Age=%ld; Path=/; "
		    "HttpOnly; Secure; SameSite=Lax", AUTH_COOKIE, token,
		    AUTH_SESSION_TTL);
	else
		request_header(r, "Set-Cookie", "%s=; Max-Age=0; Path=/; "
		    "HttpOnly; Secure; SameSite=Lax", AUTH_COOKIE);
}
