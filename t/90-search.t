#!/usr/bin/perl
# Search through nginx -> fashiond -> fashion-clipd + fashion-vsd on the
# sample: text, photo upload, cross-modal, similar products; filters; the
# query-embedding cache; bad input; the profile flip changing the index
# queried; and upstream faults: the CLIP endpoint killed, Vector Search
# answering 429 with Retry-After, Vector Search too slow.
use strict;
use warnings;
use lib 't/lib';
use FashionTest;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(_exit);
use Test::More;
use Time::HiRes qw(time sleep);

my $t = FashionTest->new->require_binaries(qw(fashiond fashionctl
    fashion-clipd fashion-vsd));
my %cfg = ('vs.timeout' => 1500, 'clip.timeout' => 3000);
$t->setup_stack(config => \%cfg);
$t->start_search;
my $images = FashionTest::sample_dir() . '/images';
my ($rc, $out, $err);

my $UNIFIED = 'main.fashion_sota.product_embeddings_index';
my $json = JSON::PP->new->canonical;
sub post { $t->json_request('POST', "/api/v1/search/$_[0]",
    body => ref $_[1] ? $json->encode($_[1]) : $_[1],
    headers => { 'Content-Type' => $_[2] // 'application/json' }) }

# --- health -----------------------------------------------------------------
my ($st, $d) = $t->json_get('/api/v1/health');
is($st, 200, 'health 200');
is($d->{search}, 'ok', 'health: search ok') or diag explain $d;
is($d->{clip}{status}, 'ok', 'health: CLIP endpoint ok');
is_deeply([ map { $_->{name} } @{ $d->{vector_search}{indexes} } ], [ $UNIFIED ],
    'health: fashion_sota uses the one unified index');
is($d->{vector_search}{indexes}[0]{status}, 'ok', '... ready');

# --- text search ---------------------------------------------------------------
($st, $d) = post('text', { query => 'red dress', limit => 10 });
is($st, 200, 'text search: 200') or diag explain $d;
is($d->{search_type}, 'text', 'search_type text');
is($d->{query}, 'red dress', 'query echoed');
is($d->{index}, $UNIFIED, 'queried the unified index');
is(scalar @{ $d->{products} }, 10, '10 products');
my @scores = map { $_->{similarity_score} } @{ $d->{products} };
is_deeply(\@scores, [ sort { $b <=> $a } @scores ], 'best first');
ok(!grep({ !defined $_->{image_url} || !defined $_->{product_display_name} }
    @{ $d->{products} }), 'each product has its fields and image_url');
my ($dst, $dd) = post('text', { query => 'red tshirt', limit => 10 });
my $both = grep { ($_->{base_color} // '') eq 'Red' && $_->{article_type} eq 'Tshirts' }
    @{ $dd->{products} };
cmp_ok($both, '>=', 6, "'red tshirt': $both of 10 are red t-shirts");
is($d->{embedding_cached}, JSON::PP::false, 'first time: embedded by CLIP');

# The same answer as asking the two services directly.
my ($cst, $cj) = $t->clip_invoke({ dataframe_records => [ { text => 'red dress' } ] });
my ($vst, $vj) = $t->vsd("$UNIFIED/query", { query_vector => $cj->{predictions}[0],
    columns => [ 'product_id' ], num_results => 10 });
is_deeply([ map { $_->{product_id} } @{ $d->{products} } ],
    [ map { $_->[0] } @{ $vj->{result}{data_array} } ],
    'same products, same order as CLIP + Vector Search asked directly');
ok(abs($d->{products}[0]{similarity_score} - $vj->{result}{data_array}[0][1]) < 1e-6,
    'same similarity score');

# The cache: the same words, any case and spacing.
for my $q ('red dress', '  RED   Dress ') {
	($st, $d) = post('text', { query => $q, limit => 10 });
	is($d->{embedding_cached}, JSON::PP::true, "'$q': embedding from the cache");
}
is_deeply([ map { $_->{product_id} } @{ $d->{products} } ],
    [ map { $_->[0] } @{ $vj->{result}{data_array} } ], '... same answer');

# Filters become filters_json; every product satisfies them.
($st, $d) = post('text', { query => 'shirt', limit => 30,
    filters => { gender => 'Men', base_color => [ 'Blue', 'White' ],
    min_price => 500, max_price => 1500 } });
is($st, 200, 'filtered text search: 200');
ok(@{ $d->{products} } > 0, scalar(@{ $d->{products} }) . ' products');
ok(!grep({ $_->{gender} ne 'Men' || $_->{base_color} !~ /^(Blue|White)$/
    || $_->{price} < 500 || $_->{price} > 1500 } @{ $d->{products} }),
    'every product matches gender, colours and price range');
($st, $d) = post('text', { query => 'watch', limit => 100,
    filters => { article_type => 'Watches' } });
my $nwatch = $t->psql("SELECT count(*) FROM fashion_sota.products
    WHERE article_type = 'Watches' AND embedding IS NOT NULL");
is(scalar @{ $d->{products} }, $nwatch < 100 ? $nwatch : 100,
    'filters apply before ranking: as many as match, up to limit');

# Bad input.
my @bad = (
	[ { query => '' }, 400, 'invalid_query', 'empty query' ],
	[ { query => '   ' }, 400, 'invalid_query', 'blank query' ],
	[ { limit => 5 }, 400, 'invalid_query', 'no query' ],
	[ { query => 'x' x 501 }, 400, 'invalid_query', 'query over 500 bytes' ],
	[ { query => 7 }, 400, 'invalid_query', 'query not a string' ],
	[ { query => 'a', limit => 0 }, 400, 'invalid_parameter', 'limit 0' ],
	[ { query => 'a', limit => 101 }, 400, 'invalid_parameter', 'limit 101' ],
	[ { query => 'a', limit => '5' }, 400, 'invalid_parameter', 'limit a string' ],
	[ { query => 'a', filters => { colour => 'Red' } }, 400, 'invalid_filter',
	  'unknown filter' ],
	[ { query => 'a', filters => { min_price => 9, max_price => 1 } }, 400,
	  'invalid_filter', 'min_price > max_price' ],
	[ { query => 'a', filters => [ 'x' ] }, 400, 'invalid_filter', 'filters a list' ],
	[ { query => 'a', sort => 'price' }, 400, 'unknown_field', 'unknown field' ],
	[ '{"query": "a"', 400, 'invalid_json', 'truncated JSON' ],
	[ '["a"]', 400, 'invalid_json', 'a JSON array' ],
	[ qq({"query": "\xff\xfe"}), 400, undef, 'invalid UTF-8' ],
);
for my $b (@bad) {
	$t->is_json_error([ post('text', $b->[0]) ], $b->[1], $b->[2],
	    "text search, $b->[3] -> $b->[1]");
}
$t->is_json_error([ post('text', '{"query":"a"}', 'text/plain') ], 415,
    'unsupported_media_type', 'text search as text/plain -> 415');
$t->is_json_error([ $t->json_request('GET', '/api/v1/search/text') ], 405,
    undef, 'GET search/text -> 405');

# --- image search ---------------------------------------------------------------
my ($pid_img) = $t->psql('SELECT product_id FROM fashion_sota.products
    WHERE article_type = \'Watches\' ORDER BY product_id LIMIT 1');
my $jpeg = FashionTest::slurp("$images/$pid_img.jpg");
ok(length $jpeg > 1000, "sample photo of product $pid_img");
($st, $d) = $t->multipart('/api/v1/search/image',
    [ 'image', $jpeg, "$pid_img.jpg", 'image/jpeg' ], [ 'limit', 5 ]);
is($st, 200, 'image search: 200') or diag explain $d;
is($d->{search_type}, 'image', 'search_type image');
is(scalar @{ $d->{products} }, 5, 'limit from the form');
ok(grep({ $_->{product_id} == $pid_img } @{ $d->{products} }),
    'the photographed product is among the top 5');
my $watches = grep { $_->{article_type} eq 'Watches' } @{ $d->{products} };
cmp_ok($watches, '>=', 4, "a watch photo finds watches ($watches of 5)");
($st, $d) = $t->multipart('/api/v1/search/image',
    [ 'image', $jpeg, 'w.jpg', 'image/jpeg' ],
    [ 'filters', '{"gender": "Women"}' ]);
ok($st == 200 && !grep({ $_->{gender} ne 'Women' } @{ $d->{products} }),
    'image search with filters');

my $png = FashionTest::slurp(FashionTest::srcdir() . '/models/golden/alpha.png');
($st) = $t->multipart('/api/v1/search/image', [ 'image', $png, 'a.png' ]);
is($st, 200, 'a PNG photo is accepted');
$t->is_json_error([ $t->multipart('/api/v1/search/image',
    [ 'image', "GIF89a" . ("\0" x 100), 'a.gif' ]) ], 415,
    'unsupported_media_type', 'a GIF -> 415');
$t->is_json_error([ $t->multipart('/api/v1/search/image',
    [ 'image', substr($jpeg, 0, 200), 'cut.jpg' ]) ], 400, 'invalid_image',
    'a truncated JPEG -> 400');
$t->is_json_error([ $t->multipart('/api/v1/search/image', [ 'limit', 3 ]) ],
    400, 'invalid_form', 'no image field -> 400');
$t->is_json_error([ $t->multipart('/api/v1/search/image',
    [ 'image', $jpeg, 'a.jpg' ], [ 'colour', 'red' ]) ], 400,
    'unknown_field', 'unknown form field -> 400');
$t->is_json_error([ $t->multipart('/api/v1/search/image',
    [ 'image', $jpeg, 'a.jpg' ], [ 'limit', 'ten' ]) ], 400,
    'invalid_parameter', 'limit not a number -> 400');
$t->is_json_error([ post('image', '{}') ], 415, 'unsupported_media_type',
    'image search with JSON -> 415');
$t->is_json_error([ $t->json_request('POST', '/api/v1/search/image',
    body => "--x\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nabc",
    headers => { 'Content-Type' => 'multipart/form-data; boundary=x' }) ],
    400, 'invalid_form', 'multipart without its closing boundary -> 400');
my $big = "\xff\xd8\xff" . ('x' x (10 * 1024 * 1024 + 10));
$t->is_json_error([ $t->multipart('/api/v1/search/image',
    [ 'image', $big, 'big.jpg' ]) ], 413, undef,
    'an upload over search.max_upload (10 MB) -> 413');

# --- cross-modal ------------------------------------------------------------
($st, $d) = $t->multipart('/api/v1/search/cross-modal',
    [ 'image', $jpeg, 'w.jpg', 'image/jpeg' ], [ 'query', 'black watch' ],
    [ 'limit', 10 ]);
is($st, 200, 'cross-modal, photo + text: 200') or diag explain $d;
is($d->{search_type}, 'cross-modal', 'search_type cross-modal');
is($d->{query}, 'black watch', 'query echoed');
($st, $d) = post('cross-modal', { query => 'blue jeans', limit => 5 });
is($st, 200, 'cross-modal, text only as JSON: 200');
($st, $d) = $t->multipart('/api/v1/search/cross-modal',
    [ 'image', $jpeg, 'w.jpg' ], [ 'text_weight', '0' ]);
is($st, 200, 'cross-modal, photo only');
$t->is_json_error([ $t->multipart('/api/v1/search/cross-modal',
    [ 'limit', 3 ]) ], 400, 'invalid_form', 'cross-modal with nothing -> 400');
$t->is_json_error([ $t->multipart('/api/v1/search/cross-modal',
    [ 'query', 'a' ], [ 'text_weight', '2' ]) ], 400, 'invalid_parameter',
    'text_weight 2 -> 400');

# --- similar ------------------------------------------------------------------
($st, $d) = $t->json_get("/api/v1/products/$pid_img/similar?limit=5");
is($st, 200, 'similar: 200');
is(scalar @{ $d->{products} }, 5, 'similar: 5 products');
ok(!grep({ $_->{product_id} == $pid_img } @{ $d->{products} }),
    'similar leaves the product itself out');
is($d->{search_type}, 'similar', 'search_type similar');
$t->is_json_error('/api/v1/products/999999999/similar', 404, 'not_found',
    'similar of an unknown product -> 404');
$t->is_json_error("/api/v1/products/$pid_img/similar?limit=0", 400,
    'invalid_parameter', 'similar limit 0 -> 400');
$t->is_json_error("/api/v1/products/$pid_img/similar?x=1", 400,
    'unknown_parameter', 'similar with an unknown parameter -> 400');

# --- the profile flip changes the index, without a restart ---------------------
($rc, $out, $err) = $t->fashionctl('switch', 'fashion_demo');
is($rc, 0, 'fashionctl switch fashion_demo') or diag "$out$err";
ok(FashionTest::wait_for(10, sub {
	my (undef, $h) = $t->json_get('/api/v1/health');
	$h && $h->{profile} eq 'fashion_demo' }), 'health reports fashion_demo');
($st, $d) = $t->json_get('/api/v1/health');
is_deeply([ map { $_->{name} } @{ $d->{vector_search}{indexes} } ],
    [ map { "main.fashion_demo.vs_${_}_search" } qw(text image hybrid) ],
    'health: the three old-layout indexes');
is($d->{search}, 'ok', '... all ready');
($st, $d) = post('text', { query => 'red dress', limit => 5 });
is($d->{index}, 'main.fashion_demo.vs_text_search', 'text search uses vs_text_search');
($st, $d) = $t->multipart('/api/v1/search/image', [ 'image', $jpeg, 'w.jpg' ]);
is($d->{index}, 'main.fashion_demo.vs_image_search', 'image search uses vs_image_search');
is($d->{products}[0]{product_id}, $pid_img,
    'old layout image index: the photographed product first');
ok(abs($d->{products}[0]{similarity_score} - 1) < 1e-6, '... with score 1');
($st, $d) = post('cross-modal', { query => 'red dress', limit => 5 });
is($d->{index}, 'main.fashion_demo.vs_hybrid_search', 'cross-modal uses vs_hybrid_search');
$t->is_json_error([ post('text', { query => 'a', filters => { brand => 'Nike' } }) ],
    400, 'invalid_filter', 'brand filter in the old layout -> 400');
ok(scalar(grep { /search: profile fashion_demo, text main.fashion_demo.vs_text_search/ }
    split /\n/, FashionTest::slurp($t->fashiond_log)), 'the log names the new indexes');
($rc) = $t->fashionctl('switch', 'fashion_sota');
FashionTest::wait_for(10, sub { my (undef, $h) = $t->json_get('/api/v1/health');
	$h && $h->{profile} eq 'fashion_sota' });
($st, $d) = post('text', { query => 'red dress', limit => 5 });
is($d->{index}, $UNIFIED, 'switched back: the unified index again');

# --- faults -------------------------------------------------------------------
# The CLIP endpoint killed: a new query is a quick 503; a cached one and
# the catalog keep working.
post('text', { query => 'green shirt' }) for 1 .. 4;	# into every worker's cache
$t->stop_clipd;
my $t0 = time;
my @r = post('text', { query => 'yellow handbag' });
my $el = time - $t0;
$t->is_json_error(\@r, 503, 'upstream_unavailable', 'CLIP down: new query -> 503');
like($r[1]{error}{message}, qr/embedding service/, '... says which service');
cmp_ok($el, '<', 3, sprintf('... within the timeout (%.2f s)', $el));
my $cached = 0;
for (1 .. 8) { my ($s) = post('text', { query => 'green shirt' }); $cached++ if $s == 200 }
ok($cached >= 1, "CLIP down: a cached query still answers ($cached of 8)");
($st) = $t->json_get('/api/v1/products?page_size=5');
is($st, 200, 'CLIP down: the catalog still answers');
($st, $d) = $t->json_get('/api/v1/health');
is($d->{clip}{status}, 'down', 'health: clip down');
is($d->{search}, 'degraded', 'health: search degraded');
is($d->{status}, 'ok', 'health: status (the database) still ok');

# The CLIP endpoint refusing fashiond's credentials is the upstream's
# trouble (502), not the shopper's photo.
$t->start_clipd({ DATABRICKS_TOKEN => 'only-clipd-knows' });
$t->is_json_error([ $t->multipart('/api/v1/search/image',
    [ 'image', $jpeg, 'w.jpg' ]) ], 502, 'upstream_error',
    'CLIP endpoint answering 401 -> 502, not invalid_image');
$t->stop_clipd;
$t->start_clipd;

# Vector Search too slow: its processes stopped, fashiond gives up after
# vs.timeout (1.5 s) with 504.
my @vsd = ($t->vsd_pid, FashionTest::children_of($t->vsd_pid));
kill 'STOP', @vsd;
$t0 = time;
@r = post('text', { query => 'red dress' });
$el = time - $t0;
kill 'CONT', @vsd;
$t->is_json_error(\@r, 504, 'upstream_timeout', 'Vector Search stalled -> 504');
cmp_ok($el, '<', 4, sprintf('... after about vs.timeout (%.2f s)', $el));
($st) = $t->json_get('/api/v1/products?page_size=5');
is($st, 200, 'the worker serves the catalog afterwards');

# Vector Search pushing back: a double of the documented protocol answers
# the first query 429 with Retry-After: 1, then a page of real ids.
my @ids = $t->psql('SELECT product_id FROM fashion_sota.products ORDER BY product_id LIMIT 3');
my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
    Listen => 16, ReuseAddr => 1) or die "listen: $!";
my $fport = $srv->sockport;
my $count = $t->dir . '/vs429.count';
my $fpid = fork // die;
if ($fpid == 0) {
	my $n = 0;
	alarm 60;
	while (my $c = $srv->accept) {
		my ($head, $body) = ('', '');
		while (my $l = <$c>) { $head .= $l; last if $l eq "\r\n" }
		my ($len) = $head =~ /content-length:\s*(\d+)/i;
		read($c, $body, $len // 0);
		$n++;
		FashionTest::spew($count, $n);
		if ($n == 1) {
			my $e = '{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow down"}';
			print $c "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\n"
			    . "Content-Type: application/json\r\nContent-Length: "
			    . length($e) . "\r\nConnection: close\r\n\r\n$e";
		} else {
			my $b = '{"manifest":{"column_count":2,"columns":[{"name":"product_id"},'
			    . '{"name":"score"}]},"result":{"row_count":3,"data_array":['
			    . join(',', map { "[$ids[$_]," . (0.9 - $_ / 10) . ']' } 0 .. 2) . ']}}';
			print $c "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			    . "Content-Length: " . length($b) . "\r\nConnection: close\r\n\r\n$b";
		}
		close $c;
	}
	_exit(0);
}
close $srv;
$t->write_config(%cfg, 'vs.url' => "http://127.0.0.1:$fport", 'vs.timeout' => 5000,
    workers => 1);
$t->hup;
ok($t->wait_workers(1, 15), 'reloaded with vs.url at the double, 1 worker');
sleep 0.5;
$t0 = time;
($st, $d) = post('text', { query => 'red dress', limit => 3 });
$el = time - $t0;
is($st, 200, 'Vector Search 429 + Retry-After: 1 -> retried, 200') or diag explain $d;
cmp_ok($el, '>=', 0.9, sprintf('... after waiting Retry-After (%.2f s)', $el));
is(FashionTest::slurp($count), 2, '... two requests reached the service');
is_deeply([ map { $_->{product_id} } @{ $d->{products} } ], [ map { $_ + 0 } @ids ],
    '... and the products it answered, in its order');
kill 'TERM', $fpid;
waitpid($fpid, 0);

$t->check_logs(allow => qr/upstream|Vector Search|CLIP|embedding service/);
done_testing();
