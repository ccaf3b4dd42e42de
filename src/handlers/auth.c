/*
 * auth.c - accounts and sessions (issue 5).
 *
 *   POST /api/v1/auth/signup  {"email", "password", "display_name"}
 *                             -> 201 {"user": {...}} + session cookie
 *   POST /api/v1/auth/login   {"email", "password"} -> 200 {"user"} + cookie
 *   POST /api/v1/auth/logout  -> 200 {"logged_out": bool}, cookie cleared
 *   GET  /api/v1/me           -> 200 {"user": {...}}, 401 without a session
 *
 * E-mail addresses are case-folded (ASCII) and unique.  A login failure is
 * one answer whatever failed (401 "invalid_credentials"), and an unknown
 * address costs the same Argon2id verification as a wrong password.
 * Lockout: from the LOCK_AFTER-th consecutive failure on an account, it
 * is locked for 2^(failures - LOCK_AFTER) seconds, at most LOCK_MAX_S
 * (429 "too_many_attempts" with Retry-After, even for the right password);
 * a success resets the count.  nginx rate-limits /api/v1/auth/ per client
 * address on top (etc/nginx).  Passwords are never logged.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>
#include <sodium.h>

#include "auth.h"
#include "handlers.h"
#include "log.h"

#define EMAIL_MAX	254
#define NAME_MAX_LEN	100
#define LOCK_AFTER	5
#define LOCK_MAX_S	900

#define USER_COLUMNS "user_id, email, display_name, persona, " \
	"to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static void
user_json(struct buf *b, const PGresult *res, int row)
{
	buf_printf(b, "{\"user\":{\"user_id\":%s,\"email\":",
	    PQgetvalue(res, row, 0));
	buf_json_str(b, PQgetvalue(res, row, 1));
	buf_puts(b, ",\"display_name\":");
	buf_json_str(b, PQgetvalue(res, row, 2));
	buf_puts(b, ",\"persona\":");
	if (PQgetisnull(res, row, 3))
		buf_puts(b, "null");
	else
		buf_json_str(b, PQgetvalue(res, row, 3));
	buf_puts(b, ",\"created_at\":");
	buf_json_str(b, PQgetvalue(res, row, 4));
	buf_puts(b, "}}");
}

/* Member NAME of O as a string of MIN..MAX bytes of UTF-8, or NULL (set). */
static const char *
field(struct request *r, struct json_object *o, const char *name,
    size_t min, size_t max, size_t *len)
{
	struct json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, name, &v)) {
		request_error(r, 400, "invalid_parameter", "%s is required",
		    name);
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		request_error(r, 400, "invalid_parameter", "%s must be a string",
		    name);
		return NULL;
	}
	s = json_object_get_string(v);
	*len = (size_t)json_object_get_string_len(v);
	if (*len < min || *len > max || !utf8_valid(s, *len) ||
	    memchr(s, '\0', *len) != NULL) {
		request_error(r, 400, "invalid_parameter", "%s must be %zu to "
		    "%zu bytes of UTF-8 text", name, min, max);
		return NULL;
	}
	return s;
}

/* Only the fields in ALLOWED (NULL-terminated). */
static int
known_fields(struct request *r, struct json_object *o, const char *const *ok)
{
	int i;

	json_object_object_foreach(o, k, v) {
		(void)v;
		for (i = 0; ok[i] != NULL && strcmp(ok[i], k) != 0; i++)
			;
		if (ok[i] == NULL) {
			char shown[80];

			str_shown(k, strlen(k), 64, shown, sizeof(shown));
			request_error(r, 400, "unknown_field", "unknown field %s",
			    shown);
			return -1;
		}
	}
	return 0;
}

/* The e-mail address of O, case-folded, into OUT; -1 with 400 set. */
static int
email_of(struct request *r, struct json_object *o, char out[EMAIL_MAX + 1])
{
	const char *s, *at;
	size_t n, i;

	if ((s = field(r, o, "email", 3, EMAIL_MAX, &n)) == NULL)
		return -1;
	at = memchr(s, '@', n);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			break;
	if (at == NULL || at == s || at == s + n - 1 || i < n ||
	    memchr(at + 1, '@', (size_t)(s + n - at - 1)) != NULL ||
	    memchr(at + 1, '.', (size_t)(s + n - at - 1)) == NULL) {
		request_error(r, 400, "invalid_parameter", "email is not an "
		    "e-mail address");
		return -1;
	}
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[n] = '\0';
	return 0;
}

static const char *
password_of(struct request *r, struct json_object *o, size_t *len)
{
	return field(r, o, "password", AUTH_PW_MIN, AUTH_PW_MAX, len);
}

