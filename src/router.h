/*
 * router.h - method + path to handler.  Patterns are literal segments and
 * "{}" wildcards (one segment each, captured into request->captures).
 */
#ifndef FASHION_ROUTER_H
#define FASHION_ROUTER_H

#include "request.h"

struct app;

typedef void (*handler_fn)(struct request *, struct app *);

struct route {
	const char	*method;	/* "GET", "POST", ... */
	const char	*pattern;	/* "/api/v1/products/{}" */
	handler_fn	 fn;
};

/* Run the handler for R from TABLE (ended by a NULL pattern). */
void	router_dispatch(const struct route *table, struct request *r,
	    struct app *app);

#endif
