#!/usr/bin/perl
# Bad input gets a JSON error with the right status, never a 500/502, and
# no worker crashes on it.

use strict;
use warnings;

use Test::More;
use FashionTest;

my $t = FashionTest->setup_stack(profile => 'fashion_sota');
my @workers = $t->worker_pids;

my $P = '/api/v1/products';

# [ path, status, code ]
my @cases = (
	[ "$P?sort_by=price;DROP%20TABLE%20products", 400, 'invalid_parameter' ],
	[ "$P?sort_by=price%3BDROP%20TABLE%20products", 400, 'invalid_parameter' ],
	[ "$P?sort_by=unknown", 400, 'invalid_parameter' ],
	[ "$P?sort_by=", 400, 'invalid_parameter' ],
	[ "$P?sort_by=PRICE", 400, 'invalid_parameter' ],
	[ "$P?sort_by=price%20desc", 400, 'invalid_parameter' ],
	[ "$P?sort_by=image_embedding", 400, 'invalid_parameter' ],
	[ "$P?sort_order=sideways", 400, 'invalid_parameter' ],
	[ "$P?page=-1", 400, 'invalid_parameter' ],
	[ "$P?page=0", 400, 'invalid_parameter' ],
	[ "$P?page=abc", 400, 'invalid_parameter' ],
	[ "$P?page=1abc", 400, 'invalid_parameter' ],
	[ "$P?page=", 400, 'invalid_parameter' ],
	[ "$P?page=%201", 400, 'invalid_parameter' ],
	[ "$P?page=1.5", 400, 'invalid_parameter' ],
	[ "$P?page=10001", 400, 'invalid_parameter' ],
	[ "$P?page=99999999999999999999", 400, 'invalid_parameter' ],
	[ "$P?page=4294967297", 400, 'invalid_parameter' ],
	[ "$P?page_size=0", 400, 'invalid_parameter' ],
	[ "$P?page_size=101", 400, 'invalid_parameter' ],
	[ "$P?page_size=1e3", 400, 'invalid_parameter' ],
	[ "$P?page_size=-24", 400, 'invalid_parameter' ],
	[ "$P?page_size=0x10", 400, 'invalid_parameter' ],
	[ "$P?foo=bar", 400, 'unknown_parameter' ],
	[ "$P?gender=Men&foo=bar", 400, 'unknown_parameter' ],
	[ "$P?page=1&page=2", 400, undef ],
	[ "$P?gender=Men&gender=Women", 400, undef ],
	[ "$P?year=abc", 400, 'invalid_parameter' ],
	[ "$P?year=2012abc", 400, 'invalid_parameter' ],
	[ "$P?year=99999999999999999999", 400, 'invalid_parameter' ],
	[ "$P?min_price=-5", 400, 'invalid_parameter' ],
	[ "$P?min_price=NaN", 400, 'invalid_parameter' ],
	[ "$P?min_price=nan", 400, 'invalid_parameter' ],
	[ "$P?min_price=inf", 400, 'invalid_parameter' ],
	[ "$P?max_price=Infinity", 400, 'invalid_parameter' ],
	[ "$P?max_price=abc", 400, 'invalid_parameter' ],
	[ "$P?max_price=", 400, 'invalid_parameter' ],
	[ "$P?min_price=1e999", 400, 'invalid_parameter' ],
	[ "$P?gender=%FF%FE", 400, 'invalid_parameter' ],
	[ "$P?article_type=Tops%C3", 400, 'invalid_parameter' ],
	[ "$P?base_color=%C0%AF", 400, 'invalid_parameter' ],
	[ "$P?usage=%ED%A0%80", 400, 'invalid_parameter' ],
	[ "$P?gender=%ZZ", 400, 'invalid_parameter' ],
	[ "$P?gender=Men%", 400, 'invalid_parameter' ],
	[ "$P?gender=M%00en", 400, 'invalid_parameter' ],
	[ "$P/abc", 400, 'invalid_id' ],
	[ "$P/12abc", 400, 'invalid_id' ],
	[ "$P/1.5", 400, 'invalid_id' ],
	[ "$P/99999999999999999999", 400, 'invalid_id' ],
	[ "$P/0", 404, 'not_found' ],
	[ "$P/2147483647", 404, 'not_found' ],
	[ '/api/v1/nope', 404, 'not_found' ],
	[ '/api/v1/', 404, 'not_found' ],
	[ '/api/v1/products/1/nope', 404, 'not_found' ],
	[ '/api/v1/products/filters', 400, 'invalid_id' ],
);

for my $c (@cases) {
	my ($path, $status, $code) = @$c;
	$t->is_json_error($path, $status, $code, "GET $path -> $status"
	    . ($code ? " $code" : ''));
}