void
h_signup(struct request *r, struct app *app)
{
	static const char *const ok[] = { "email", "password", "display_name",
	    NULL };
	const struct profile *p = app->cfg->active;
	struct json_object *o;
	char email[EMAIL_MAX + 1], hash[AUTH_HASH_MAX], token[AUTH_TOKEN_LEN + 1],
	    key[AUTH_KEY_LEN + 1], ttl[32], name[NAME_MAX_LEN + 1];
	const char *pw, *dn, *vals[5];
	struct buf sql;
	PGresult *res = NULL;
	size_t pwlen, dnlen, i;
	int rc;

	buf_init(&sql);
	if (auth_check_origin(r) != 0 || (o = json_body(r)) == NULL)
		return;
	if (known_fields(r, o, ok) != 0 || email_of(r, o, email) != 0 ||
	    (pw = password_of(r, o, &pwlen)) == NULL ||
	    (dn = field(r, o, "display_name", 1, NAME_MAX_LEN, &dnlen)) == NULL)
		goto out;
	for (i = 0; i < dnlen; i++)
		if ((unsigned char)dn[i] < ' ' || dn[i] == 0x7f) {
			request_error(r, 400, "invalid_parameter", "display_name "
			    "must not hold control characters");
			goto out;
		}
	memcpy(name, dn, dnlen);
	name[dnlen] = '\0';
	if (auth_hash_password(pw, pwlen, hash) != 0 ||
	    auth_new_session(token, key) != 0) {
		request_error(r, 500, "internal", "out of memory");
		goto out;
	}
	/* One statement: the account and its first session, or neither. */
	buf_printf(&sql, "WITH u AS (INSERT INTO \"%s\".\"%s\" (email, "
	    "display_name, password_hash) VALUES ($1, $2, $3) ON CONFLICT "
	    "(email) DO NOTHING RETURNING *), s AS (INSERT INTO \"%s\".\"%s\" "
	    "(token_hash, user_id, expires_at) SELECT $4::bytea, user_id, "
	    "now() + $5::integer * interval '1 second' FROM u) SELECT %s FROM u",
	    p->schema, p->users, p->schema, p->sessions, USER_COLUMNS);
	snprintf(ttl, sizeof(ttl), "%ld", AUTH_SESSION_TTL);
	vals[0] = email;
	vals[1] = name;
	vals[2] = hash;
	vals[3] = key;
	vals[4] = ttl;
	if ((res = db_query(&app->db, sql.data, 5, vals, &rc)) == NULL) {
		reply_db_error(r, rc);
		goto out;
	}
	if (PQntuples(res) != 1) {
		request_error(r, 409, "email_taken", "an account with this "
		    "e-mail address exists: sign in instead");
		goto out;
	}
	buf_reset(&r->body);
	user_json(&r->body, res, 0);
	r->status = 201;
	auth_set_cookie(r, token);
	log_info("signup: user %s", PQgetvalue(res, 0, 0));
out:
	sodium_memzero(token, sizeof(token));
	PQclear(res);
	buf_free(&sql);
	json_object_put(o);
}

