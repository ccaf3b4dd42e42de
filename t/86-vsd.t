#!/usr/bin/perl
# fashion-vsd: the Databricks Vector Search REST API over the sample's real
# embeddings.  Results are checked against a brute-force search computed
# here from the database (exact: same ids, same order, same scores), for
# plain queries, each filter operator, pagination and score_threshold;
# then errors, the bearer token, and a sync swapping the snapshot while
# queries run (each answer is wholly the old or wholly the new one).
use strict;
use warnings;
use lib 't/lib';
use FashionTest;
use List::Util qw(min);
use POSIX qw(_exit);
use Test::More;

my $t = FashionTest->new->require_binaries(qw(fashiond fashionctl
    fashion-clipd fashion-vsd));
$t->setup_stack(config => { 'vs.page_size' => 7 });
$t->start_clipd;
my ($rc, $out, $err) = $t->fashionctl('embed', '--images',
    FashionTest::sample_dir() . '/images');
is($rc, 0, 'embeddings computed') or BAIL_OUT("embed: $out$err");
$t->start_vsd;

my $SOTA = 'main.fashion_sota.product_embeddings_index';
my $IMG = 'main.fashion_demo.vs_image_search';

# --- describe and sync ------------------------------------------------------
my ($st, $j) = $t->vsd($SOTA);
is($st, 200, 'describe before any sync');
is($j->{status}{ready}, JSON::PP::false, '... not ready');
is($j->{status}{detailed_state}, 'OFFLINE', '... offline');
($st, $j) = $t->vsd("$SOTA/query", { query_vector => [ (0) x 512 ] });
is($st, 400, 'query before a sync: 400');
like($j->{message}, qr/not been synced/, '... says why');

for my $ix ($SOTA, $IMG, 'main.fashion_demo.vs_text_search',
    'main.fashion_demo.vs_hybrid_search') {
	($st, $j) = $t->vsd("$ix/sync", {});
	is($st, 200, "sync $ix");
}
sub count { my $v = $t->psql($_[0]); chomp $v; $v }
my $nsota = count('SELECT count(*) FROM fashion_sota.products WHERE embedding IS NOT NULL');
($st, $j) = $t->vsd($SOTA);
is($j->{status}{ready}, JSON::PP::true, 'ready after sync');
is($j->{status}{indexed_row_count}, $nsota, "indexed_row_count = $nsota");
is($j->{primary_key}, 'product_id', 'primary key');
is($j->{delta_sync_index_spec}{embedding_vector_columns}[0]{name},
    'embedding', 'vector column');
