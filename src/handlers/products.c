/*
 * products.c - catalog browsing: listing with filters, sort and pages,
 * one product, and the facet values with counts.  SQL is built from fixed
 * fragments and the whitelists below; every value travels as a parameter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strings.h>

#include <json.h>

#include "handlers.h"
#include "log.h"

#define PAGE_SIZE_DEFAULT 24
#define PAGE_SIZE_MAX	  100
#define PAGE_MAX	  10000
#define FILTER_VALUE_MAX  200	/* bytes of one filter value */

enum fkind { F_TEXT, F_YEAR, F_MIN_PRICE, F_MAX_PRICE };

/* Query parameter -> column and comparison. */
static const struct filter {
	const char	*param;
	const char	*column;
	enum fkind	 kind;
	int		 brand;		/* only where the profile has_brand */
} filters[] = {
	{ "gender", "gender", F_TEXT, 0 },
	{ "master_category", "master_category", F_TEXT, 0 },
	{ "sub_category", "sub_category", F_TEXT, 0 },
	{ "article_type", "article_type", F_TEXT, 0 },
	{ "base_color", "base_color", F_TEXT, 0 },
	{ "season", "season", F_TEXT, 0 },
	{ "usage", "usage", F_TEXT, 0 },
	{ "brand", "brand", F_TEXT, 1 },
	{ "year", "year", F_YEAR, 0 },
	{ "min_price", "price", F_MIN_PRICE, 0 },
	{ "max_price", "price", F_MAX_PRICE, 0 },
};
#define NFILTERS (sizeof(filters) / sizeof(filters[0]))

/* sort_by whitelist. */
static const char *const sort_columns[] = {
	"product_id", "price", "year", "product_display_name",
};
#define NSORT (sizeof(sort_columns) / sizeof(sort_columns[0]))

struct json_object *
json_body(struct request *r)
{
	const char *ct = request_env(r, "CONTENT_TYPE");
	struct json_tokener *tok;
	struct json_object *o = NULL;

	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0) {
		request_error(r, 415, "unsupported_media_type", "send "
		    "Content-Type: application/json");
		return NULL;
	}
	if (r->input.len > 0 && r->input.len < 0x7fffffff &&
	    (tok = json_tokener_new_ex(8)) != NULL) {
		o = json_tokener_parse_ex(tok, r->input.data, (int)r->input.len);
		if (o != NULL && (json_tokener_get_error(tok) !=
		    json_tokener_success ||
		    json_tokener_get_parse_end(tok) != r->input.len)) {
			json_object_put(o);
			o = NULL;
		}
		json_tokener_free(tok);
	}
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		request_error(r, 400, "invalid_json", "the body must be a JSON "
		    "object");
		return NULL;
	}
	return o;
}

void
reply_db_error(struct request *r, int rc)
{
	if (rc == DB_DOWN)
		request_error(r, 503, "db_unavailable",
		    "the catalog database is unavailable; retry shortly");
	else
		request_error(r, 500, "internal", "database query failed");
}