void
h_login(struct request *r, struct app *app)
{
	static const char *const ok[] = { "email", "password", NULL };
	const struct profile *p = app->cfg->active;
	struct json_object *o;
	char email[EMAIL_MAX + 1], token[AUTH_TOKEN_LEN + 1],
	    key[AUTH_KEY_LEN + 1], ttl[32], sql[1024];
	const char *pw, *vals[5];
	PGresult *res = NULL, *res2 = NULL;
	size_t pwlen;
	long locked;
	int rc, good;

	if (auth_check_origin(r) != 0 || (o = json_body(r)) == NULL)
		return;
	if (known_fields(r, o, ok) != 0 || email_of(r, o, email) != 0 ||
	    (pw = password_of(r, o, &pwlen)) == NULL)
		goto out;
	snprintf(sql, sizeof(sql), "SELECT user_id, password_hash, "
	    "coalesce(ceil(extract(epoch FROM locked_until - now())), 0) "
	    "FROM \"%s\".\"%s\" WHERE email = $1", p->schema, p->users);
	vals[0] = email;
	if ((res = db_query(&app->db, sql, 1, vals, &rc)) == NULL) {
		reply_db_error(r, rc);
		goto out;
	}
	good = auth_verify_password(PQntuples(res) ? PQgetvalue(res, 0, 1) :
	    NULL, pw, pwlen);
	if (PQntuples(res) == 0) {
		request_error(r, 401, "invalid_credentials", "e-mail address or "
		    "password is wrong");
		goto out;
	}
	vals[0] = PQgetvalue(res, 0, 0);
	if ((locked = strtol(PQgetvalue(res, 0, 2), NULL, 10)) > 0) {
		request_header(r, "Retry-After", "%ld", locked);
		request_error(r, 429, "too_many_attempts", "too many failed "
		    "sign-ins: try again in %ld s", locked);
		goto out;
	}
	if (!good) {
		snprintf(sql, sizeof(sql), "UPDATE \"%s\".\"%s\" SET "
		    "failed_logins = failed_logins + 1, locked_until = CASE WHEN "
		    "failed_logins + 1 >= %d THEN now() + least(power(2, "
		    "failed_logins + 1 - %d), %d) * interval '1 second' END "
		    "WHERE user_id = $1", p->schema, p->users, LOCK_AFTER,
		    LOCK_AFTER, LOCK_MAX_S);
		if ((res2 = db_query(&app->db, sql, 1, vals, &rc)) == NULL) {
			reply_db_error(r, rc);
			goto out;
		}
		request_error(r, 401, "invalid_credentials", "e-mail address or "
		    "password is wrong");
		goto out;
	}
	if (auth_new_session(token, key) != 0) {
		request_error(r, 500, "internal", "out of memory");
		goto out;
	}
	/* Reset the failures, drop expired sessions, open a new one. */
	snprintf(sql, sizeof(sql), "WITH u AS (UPDATE \"%s\".\"%s\" SET "
	    "failed_logins = 0, locked_until = NULL WHERE user_id = $1 "
	    "RETURNING *), x AS (DELETE FROM \"%s\".\"%s\" WHERE user_id = $1 "
	    "AND expires_at <= now()), s AS (INSERT INTO \"%s\".\"%s\" "
	    "(token_hash, user_id, expires_at) SELECT $2::bytea, user_id, "
	    "now() + $3::integer * interval '1 second' FROM u) SELECT %s FROM u",
	    p->schema, p->users, p->schema, p->sessions, p->schema,
	    p->sessions, USER_COLUMNS);
	snprintf(ttl, sizeof(ttl), "%ld", AUTH_SESSION_TTL);
	vals[1] = key;
	vals[2] = ttl;
	if ((res2 = db_query(&app->db, sql, 3, vals, &rc)) == NULL) {
		reply_db_error(r, rc);
		goto out;
	}
	buf_reset(&r->body);
	user_json(&r->body, res2, 0);
	r->status = 200;
	auth_set_cookie(r, token);
	log_info("login: user %s", PQgetvalue(res2, 0, 0));
out:
	sodium_memzero(token, sizeof(token));
	PQclear(res);
	PQclear(res2);
	json_object_put(o);
}

void
h_logout(struct request *r, struct app *app)
{
	const struct profile *p = app->cfg->active;
	char key[AUTH_KEY_LEN + 1], sql[256];
	const char *vals[1];
	PGresult *res;
	int rc, n = 0;

	if (auth_check_origin(r) != 0)
		return;
	if (auth_session_key(r, key) == 0) {
		snprintf(sql, sizeof(sql), "DELETE FROM \"%s\".\"%s\" WHERE "
		    "token_hash = $1::bytea", p->schema, p->sessions);
		vals[0] = key;
		if ((res = db_query(&app->db, sql, 1, vals, &rc)) == NULL) {
			reply_db_error(r, rc);
			return;
		}
		n = atoi(PQcmdTuples(res));
		PQclear(res);
	}
	auth_set_cookie(r, NULL);
	buf_reset(&r->body);
	buf_printf(&r->body, "{\"logged_out\":%s}", n > 0 ? "true" : "false");
	r->status = 200;
}

void
h_me(struct request *r, struct app *app)
{
	const struct profile *p = app->cfg->active;
	char sql[512], id[24];
	const char *vals[1];
	PGresult *res;
	long long uid;
	int rc;

	if (request_unused_param(r) != NULL) {
		request_error(r, 400, "unknown_parameter",
		    "this endpoint takes no query parameters");
		return;
	}
	if (auth_require(r, app, &uid) != 0)
		return;
	snprintf(sql, sizeof(sql), "SELECT %s FROM \"%s\".\"%s\" WHERE "
	    "user_id = $1", USER_COLUMNS, p->schema, p->users);
	snprintf(id, sizeof(id), "%lld", uid);
	vals[0] = id;
	if ((res = db_query(&app->db, sql, 1, vals, &rc)) == NULL) {
		reply_db_error(r, rc);
		return;
	}
	if (PQntuples(res) == 1) {
		buf_reset(&r->body);
		user_json(&r->body, res, 0);
		r->status = 200;
	} else
		request_error(r, 401, "unauthenticated", "sign in first");
	PQclear(res);
}