# brand is a valid filter under fashion_sota
{
	my ($st) = $t->json_get("$P?brand=Nike");
	is($st, 200, 'brand filter under fashion_sota: 200');
}

# -5 is numeric: 400 or 404, a JSON error either way
{
	my ($st, $d) = $t->json_get("$P/-5");
	ok(($st == 400 || $st == 404) && ref $d eq 'HASH' && $d->{error},
	    "GET $P/-5 -> 400/404 JSON error ($st)");
}

# methods
for my $m (qw(POST PUT DELETE PATCH)) {
	my @r = $t->json_request($m, $P, body => '{}',
	    headers => { 'Content-Type' => 'application/json' });
	$t->is_json_error(\@r, 405, 'method_not_allowed', "$m $P -> 405");
}
{
	my @r = $t->json_request('DELETE', "$P/15970");
	$t->is_json_error(\@r, 405, 'method_not_allowed', "DELETE $P/15970 -> 405");
	@r = $t->json_request('POST', '/api/v1/health', body => '');
	$t->is_json_error(\@r, 405, 'method_not_allowed', 'POST /health -> 405');
}

# a body over server.max_body (1 MiB), under nginx's limit (2 MiB)
{
	my @r = $t->json_request('POST', $P, body => 'x' x (1536 * 1024),
	    headers => { 'Content-Type' => 'application/json' });
	ok(($r[0] == 405 || $r[0] == 413) && ref $r[1] eq 'HASH' && $r[1]{error},
	    "1.5 MiB POST body -> 405/413 JSON error ($r[0])");
}

# overlong query strings: nginx refuses the 10 kB one itself; the 7 kB one
# reaches fashiond
{
	my ($st, $h, $body) = $t->http_get("$P?gender=" . ('A' x 10240));
	ok($st == 400 || $st == 414, "10 kB query -> 400/414 ($st)");

	($st, my $d) = $t->json_get("$P?gender=" . ('A' x 7000));
	ok($st == 200 || $st == 400, "7 kB query -> 200/400 ($st)");
	ok(ref $d eq 'HASH', '7 kB query: JSON body');

	($st, $d) = $t->json_get("$P?" . join '&', map { "x$_=1" } 1 .. 900);
	ok($st == 400 || $st == 414, "900 parameters -> 400/414 ($st)");
	ok($st != 400 || ref $d eq 'HASH', '900 parameters: JSON error');

	($st, $d) = $t->json_get("$P?" . ('&' x 3000));
	ok($st < 500, "3000 empty parameters -> not 5xx ($st)");
}

# odd but harmless input never yields 5xx
for my $path ("$P?gender", "$P?=Men", "$P?&&&", "$P?gender=", "$P?page_size=5&",
    "$P?gender=Men+Women", "$P?gender=%E2%82%AC", "$P?gender=%27%20OR%201%3D1--",
    "$P?product_display_name=x", "$P?sort_order=ASC", '/api/v1/products//1',
    '/api/v1//products', '/api/v1/products/filters/options?x=1',
    '/api/v1/health?x=1', '/api/v1/products/../health', "$P/%31%32") {
	my ($st, $d) = $t->json_get($path);
	ok($st > 0 && $st < 500, "GET $path -> not 5xx ($st)");
	ok(ref $d eq 'HASH', "GET $path -> JSON");
}

# request bodies: over server.max_body -> 413, bad Content-Length -> 400,
# both as JSON, straight over FastCGI (nginx would cap the size itself)
{
	require JSON::PP;
	my ($st, $h, $body) = $t->fcgi(uri => '/api/v1/health',
	    body => 'x' x (1048576 + 1));
	is($st, 413, 'body over max_body -> 413');
	my $e = eval { JSON::PP::decode_json($body) } // {};
	is($e->{error}{code}, 'payload_too_large', '413 is a JSON error');
	($st, $h, $body) = $t->fcgi(uri => '/api/v1/health',
	    params => { CONTENT_LENGTH => 'abc' });
	is($st, 400, 'non-numeric Content-Length -> 400');
	($st, $h, $body) = $t->fcgi(uri => '/api/v1/health', body => '{"a":1}');
	is($st, 200, 'a small body is read and ignored by GET /health');
}

# after all that the pool is intact
{
	my ($st, $d) = $t->json_get('/api/v1/health');
	is($st, 200, 'health still 200');
	is($d->{status}, 'ok', 'health still ok');
	my ($pst, $pd) = $t->json_get($P);
	is($pst, 200, 'listing still 200');
	is_deeply([ $t->worker_pids ], \@workers, 'same workers: none crashed');
}

$t->check_logs;
done_testing;