void
h_products_list(struct request *r, struct app *app)
{
	const struct profile *p = app->cfg->active;
	const char *vals[NFILTERS + 2], *v, *sort_col = "product_id", *unused;
	char table[160], limit[16], offset[24], numbuf[NFILTERS][32];
	struct buf where, sql, key;
	long long page = 1, size = PAGE_SIZE_DEFAULT, total, yr;
	double minp = -1, maxp = -1;
	int nvals = 0, rc, i, desc = 0;
	unsigned f;
	PGresult *res = NULL;

	buf_init(&where);
	buf_init(&sql);
	buf_init(&key);
	if ((v = request_param(r, "page")) != NULL &&
	    parse_int(v, 1, PAGE_MAX, &page) != REQ_OK) {
		request_error(r, 400, "invalid_parameter",
		    "page must be an integer from 1 to %d", PAGE_MAX);
		goto out;
	}
	if ((v = request_param(r, "page_size")) != NULL &&
	    parse_int(v, 1, PAGE_SIZE_MAX, &size) != REQ_OK) {
		request_error(r, 400, "invalid_parameter",
		    "page_size must be an integer from 1 to %d", PAGE_SIZE_MAX);
		goto out;
	}
	if ((v = request_param(r, "sort_by")) != NULL) {
		sort_col = NULL;
		for (i = 0; i < (int)NSORT; i++)
			if (strcmp(v, sort_columns[i]) == 0)
				sort_col = sort_columns[i];
		if (sort_col == NULL) {
			request_error(r, 400, "invalid_parameter", "sort_by must "
			    "be one of product_id, price, year, "
			    "product_display_name");
			goto out;
		}
	}
	if ((v = request_param(r, "sort_order")) != NULL) {
		if (strcmp(v, "desc") == 0)
			desc = 1;
		else if (strcmp(v, "asc") != 0) {
			request_error(r, 400, "invalid_parameter",
			    "sort_order must be asc or desc");
			goto out;
		}
	}

	for (f = 0; f < NFILTERS; f++) {
		const struct filter *fl = &filters[f];
		const char *op = "=";

		if ((v = request_param(r, fl->param)) == NULL)
			continue;
		if (fl->brand && !p->has_brand) {
			request_error(r, 400, "invalid_parameter", "filter %s is "
			    "not available in profile %s", fl->param, p->name);
			goto out;
		}
		switch (fl->kind) {
		case F_TEXT:
			if (strlen(v) == 0 || strlen(v) > FILTER_VALUE_MAX) {
				request_error(r, 400, "invalid_parameter",
				    "%s must be 1 to %d bytes", fl->param,
				    FILTER_VALUE_MAX);
				goto out;
			}
			vals[nvals] = v;
			break;
		case F_YEAR:
			if (parse_int(v, 1900, 2100, &yr) != REQ_OK) {
				request_error(r, 400, "invalid_parameter",
				    "year must be an integer from 1900 to 2100");
				goto out;
			}
			snprintf(numbuf[f], sizeof(numbuf[f]), "%lld", yr);
			vals[nvals] = numbuf[f];
			break;
		case F_MIN_PRICE:
		case F_MAX_PRICE:
			if (parse_price(v, fl->kind == F_MIN_PRICE ? &minp :
			    &maxp) != REQ_OK) {
				request_error(r, 400, "invalid_parameter",
				    "%s must be a decimal number >= 0", fl->param);
				goto out;
			}
			op = fl->kind == F_MIN_PRICE ? ">=" : "<=";
			vals[nvals] = v;
			break;
		}
		nvals++;
		buf_printf(&where, "%s%s %s $%d", nvals == 1 ? " WHERE " : " AND ",
		    fl->column, op, nvals);
		buf_printf(&key, "\x1f%s=%s", fl->param, v);
	}
	if (minp >= 0 && maxp >= 0 && minp > maxp) {
		request_error(r, 400, "invalid_parameter",
		    "min_price is greater than max_price");
		goto out;
	}
	if ((unused = request_unused_param(r)) != NULL) {
		request_error(r, 400, "unknown_parameter",
		    "unknown query parameter \"%.64s\"", unused);
		goto out;
	}
	if (catalog_products_table(p, table, sizeof(table)) != 0) {
		request_error(r, 500, "internal", "table name too long");
		goto out;
	}

	/* The total: once per filter combination and data version. */
	buf_printf(&sql, "SELECT count(*) FROM %s%s", table,
	    where.data ? where.data : "");
	if (buf_failed(&sql) || buf_failed(&where) || buf_failed(&key)) {
		request_error(r, 500, "internal", "out of memory");
		goto out;
	}
	buf_printf(&key, "\x1e%s", p->name);
	db_poll_notify(&app->db);
	if (count_cache_get(&app->cache, app->db.generation, key.data ? key.data :
	    "", &total) != 0) {
		if ((res = db_query(&app->db, sql.data, nvals, vals, &rc)) == NULL) {
			reply_db_error(r, rc);
			goto out;
		}
		total = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
		res = NULL;
		count_cache_put(&app->cache, app->db.generation,
		    key.data ? key.data : "", total);
	}

	buf_reset(&sql);
	buf_printf(&sql, "SELECT %s FROM %s%s ORDER BY %s %s%s LIMIT $%d "
	    "OFFSET $%d", catalog_columns(p), table, where.data ? where.data : "",
	    sort_col, desc ? "DESC NULLS LAST" : "ASC NULLS LAST",
	    strcmp(sort_col, "product_id") == 0 ? "" :
	    desc ? ", product_id DESC" : ", product_id ASC",
	    nvals + 1, nvals + 2);
	snprintf(limit, sizeof(limit), "%lld", size);
	snprintf(offset, sizeof(offset), "%lld", (page - 1) * size);
	vals[nvals] = limit;
	vals[nvals + 1] = offset;
	if (buf_failed(&sql)) {
		request_error(r, 500, "internal", "out of memory");
		goto out;
	}
	if ((res = db_query(&app->db, sql.data, nvals + 2, vals, &rc)) == NULL) {
		reply_db_error(r, rc);
		goto out;
	}

	buf_puts(&r->body, "{\"products\":[");
	for (i = 0; i < PQntuples(res); i++) {
		if (i > 0)
			buf_add(&r->body, ",", 1);
		catalog_product_json(&r->body, res, i, p);
	}
	buf_printf(&r->body, "],\"total\":%lld,\"page\":%lld,\"page_size\":%lld,"
	    "\"has_more\":%s}", total, page, size,
	    page * size < total ? "true" : "false");
out:
	PQclear(res);
	buf_free(&where);
	buf_free(&sql);
	buf_free(&key);
}