my $nimg = count('SELECT count(*) FROM fashion_demo.product_embeddings_multimodal
    e JOIN fashion_demo.productsdb USING (product_id) WHERE image_embedding IS NOT NULL');
($st, $j) = $t->vsd($IMG);
is($j->{status}{indexed_row_count}, $nimg,
    "old layout image index: $nimg rows (products without a photo left out)");

# --- brute force ------------------------------------------------------------
# The service keeps float32 vectors (and rounds the query to float32), then
# computes in double: so does this test.
sub f32 { unpack 'f', pack 'f', $_[0] }

# Rows of an index as this test sees them: id, vector, kept columns.
sub load_rows {
	my ($sql) = @_;
	my @rows;
	for my $line ($t->psql($sql)) {
		my ($id, $vec, $type, $color, $price, $gender, $name) =
		    split /\|/, $line, 7;
		$vec =~ tr/{}//d;
		push @rows, { id => $id + 0, v => [ map { f32($_) } split /,/, $vec ],
		    article_type => $type, base_color => $color eq '' ? undef : $color,
		    price => $price + 0, gender => $gender, name => $name };
	}
	return \@rows;
}
my $rows = load_rows('SELECT product_id, embedding, article_type,
    coalesce(base_color, \'\'), price, gender, product_display_name
    FROM fashion_sota.products WHERE embedding IS NOT NULL ORDER BY product_id');
is(scalar @$rows, $nsota, 'brute force sees the same rows');

# Top N of ROWS (those passing OK) for Q: [[id, score], ...], ties by id.
sub brute {
	my ($q, $n, $ok) = @_;
	my @s;
	for my $r (@$rows) {
		next if $ok && !$ok->($r);
		my ($d2, $v) = (0, $r->{v});
		$d2 += ($q->[$_] - $v->[$_]) ** 2 for 0 .. $#$q;
		push @s, [ $r->{id}, 1 / (1 + $d2), $d2 ];
	}
	@s = sort { $a->[2] <=> $b->[2] || $a->[0] <=> $b->[0] } @s;
	return [ @s[0 .. min($n, scalar @s) - 1] ];
}

sub query {
	my (%o) = @_;
	my $ix = delete $o{index} // $SOTA;
	return $t->vsd("$ix/query", { columns => [ 'product_id' ], %o });
}

# Same ids in the same order, scores equal to 1e-12.
sub same_hits {
	my ($got, $want, $what) = @_;
	my @g = map { [ $_->[0], $_->[-1] ] } @$got;
	my $ok = @g == @$want;
	for my $i (0 .. $#g) {
		$ok &&= $g[$i][0] == $want->[$i][0] &&
		    abs($g[$i][1] - $want->[$i][1]) < 1e-12;
	}
	ok($ok, $what) or diag explain { got => [ @g[0 .. min(4, $#g)] ],
	    want => [ @$want[0 .. min(4, $#$want)] ] };
}

srand(4);
my @queries = ((map { $rows->[$_]{v} } 0, 17, 500), [ map { f32(rand() - 0.5) } 1 .. 512 ]);
for my $qi (0 .. $#queries) {
	my $q = $queries[$qi];
	($st, $j) = query(query_vector => $q, num_results => 7);
	is($st, 200, "query $qi: 200");
	same_hits($j->{result}{data_array}, brute($q, 7),
	    "query $qi: top 7 equal the brute-force top 7");
}
($st, $j) = query(query_vector => $queries[0], num_results => 3,
    columns => [ 'product_id', 'article_type', 'price', 'brand' ]);
is_deeply([ map { $_->{name} } @{ $j->{manifest}{columns} } ],
    [ qw(product_id article_type price brand score) ],
    'manifest: the requested columns, then score');
is($j->{manifest}{column_count}, 5, 'column_count');
is($j->{result}{row_count}, 3, 'row_count');
is($j->{result}{data_array}[0][0], $rows->[0]{id}, 'a product is its own nearest');
is($j->{result}{data_array}[0][-1], 1, '... with score 1');
is($j->{result}{data_array}[0][1], $rows->[0]{article_type}, 'text column value');
ok(!exists $j->{next_page_token}, 'no next_page_token when all fit');

# --- filters: each operator, checked against brute force ---------------------
my $q = $queries[1];
my %type_count;
$type_count{$_->{article_type}}++ for @$rows;
my ($common) = sort { $type_count{$b} <=> $type_count{$a} } keys %type_count;
my @filters = (
	[ { article_type => $common }, sub { $_[0]{article_type} eq $common }, 'equality' ],
	[ { base_color => [ 'Red', 'Blue' ] },
	  sub { ($_[0]{base_color} // '') =~ /^(Red|Blue)$/ }, 'any of a list' ],
	[ { 'gender NOT' => 'Men' }, sub { $_[0]{gender} ne 'Men' }, 'NOT' ],
	[ { 'price <' => 500 }, sub { $_[0]{price} < 500 }, '<' ],
	[ { 'price <=' => 499 }, sub { $_[0]{price} <= 499 }, '<=' ],
	[ { 'price >' => 2000 }, sub { $_[0]{price} > 2000 }, '>' ],
	[ { 'price >=' => 2000 }, sub { $_[0]{price} >= 2000 }, '>=' ],
	[ { 'product_display_name LIKE' => 'shirt' },
	  sub { $_[0]{name} =~ /(^|[^[:alnum:]])shirt([^[:alnum:]]|$)/i }, 'LIKE (token)' ],
	[ { gender => 'Women', 'price >=' => 1000, 'base_color NOT' => 'Black' },
	  sub { $_[0]{gender} eq 'Women' && $_[0]{price} >= 1000 &&
	        ($_[0]{base_color} // '') ne 'Black' }, 'three keys ANDed' ],
	[ { article_type => 'No Such Thing' }, sub { 0 }, 'nothing matches' ],
);
for my $f (@filters) {
	my ($filter, $ok, $name) = @$f;
	my $want = brute($q, 7, $ok);
	($st, $j) = query(query_vector => $q, num_results => 7,
	    filters_json => JSON::PP->new->canonical->encode($filter));
	is($st, 200, "filter $name: 200") or diag explain $j;
	same_hits($j->{result}{data_array} // [], $want,
	    "filter $name: " . scalar(@$want) . " rows, equal to brute force");
}
($st, $j) = query(query_vector => $q, num_results => 50,
    filters_json => '{"product_display_name LIKE": "shirt"}',
    columns => [ 'product_display_name' ]);
ok(!grep({ $_->[0] !~ /\bshirt\b/i } @{ $j->{result}{data_array} }),
    'LIKE: every returned name holds the token');

# --- pagination (vs.page_size = 7) and score_threshold -------------------------
my $want = brute($q, 20);
($st, $j) = query(query_vector => $q, num_results => 20);
is($j->{result}{row_count}, 7, 'first page: page_size rows');
ok($j->{next_page_token}, '... and a next_page_token');
my @all = @{ $j->{result}{data_array} };
my $pages = 1;
while (my $tok = $j->{next_page_token}) {
	($st, $j) = $t->vsd("$SOTA/query-next-page", { endpoint_name =>
	    'fashion-vector-search', page_token => $tok });
	is($st, 200, "next page $pages: 200") or last;
	push @all, @{ $j->{result}{data_array} };
	last if ++$pages > 5;
}
is($pages, 3, '20 results in 3 pages');
same_hits(\@all, $want, 'pages joined = brute-force top 20');
($st, $j) = query(query_vector => $q, num_results => 20,
    filters_json => qq({"article_type": "$common"}));
my $tok = $j->{next_page_token};
ok($tok, 'filtered query has pages');
($st, $j) = $t->vsd("$SOTA/query-next-page", { page_token => $tok });
same_hits($j->{result}{data_array},
    [ @{ brute($q, 14, sub { $_[0]{article_type} eq $common }) }[7 .. 13] ],
    'the filter is kept across pages');
my $cut = ($want->[4][1] + $want->[5][1]) / 2;	# between ranks 5 and 6
($st, $j) = query(query_vector => $q, num_results => 20,
    score_threshold => $cut);
same_hits($j->{result}{data_array}, [ @$want[0 .. 4] ],
    'score_threshold keeps exactly the rows scoring at least it');
ok(!$j->{next_page_token}, '... and ends the pages');
($st, $j) = $t->vsd("$SOTA/query-next-page", { page_token => 'bm9wZQ' });
is($st, 400, 'a page token that is not one: 400');
($st, $j) = $t->vsd("$IMG/query-next-page", { page_token => $tok });
is($st, 400, 'a page token of another index: 400');

# --- errors -----------------------------------------------------------------
my @bad = (
	[ 'nope.nope.nope/query', { query_vector => $q }, 404,
	  'RESOURCE_DOES_NOT_EXIST', qr/does not exist/, 'unknown index' ],
	[ "$SOTA/query", { query_vector => $q, columns => [ 'product_id', 'colour' ] },
	  400, 'INVALID_PARAMETER_VALUE',
	  qr/^Requested columns to fetch are not present in index: colour$/,
	  'unknown column' ],
	[ "$SOTA/query", { query_vector => $q, filters_json => '{"colour": "Red"}' },
	  400, 'INVALID_PARAMETER_VALUE', qr/colour/, 'filter on an unknown column' ],
	[ "$SOTA/query", { query_vector => $q, filters_json => '{"price <": "x"}' },
	  400, 'INVALID_PARAMETER_VALUE', qr/price/, 'filter with a wrong type' ],
	[ "$SOTA/query", { query_vector => $q, filters_json => '{"price" ' },
	  400, 'INVALID_PARAMETER_VALUE', qr/filters_json/, 'filters_json not JSON' ],
	[ "$SOTA/query", { query_vector => $q, filters_json => { a => 1 } },
	  400, 'INVALID_PARAMETER_VALUE', qr/string/, 'filters_json not a string' ],
	[ "$SOTA/query", { query_vector => [ 1, 2, 3 ] }, 400,
	  'INVALID_PARAMETER_VALUE', qr/3 dimensions, the index has 512/, 'wrong dimension' ],
	[ "$SOTA/query", { query_vector => [ ('x') x 512 ] }, 400,
	  'INVALID_PARAMETER_VALUE', qr/query_vector\[0\]/, 'non-numbers in the vector' ],
	[ "$SOTA/query", { columns => [ 'product_id' ] }, 400,
	  'INVALID_PARAMETER_VALUE', qr/query_vector is required/, 'no vector' ],
	[ "$SOTA/query", { query_text => 'red dress' }, 400,
	  'INVALID_PARAMETER_VALUE', qr/query_text/, 'query_text on a self-managed index' ],
	[ "$SOTA/query", { query_vector => $q, num_results => 0 }, 400,
	  'INVALID_PARAMETER_VALUE', qr/num_results/, 'num_results 0' ],
	[ "$SOTA/query", { query_vector => $q, num_results => 10001 }, 400,
	  'INVALID_PARAMETER_VALUE', qr/num_results/, 'num_results 10001' ],
	[ "$SOTA/query", { query_vector => $q, query_type => 'HYBRID' }, 400,
	  'INVALID_PARAMETER_VALUE', qr/ANN/, 'query_type HYBRID' ],
	[ "$SOTA/query", '{"query_vector": [1,', 400, 'MALFORMED_REQUEST',
	  qr/not valid JSON/, 'truncated JSON' ],
	[ "$SOTA/query", '[]', 400, 'MALFORMED_REQUEST', qr/object/, 'a JSON array' ],
	[ "$SOTA/frobnicate", {}, 404, 'ENDPOINT_NOT_FOUND', qr/No API/, 'unknown verb' ],
);
for my $b (@bad) {
	my ($path, $body, $status, $code, $re, $name) = @$b;
	($st, $j) = $t->vsd($path, $body);
	is($st, $status, "$name: $status");
	is($j && $j->{error_code}, $code, "$name: $code");
	like($j && $j->{message}, $re, "$name: message");
}
($st, $j) = $t->vsd("$SOTA/query");
is($st, 405, 'GET on query: 405');

# --- snapshot swap during a query loop ---------------------------------------
# The query is product A's own vector.  Between syncs the top 3 products
# lose and regain their vectors, so old and new answers differ; each answer
# must be exactly one of the two.
my $qa = $rows->[40]{v};
my $before = brute($qa, 5);
my @gone = map { $_->[0] } @$before[0 .. 2];
my $after = brute($qa, 5, sub { my $id = $_[0]{id}; !grep { $_ == $id } @gone });
my $key = sub { join ',', map { $_->[0] } @{ $_[0] } };
my %ok = ($key->($before) => 'old', $key->($after) => 'new');
my $log = $t->dir . '/swap.log';
my $pid = fork // die;
if ($pid == 0) {
	open my $fh, '>', $log or _exit(2);
	my $until = time + 8;
	while (time < $until) {
		my ($s, $r) = query(query_vector => $qa, num_results => 5);
		print $fh "$s " . ($r && $r->{result}
		    ? join(',', map { $_->[0] } @{ $r->{result}{data_array} }) : 'x') . "\n";
	}
	close $fh;
	_exit(0);
}
my $ids = join ',', @gone;
for my $round (1 .. 3) {
	$t->psql("UPDATE fashion_sota.products SET embedding = NULL
	    WHERE product_id IN ($ids)");
	($st) = $t->vsd("$SOTA/sync", {});
	is($st, 200, "swap round $round: sync without the top 3");
	# fashionctl embed wrote the same vectors into both layouts.
	$t->psql(qq{UPDATE fashion_sota.products SET embedding = (
	    SELECT embedding FROM fashion_demo.product_embeddings_multimodal m
	    WHERE m.product_id = products.product_id) WHERE product_id IN ($ids)});
	($st) = $t->vsd("$SOTA/sync", {});
	is($st, 200, "swap round $round: sync with them back");
}
waitpid($pid, 0);
my @answers = split /\n/, FashionTest::slurp($log) // '';
my %seen;
my $mixed = 0;
for my $a (@answers) {
	my ($s, $r) = split / /, $a;
	if ($s != 200 || !exists $ok{$r}) { $mixed++; diag "odd answer: $a" if $mixed < 5; next }
	$seen{$ok{$r}}++;
}
ok(@answers > 20, scalar(@answers) . ' queries ran during 6 syncs');
is($mixed, 0, 'every answer is 200 and wholly the old or the new snapshot');
ok($seen{old} && $seen{new}, "both snapshots were served (old $seen{old}, new "
    . ($seen{new} // 0) . ')');

# --- bearer token -------------------------------------------------------------
$t->stop_vsd;
$t->start_vsd({ DATABRICKS_TOKEN => 's3cret' });
($st, $j) = $t->vsd($SOTA, undef, token => '');
is($st, 401, 'token configured: no Authorization -> 401');
is($j->{error_code}, 'UNAUTHENTICATED', '... UNAUTHENTICATED');
($st, $j) = $t->vsd($SOTA, undef, token => 'wrong');
is($st, 401, 'wrong token -> 401');
($st, $j) = $t->vsd($SOTA);
is($st, 200, 'right token -> 200');
is($j->{status}{indexed_row_count}, $nsota, 'the snapshot survived the restart');

ok(kill(0, $t->vsd_pid), 'fashion-vsd master still running');
is(scalar(my @w = FashionTest::children_of($t->vsd_pid)), 2, 'both workers alive');
$t->check_logs;
done_testing();
