/*
 * auth.h - shoppers' passwords and sessions for fashiond (issue 5).
 *
 * Passwords: Argon2id through libsodium's crypto_pwhash_str (interactive
 * limits), AUTH_PW_MIN..AUTH_PW_MAX bytes, never logged.
 * Sessions: a 256-bit random token, sent to the browser once as the
 * cookie AUTH_COOKIE (HttpOnly; Secure; SameSite=Lax; Path=/); the
 * database keeps only its SHA-256 (profile's sessions table) with an
 * expiry of AUTH_SESSION_TTL seconds.  Logout deletes the row; an expired
 * row is refused (and deleted).
 * State-changing requests (POST, PUT, DELETE) must come from the site:
 * their Origin header, or failing that their Referer, must name the host
 * the request was sent to (HTTP_HOST); otherwise 403 "csrf".  Host names
 * are compared, not ports: nginx passes $host, which has none (and
 * SameSite cookies do not tell ports apart either).
 */
#ifndef FASHION_AUTH_H
#define FASHION_AUTH_H

#include <stddef.h>

#include "request.h"

struct app;

#define AUTH_COOKIE		"fashion_session"
#define AUTH_SESSION_TTL	(7L * 24 * 3600)	/* seconds */
#define AUTH_PW_MIN		10	/* bytes of a password */
#define AUTH_PW_MAX		256

#define AUTH_OK		 0
#define AUTH_NONE	-1	/* no session: no cookie, unknown, expired */
#define AUTH_ERROR	-2	/* database trouble: the response is set */

/*
 * The signed-in user of R into *UID: AUTH_OK, AUTH_NONE, or AUTH_ERROR
 * (503/500 already set in R).
 */
int	auth_session_user(struct request *r, struct app *app, long long *uid);

/*
 * For handlers that need a user: 0 with *UID, or -1 with the response set
 * (401 "unauthenticated" without a valid session, or the database error).
 */
int	auth_require(struct request *r, struct app *app, long long *uid);

/*
 * For handlers of /users/{id}/...: auth_require, then 403 "forbidden"
 * unless the session's user is the path's ID (r->captures[0]; 400
 * "invalid_id" when it is not a number).  0 with *UID, or -1 (set).
 */
int	auth_require_self(struct request *r, struct app *app, long long *uid);

/* 0 when R may change state (see above), else -1 with 403 "csrf" set. */
int	auth_check_origin(struct request *r);

/* For the auth handlers. */
#define AUTH_HASH_MAX	128	/* crypto_pwhash_STRBYTES */
#define AUTH_TOKEN_LEN	43	/* base64url of 32 bytes, no padding */
#define AUTH_KEY_LEN	66	/* "\x" + hex of the token's SHA-256 */

/* Argon2id hash of PW (LEN bytes) into OUT; 0, or -1 (out of memory). */
int	auth_hash_password(const char *pw, size_t len, char out[AUTH_HASH_MAX]);
/*
 * 1 when PW matches HASH.  HASH NULL (no such account) verifies against a
 * hash of its own and answers 0, so both failures take the same time.
 */
int	auth_verify_password(const char *hash, const char *pw, size_t len);
/* A new random session TOKEN (for the cookie) and its KEY (for SQL). */
int	auth_new_session(char token[AUTH_TOKEN_LEN + 1],
	    char key[AUTH_KEY_LEN + 1]);
/* KEY of the session cookie R carries; -1 when it has none. */
int	auth_session_key(const struct request *r, char key[AUTH_KEY_LEN + 1]);
/* Set-Cookie for TOKEN, or one that clears the cookie (TOKEN NULL). */
void	auth_set_cookie(struct request *r, const char *token);

#endif