void
h_product_get(struct request *r, struct app *app)
{
	const struct profile *p = app->cfg->active;
	const char *vals[1];
	char table[160], idbuf[16];
	struct buf sql;
	long long id;
	PGresult *res = NULL;
	int rc;

	buf_init(&sql);
	if (parse_int(r->captures[0], 0, 2147483647LL, &id) != REQ_OK) {
		request_error(r, 400, "invalid_id",
		    "product id must be a non-negative integer below 2^31");
		goto out;
	}
	if (request_unused_param(r) != NULL) {
		request_error(r, 400, "unknown_parameter",
		    "this endpoint takes no query parameters");
		goto out;
	}
	if (catalog_products_table(p, table, sizeof(table)) != 0) {
		request_error(r, 500, "internal", "table name too long");
		goto out;
	}
	snprintf(idbuf, sizeof(idbuf), "%lld", id);
	vals[0] = idbuf;
	buf_printf(&sql, "SELECT %s FROM %s WHERE product_id = $1",
	    catalog_columns(p), table);
	if ((res = db_query(&app->db, sql.data, 1, vals, &rc)) == NULL) {
		reply_db_error(r, rc);
		goto out;
	}
	if (PQntuples(res) == 0) {
		request_error(r, 404, "not_found", "no product with id %lld", id);
		goto out;
	}
	catalog_product_json(&r->body, res, 0, p);
out:
	PQclear(res);
	buf_free(&sql);
}

/* Facets shown by the storefront's filter panel: response key -> column. */
static const struct {
	const char	*key;
	const char	*column;
	int		 brand;
} facets[] = {
	{ "genders", "gender", 0 },
	{ "master_categories", "master_category", 0 },
	{ "sub_categories", "sub_category", 0 },
	{ "article_types", "article_type", 0 },
	{ "base_colors", "base_color", 0 },
	{ "seasons", "season", 0 },
	{ "usages", "usage", 0 },
	{ "years", "year", 0 },
	{ "brands", "brand", 1 },
};

void
h_filter_options(struct request *r, struct app *app)
{
	const struct profile *p = app->cfg->active;
	int slot = p == &app->cfg->profiles[0] ? 0 : 1;
	char table[160];
	struct buf sql, out;
	PGresult *res = NULL;
	unsigned f;
	int rc, i;

	buf_init(&sql);
	buf_init(&out);
	if (request_unused_param(r) != NULL) {
		request_error(r, 400, "unknown_parameter",
		    "this endpoint takes no query parameters");
		goto done;
	}
	db_poll_notify(&app->db);
	if (app->cache.options[slot] != NULL &&
	    app->cache.options_gen[slot] == app->db.generation &&
	    db_ensure(&app->db) == DB_OK) {
		buf_puts(&r->body, app->cache.options[slot]);
		goto done;
	}
	if (catalog_products_table(p, table, sizeof(table)) != 0) {
		request_error(r, 500, "internal", "table name too long");
		goto done;
	}
	buf_add(&out, "{", 1);
	for (f = 0; f < sizeof(facets) / sizeof(facets[0]); f++) {
		if (facets[f].brand && !p->has_brand)
			continue;
		buf_reset(&sql);
		buf_printf(&sql, "SELECT %s::text, count(*) FROM %s WHERE %s IS "
		    "NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1", facets[f].column,
		    table, facets[f].column);
		if ((res = db_query(&app->db, sql.data, 0, NULL, &rc)) == NULL) {
			reply_db_error(r, rc);
			goto done;
		}
		buf_printf(&out, "%s\"%s\":[", f ? "," : "", facets[f].key);
		for (i = 0; i < PQntuples(res); i++) {
			buf_puts(&out, i ? ",{\"value\":" : "{\"value\":");
			if (strcmp(facets[f].column, "year") == 0)
				buf_puts(&out, PQgetvalue(res, i, 0));
			else
				buf_json_str(&out, PQgetvalue(res, i, 0));
			buf_printf(&out, ",\"count\":%s}", PQgetvalue(res, i, 1));
		}
		buf_add(&out, "]", 1);
		PQclear(res);
		res = NULL;
	}
	buf_reset(&sql);
	buf_printf(&sql, "SELECT coalesce(min(price), 0), coalesce(max(price), 0) "
	    "FROM %s", table);
	if ((res = db_query(&app->db, sql.data, 0, NULL, &rc)) == NULL) {
		reply_db_error(r, rc);
		goto done;
	}
	buf_printf(&out, ",\"price_range\":{\"min\":%s,\"max\":%s}}",
	    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	if (buf_failed(&out)) {
		request_error(r, 500, "internal", "out of memory");
		goto done;
	}
	buf_add(&r->body, out.data, out.len);
	free(app->cache.options[slot]);
	app->cache.options[slot] = strdup(out.data);
	app->cache.options_gen[slot] = app->db.generation;
done:
	PQclear(res);
	buf_free(&sql);
	buf_free(&out);
}
