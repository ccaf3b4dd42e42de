#!/usr/bin/perl
# Preferences, likes and personalised recommendations (issue 5): who may
# read and change what (anonymous / A on A / A on B for every endpoint);
# strict validation of a preferences update, a refused one leaving the row
# as it was; likes moving the style vector by the documented rule and
# changing the recommendations; liked products left out; restrictions
# holding for every product on the vector path and on the SQL fallback
# (Vector Search stopped); at most 3 of one article type; scores and
# reasons; and the old layout serving its own tables after a switch.
use strict;
use warnings;
use lib 't/lib';
use FashionTest;
use JSON::PP;
use List::Util qw(max sum);
use Test::More;

my $t = FashionTest->new->require_binaries(qw(fashiond fashionctl
    fashion-clipd fashion-vsd));
$t->setup_stack(config => { 'vs.timeout' => 1500 });
$t->start_search;
my ($rc, $out, $err);

my $UNIFIED = 'main.fashion_sota.product_embeddings_index';
my $json = JSON::PP->new->utf8->canonical;
my $EN_DASH = "\x{2013}";

sub req { $t->shopper_request(@_) }
sub q1 { my @r = $t->psql($_[0]); $r[0] }
sub signup {
	my ($email) = @_;
	my @r = req('POST', '/api/v1/auth/signup', { email => $email,
	    password => 'correct horse battery', display_name => 'Shopper' });
	is($r[0], 201, "signup $email") or BAIL_OUT("signup: $r[0] $r[3]");
	my $tok = FashionTest::session_cookie($r[2]);
	return ($r[1]{user}{user_id}, $tok);
}
sub ids { [ map { $_->{product_id} } @{ $_[0]{products} } ] }
sub ids_of {	# product ids from SQL
	[ map { $_ + 0 } $t->psql($_[0]) ];
}
sub max_per_type {
	my %n;
	$n{ $_->{article_type} }++ for @{ $_[0]{products} };
	return max(values %n) // 0;
}

my ($A, $sa) = signup('a@example.com');
my ($B, $sb) = signup('b@example.com');

# --- who may do what ----------------------------------------------------------
my $pid0 = q1("SELECT min(product_id) FROM fashion_sota.products");
my @endpoints = (
	[ 'GET', 'preferences' ],
	[ 'PUT', 'preferences', {} ],
	[ 'GET', 'recommendations' ],
	[ 'POST', "likes/$pid0" ],
	[ 'DELETE', "likes/$pid0" ],
);
for my $e (@endpoints) {
	my ($m, $what, $body) = @$e;
	$t->is_json_error([ req($m, "/api/v1/users/$A/$what", $body) ], 401,
	    'unauthenticated', "$m $what, anonymous: 401");
	my @r = req($m, "/api/v1/users/$A/$what", $body, session => $sa);
	is($r[0], 200, "$m $what, A on A: 200") or diag $r[3];
	$t->is_json_error([ req($m, "/api/v1/users/$B/$what", $body,
	    session => $sa) ], 403, 'forbidden', "$m $what, A on B: 403");
	$t->is_json_error([ req($m, "/api/v1/users/$A/$what", $body,
	    session => $sb) ], 403, 'forbidden', "$m $what, B on A: 403");
	next if $m eq 'GET';
	$t->is_json_error([ req($m, "/api/v1/users/$A/$what", $body,
	    session => $sa, no_origin => 1) ], 403, 'csrf',
	    "$m $what without Origin: 403 csrf");
	$t->is_json_error([ req($m, "/api/v1/users/$A/$what", $body,
	    session => $sa, headers => { Origin => 'http://evil.example' }) ],
	    403, 'csrf', "$m $what from another site: 403 csrf");
}
$t->is_json_error([ req('GET', '/api/v1/users/abc/preferences', undef,
    session => $sa) ], 400, 'invalid_id', 'a user id that is not a number: 400');
is(q1("SELECT count(*) FROM fashion_sota.user_likes"), 0,
    'no like was left behind by the refused requests');

# --- preferences ----------------------------------------------------------------
my @r = req('GET', "/api/v1/users/$B/preferences", undef, session => $sb);
is_deeply($r[1], { user_id => $B, preferred_categories => [],
    preferred_colors => [], preferred_brands => [], min_price => undef,
    max_price => undef, has_style_vector => JSON::PP::false, likes => 0,
    updated_at => undef }, 'defaults before any preferences');
my %prefs = (preferred_categories => [ 'Topwear', 'Bottomwear' ],
    preferred_colors => [ 'Blue', 'Black' ], preferred_brands => [],
    min_price => 500, max_price => 1500);
@r = req('PUT', "/api/v1/users/$A/preferences", \%prefs, session => $sa);
is($r[0], 200, 'PUT preferences: 200') or diag $r[3];
is_deeply({ map { $_ => $r[1]{$_} } keys %prefs }, \%prefs, '... answers them');
like($r[1]{updated_at}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, '... updated_at');
@r = req('GET', "/api/v1/users/$A/preferences", undef, session => $sa);
is_deeply({ map { $_ => $r[1]{$_} } keys %prefs }, \%prefs, 'GET reads them back');
my $row = q1("SELECT preferred_categories, preferred_colors, min_price, max_price
    FROM fashion_sota.user_preferences WHERE user_id = $A");
is($row, '{Topwear,Bottomwear}|{Blue,Black}|500.00|1500.00', '... the row');

my $nul = '{"preferred_colors": ["a\u0000b"]}';
my @bad = (
	[ { preferred_colors => [ 'x' x 101 ] }, 'invalid_parameter', 'a 101-byte colour' ],
	[ { preferred_colors => [ ('Red') x 21 ] }, 'invalid_parameter', '21 colours' ],
	[ { preferred_colors => [ '' ] }, 'invalid_parameter', 'an empty colour' ],
	[ { preferred_colors => 'Blue' }, 'invalid_parameter', 'a string, not a list' ],
	[ { preferred_categories => [ 7 ] }, 'invalid_parameter', 'a number in the list' ],
	[ { preferred_brands => [ [ 'x' ] ] }, 'invalid_parameter', 'a list in the list' ],
	[ { preferred_brands => undef }, 'invalid_parameter', 'null for a list' ],
	[ { min_price => '500' }, 'invalid_parameter', 'a price as a string' ],
	[ { min_price => JSON::PP::true }, 'invalid_parameter', 'a price as a boolean' ],
	[ { max_price => -1 }, 'invalid_parameter', 'a negative price' ],
	[ { max_price => 1e12 }, 'invalid_parameter', 'a price too large' ],
	[ { min_price => 900, max_price => 100 }, 'invalid_parameter', 'min_price > max_price' ],
	[ { colours => [ 'Red' ] }, 'unknown_field', 'an unknown field' ],
	[ '{"preferred_colors": ["\xff\xfe"]}', undef, 'invalid UTF-8' ],
	[ $nul, 'invalid_parameter', 'a NUL byte' ],
	[ '[]', 'invalid_json', 'a JSON array' ],
	[ '{"min_price": 1', 'invalid_json', 'truncated JSON' ],
);
for my $b (@bad) {
	my @r = req('PUT', "/api/v1/users/$A/preferences", $b->[0], session => $sa);
	$t->is_json_error(\@r, 400, $b->[1], "PUT $b->[2]: 400");
	like($r[1]{error}{message} // '', qr/preferred_|price|unknown|JSON|UTF/,
	    '... the message names what') if $b->[1] && $b->[1] ne 'invalid_json';
}
$t->is_json_error([ req('PUT', "/api/v1/users/$A/preferences", '{}', session => $sa,
    headers => { 'Content-Type' => 'text/plain' }) ], 415, 'unsupported_media_type',
    'PUT as text/plain: 415');
is(q1("SELECT preferred_categories, preferred_colors, min_price, max_price
    FROM fashion_sota.user_preferences WHERE user_id = $A"), $row,
    'the refused updates left the row as it was');

my @meta = ("Robert'); DROP TABLE users;--", 'a"b\\c{,}', "\x{e9}t\x{e9} \x{1F600}");
@r = req('PUT', "/api/v1/users/$B/preferences", { preferred_brands => \@meta,
    preferred_colors => [ 'Red' ] }, session => $sb);
is($r[0], 200, 'SQL metacharacters, quotes, braces, non-ASCII: 200') or diag $r[3];
is_deeply($r[1]{preferred_brands}, \@meta, '... answered literally');
is(q1("SELECT preferred_brands[1] FROM fashion_sota.user_preferences WHERE user_id = $B"),
    $meta[0], '... and stored literally');
is(q1("SELECT count(*) FROM fashion_sota.users"), 2, '... the users table is fine');
@r = req('PUT', "/api/v1/users/$B/preferences", { preferred_colors => [ 'Green' ] },
    session => $sb);
is_deeply([ @{ $r[1] }{qw(preferred_brands preferred_colors min_price)} ],
    [ [], [ 'Green' ], undef ], 'PUT replaces all fields (missing ones reset)');

# --- likes and the style vector ------------------------------------------------
@r = req('GET', "/api/v1/users/$A/recommendations", undef, session => $sa);
is($r[1]{fallback}, JSON::PP::true, 'no likes yet: SQL fallback');
like($r[1]{fallback_reason}, qr/style vector/, '... saying why');
is(scalar @{ $r[1]{products} }, 10, '... still 10 products');

my $tshirts = ids_of("SELECT product_id FROM fashion_sota.products WHERE
    article_type = 'Tshirts' AND embedding IS NOT NULL ORDER BY product_id LIMIT 3");
my $watches = ids_of("SELECT product_id FROM fashion_sota.products WHERE
    article_type = 'Watches' AND embedding IS NOT NULL ORDER BY product_id LIMIT 5");
for my $p (@$tshirts) {
	@r = req('POST', "/api/v1/users/$A/likes/$p", undef, session => $sa);
	is($r[0], 200, "like $p: 200") or diag $r[3];
}
is_deeply($r[1], { product_id => $tshirts->[-1], liked => JSON::PP::true, likes => 3 },
    '... answers product_id, liked, likes');
@r = req('POST', "/api/v1/users/$A/likes/$tshirts->[0]", undef, session => $sa);
is($r[1]{likes}, 3, 'liking again is a no-op');

# The stored vector is unit(0.5 * sum of the liked products' vectors).
my $sumsql = sub { my ($uid) = @_; "WITH s AS (SELECT i, sum(0.5 * x) AS x
    FROM fashion_sota.user_likes l JOIN fashion_sota.products p USING (product_id),
    unnest(p.embedding) WITH ORDINALITY u(x, i) WHERE l.user_id = $uid GROUP BY i),
    n AS (SELECT sqrt(sum(x * x)) n FROM s)
    SELECT max(abs(s.x / n.n - f.style_vector[s.i])) FROM s, n,
    fashion_sota.user_preferences f WHERE f.user_id = $uid" };
cmp_ok(q1($sumsql->($A)), '<', 1e-5, 'style vector = unit(sum of liked vectors)');
is(q1("SELECT sqrt(sum(x * x))::numeric(6,4) FROM fashion_sota.user_preferences,
    unnest(style_vector) x WHERE user_id = $A"), '1.0000', '... of length 1');

# With a base vector: unit(base + 0.5 * sum).
$t->psql("UPDATE fashion_sota.user_preferences SET base_vector =
    (SELECT embedding FROM fashion_sota.products WHERE product_id = $watches->[4])
    WHERE user_id = $B");
@r = req('POST', "/api/v1/users/$B/likes/$tshirts->[0]", undef, session => $sb);
is($r[1]{likes}, 1, 'B likes one product');
cmp_ok(q1("WITH s AS (SELECT i, sum(w * x) x FROM (
    SELECT 1.0 w, base_vector v FROM fashion_sota.user_preferences WHERE user_id = $B
    UNION ALL SELECT 0.5, embedding FROM fashion_sota.products
    WHERE product_id = $tshirts->[0]) q, unnest(v) WITH ORDINALITY u(x, i) GROUP BY i),
    n AS (SELECT sqrt(sum(x * x)) n FROM s)
    SELECT max(abs(s.x / n.n - f.style_vector[s.i])) FROM s, n,
    fashion_sota.user_preferences f WHERE f.user_id = $B"), '<', 1e-5,
    'with a base vector: unit(base + 0.5 * liked)');
@r = req('DELETE', "/api/v1/users/$B/likes/$tshirts->[0]", undef, session => $sb);
is_deeply($r[1], { product_id => $tshirts->[0], liked => JSON::PP::false, likes => 0 },
    'unlike: liked false, likes 0');
cmp_ok(q1("SELECT max(abs(f.style_vector[i] - b.x)) FROM
    fashion_sota.user_preferences f, unnest(f.base_vector) WITH ORDINALITY b(x, i)
    WHERE f.user_id = $B"), '<', 1e-6, '... the vector is back to the (unit) base');
@r = req('DELETE', "/api/v1/users/$B/likes/$tshirts->[0]", undef, session => $sb);
is($r[1]{likes}, 0, 'unlike again: a no-op, 200') or diag $r[3];
$t->psql("UPDATE fashion_sota.user_preferences SET base_vector = NULL WHERE user_id = $B");

$t->is_json_error([ req('POST', "/api/v1/users/$A/likes/999999999", undef,
    session => $sa) ], 404, 'not_found', 'like an unknown product: 404');
$t->is_json_error([ req('DELETE', "/api/v1/users/$A/likes/999999999", undef,
    session => $sa) ], 404, 'not_found', 'unlike an unknown product: 404');
$t->is_json_error([ req('POST', "/api/v1/users/$A/likes/x1", undef,
    session => $sa) ], 400, 'invalid_id', 'like a product id that is not a number: 400');
is(q1("SELECT count(*) FROM fashion_sota.user_likes WHERE user_id = $A"), 3,
    'A has 3 likes');

# --- recommendations: vector path ------------------------------------------------
sub recs {
	my ($uid, $tok, %q) = @_;
	my $qs = FashionTest::query(%q);
	my @r = req('GET', "/api/v1/users/$uid/recommendations" . ($qs ? "?$qs" : ''),
	    undef, session => $tok);
	is($r[0], 200, "recommendations ?$qs: 200") or diag $r[3];
	return $r[1];
}
my $r1 = recs($A, $sa);
is($r1->{fallback}, JSON::PP::false, 'with a style vector: the vector path');
is($r1->{fallback_reason}, undef, '... no fallback_reason');
is($r1->{index}, $UNIFIED, '... through the unified index');
is($r1->{profile}, 'fashion_sota', '... profile');
is($r1->{limit}, 10, '... limit 10 by default');
is(scalar @{ $r1->{products} }, 10, '... 10 products');
my %liked = map { $_ => 1 } @$tshirts;
ok(!grep({ $liked{$_} } @{ ids($r1) }), 'liked products are left out');
cmp_ok(max_per_type($r1), '<=', 3, 'at most 3 of one article type')
    or diag join ',', map { $_->{article_type} } @{ $r1->{products} };

# Scores: 0.6 * similarity + 0.4 * rule, rule = mean(category, colour, price fit).
my $bad_score = 0;
my $bad_reason = 0;
for my $p (@{ $r1->{products} }) {
	my $cat = (grep { $_ eq $p->{sub_category} } @{ $prefs{preferred_categories} }) ? 1 : 0;
	my $col = (grep { $_ eq ($p->{base_color} // '') } @{ $prefs{preferred_colors} }) ? 1 : 0;
	my $fit = $p->{price} >= 500 && $p->{price} <= 1500 ? 1 : 0;
	my $rule = ($cat + $col + $fit) / 3;
	$bad_score++ if abs($p->{rule_score} - $rule) > 1e-3
	    || abs($p->{score} - (0.6 * $p->{similarity_score} + 0.4 * $rule)) > 1e-3;
	my $why = $p->{personalization_reason} // '';
	$bad_reason++ unless $why =~ /^Close to your style/
	    && ($col ? $why =~ /in your colour \Q$p->{base_color}\E/ : $why !~ /colour/)
	    && ($cat ? $why =~ /in your category \Q$p->{sub_category}\E/ : $why !~ /category/)
	    && ($fit ? $why =~ /within your price range 500${EN_DASH}1500/ : $why !~ /price/);
}
is($bad_score, 0, 'rule_score and score follow the documented rule');
is($bad_reason, 0, 'every product carries a matching personalization_reason');
diag explain $r1->{products}[0] if $bad_score || $bad_reason;
my @sc = map { $_->{score} } @{ $r1->{products} }[0 .. 2];
is_deeply(\@sc, [ sort { $b <=> $a } @sc ], 'best first');

# Diversity: the raw neighbours of B's style vector (three t-shirts) are
# mostly t-shirts; the recommendations hold at most 3.
for my $p (@$tshirts) {
	req('POST', "/api/v1/users/$B/likes/$p", undef, session => $sb);
}
my $vec = q1("SELECT array_to_json(style_vector) FROM fashion_sota.user_preferences
    WHERE user_id = $B");
my ($vst, $vj) = $t->vsd("$UNIFIED/query", { query_vector => $json->decode($vec),
    columns => [ 'product_id', 'article_type' ], num_results => 13 });
my @raw = grep { !$liked{ $_->[0] } } @{ $vj->{result}{data_array} };
my $raw_t = grep { $_->[1] eq 'Tshirts' } @raw[0 .. 9];
cmp_ok($raw_t, '>', 3, "raw nearest neighbours: $raw_t of 10 (not liked) are t-shirts");
my $rb = recs($B, $sb);
my $tees = grep { $_->{article_type} eq 'Tshirts' } @{ $rb->{products} };
is($tees, 3, 'recommendations: exactly 3 t-shirts');
cmp_ok(max_per_type($rb), '<=', 3, '... and no type more than 3 times');
is(scalar @{ $rb->{products} }, 10, '... still 10');
# Relaxed when one type is all there is.
my $rw = recs($B, $sb, restrict_category => 'Watches', limit => 10);
is(scalar @{ $rw->{products} }, 10, 'restricted to watches: 10 (diversity relaxed)');
ok(!grep({ $_->{sub_category} ne 'Watches' } @{ $rw->{products} }), '... all watches');

# Likes change the recommendations: C, without preferences (the rules
# score every product alike), likes three t-shirts, then five watches.
my ($C, $sc) = signup('c@example.com');
req('POST', "/api/v1/users/$C/likes/$_", undef, session => $sc) for @$tshirts;
my $c1 = recs($C, $sc);
@r = req('POST', "/api/v1/users/$C/likes/$_", undef, session => $sc) for @$watches;
is($r[1]{likes}, 8, 'C likes 3 t-shirts and 5 watches');
my $c2 = recs($C, $sc);
isnt(join(',', @{ ids($c2) }), join(',', @{ ids($c1) }),
    'after liking watches the recommendations differ');
my $w1 = grep { $_->{article_type} eq 'Watches' } @{ $c1->{products} };
my $w2 = grep { $_->{article_type} eq 'Watches' } @{ $c2->{products} };
cmp_ok($w2, '>', $w1, "... and hold more watches ($w1 -> $w2 of 10)");
my %cl = map { $_ => 1 } @$tshirts, @$watches;
ok(!grep({ $cl{$_} } @{ ids(recs($C, $sc, limit => 50)) }),
    '... and none of the 8 liked products, even among 50');

# A likes the watches too.
@r = req('POST', "/api/v1/users/$A/likes/$_", undef, session => $sa) for @$watches;
is($r[1]{likes}, 8, 'A now likes 3 t-shirts and 5 watches');
$liked{$_} = 1 for @$watches;
my $r2 = recs($A, $sa, limit => 50);
isnt(join(',', @{ ids($r2) }[0 .. 9]), join(',', @{ ids($r1) }),
    "A's recommendations changed too");
ok(!grep({ $liked{$_} } @{ ids($r2) }), '... none of the 8 liked products among 50');

# --- restrictions -------------------------------------------------------------------
my @restr = (
	[ { restrict_category => 'Topwear', restrict_color => 'Blue',
	    restrict_price => '300-2000' }, sub { $_[0]{sub_category} eq 'Topwear'
	    && ($_[0]{base_color} // '') eq 'Blue' && $_[0]{price} >= 300
	    && $_[0]{price} <= 2000 } ],
	[ { restrict_price => '-800' }, sub { $_[0]{price} <= 800 } ],
	[ { restrict_price => '1500-', restrict_category => 'Shoes' },
	  sub { $_[0]{price} >= 1500 && $_[0]{sub_category} eq 'Shoes' } ],
	[ { restrict_color => 'Black', limit => 20 },
	  sub { ($_[0]{base_color} // '') eq 'Black' } ],
);
for my $path ('vector', 'fallback') {
	if ($path eq 'fallback') {
		$t->stop_vsd;
	}
	for my $x (@restr) {
		my ($q, $ok) = @$x;
		my $d = recs($A, $sa, %$q);
		my $desc = join '&', map { "$_=$q->{$_}" } sort keys %$q;
		is($d->{fallback}, $path eq 'fallback' ? JSON::PP::true : JSON::PP::false,
		    "$path: $desc: fallback " . ($path eq 'fallback' ? 'true' : 'false'));
		ok(@{ $d->{products} } > 0, "$path: $desc: " . scalar(@{ $d->{products} })
		    . ' products');
		ok(!grep({ !$ok->($_) } @{ $d->{products} }),
		    "$path: $desc: every product satisfies the restrictions");
		ok(!grep({ $liked{$_} } @{ ids($d) }), "$path: $desc: no liked product");
		ok(!grep({ !length($_->{personalization_reason} // '') } @{ $d->{products} }),
		    "$path: $desc: reasons present");
	}
}
my $fb = recs($A, $sa);
like($fb->{fallback_reason}, qr/vector search service is unavailable/,
    'Vector Search down: fallback_reason says so');
is(scalar @{ $fb->{products} }, 10, '... 10 products');
ok(!grep({ defined $_->{similarity_score} } @{ $fb->{products} }),
    '... without similarity scores');
cmp_ok(max_per_type($fb), '<=', 3, '... at most 3 of one article type');
my @rs = map { $_->{rule_score} } @{ $fb->{products} };
is_deeply(\@rs, [ sort { $b <=> $a } @rs ], '... ordered by rule score');
cmp_ok($rs[0], '>=', 0.99, '... the best match all three rules');
$t->start_vsd;
ok(FashionTest::wait_for(10, sub { my @x = req('GET',
	"/api/v1/users/$A/recommendations?limit=1", undef, session => $sa);
	$x[0] == 200 && !$x[1]{fallback} }),
    'Vector Search back: the vector path again');

my @badq = (
	[ 'limit=0', 'limit 0' ], [ 'limit=51', 'limit 51' ], [ 'limit=x', 'limit x' ],
	[ 'restrict_price=abc', 'price abc' ], [ 'restrict_price=900-100', 'MIN > MAX' ],
	[ 'restrict_price=-', 'a bare dash' ], [ 'restrict_price=1-2-3', 'two dashes' ],
	[ 'restrict_price=1e3-', 'an exponent' ], [ 'restrict_color=', 'an empty colour' ],
	[ 'restrict_category=' . ('x' x 201), 'a 201-byte category' ],
	[ 'colour=Red', 'an unknown parameter' ],
);
for my $b (@badq) {
	$t->is_json_error([ req('GET', "/api/v1/users/$A/recommendations?$b->[0]",
	    undef, session => $sa) ], 400, undef, "recommendations with $b->[1]: 400");
}

# --- the old layout ---------------------------------------------------------------
($rc, $out, $err) = $t->fashionctl('switch', 'fashion_demo');
is($rc, 0, 'fashionctl switch fashion_demo') or diag "$out$err";
ok(FashionTest::wait_for(10, sub { my (undef, $h) = $t->json_get('/api/v1/health');
	$h && $h->{profile} eq 'fashion_demo' }), 'now serving fashion_demo');
$t->is_json_error([ req('GET', "/api/v1/users/$A/preferences", undef,
    session => $sa) ], 401, 'unauthenticated', 'a fashion_sota session means nothing here');
my ($D, $sd) = signup('d@example.com');
is(q1("SELECT count(*) FROM fashion_demo.usersdb WHERE user_id = $D
    AND email = 'd\@example.com'"), 1, 'the user is in fashion_demo.usersdb');
@r = req('PUT', "/api/v1/users/$D/preferences", { preferred_colors => [ 'Blue' ],
    max_price => 2000 }, session => $sd);
is($r[0], 200, 'demo: PUT preferences') or diag $r[3];
is(q1("SELECT preferred_colors FROM fashion_demo.user_style_featuresdb WHERE user_id = $D"),
    '{Blue}', '... in fashion_demo.user_style_featuresdb');
my $demo_w = ids_of("SELECT product_id FROM fashion_demo.product_embeddings_multimodal
    JOIN fashion_demo.productsdb USING (product_id) WHERE article_type = 'Watches'
    AND embedding IS NOT NULL ORDER BY product_id LIMIT 2");
for my $p (@$demo_w) {
	@r = req('POST', "/api/v1/users/$D/likes/$p", undef, session => $sd);
}
is($r[1]{likes}, 2, 'demo: two likes');
is(q1("SELECT count(*) FROM fashion_demo.user_likesdb WHERE user_id = $D"), 2,
    '... in fashion_demo.user_likesdb');
my $sum = q1("WITH s AS (SELECT i, sum(x) AS x FROM fashion_demo.user_likesdb l
    JOIN fashion_demo.product_embeddings_multimodal e USING (product_id),
    unnest(e.embedding) WITH ORDINALITY u(x, i) WHERE l.user_id = $D GROUP BY i),
    n AS (SELECT sqrt(sum(x * x)) n FROM s)
    SELECT max(abs(s.x / n.n - f.style_vector[s.i])) FROM s, n,
    fashion_demo.user_style_featuresdb f WHERE f.user_id = $D");
cmp_ok($sum, '<', 1e-5, '... style vector from fashion_demo.product_embeddings_multimodal');
my $dr = recs($D, $sd, restrict_price => '-3000');
is($dr->{fallback}, JSON::PP::false, 'demo: vector path') or diag explain $dr;
is($dr->{index}, 'main.fashion_demo.vs_hybrid_search', '... through vs_hybrid_search');
is($dr->{profile}, 'fashion_demo', '... profile fashion_demo');
ok(@{ $dr->{products} } > 0 && !grep({ exists $_->{brand} || $_->{price} > 3000 }
    @{ $dr->{products} }), '... old-layout products (no brand), restriction held');
my %dl = map { $_ => 1 } @$demo_w;
ok(!grep({ $dl{$_} } @{ ids($dr) }), '... liked ones left out');
is(q1("SELECT count(*) FROM fashion_sota.users WHERE email = 'd\@example.com'"), 0,
    'nothing of it in fashion_sota');
($rc) = $t->fashionctl('switch', 'fashion_sota');
ok(FashionTest::wait_for(10, sub { my (undef, $h) = $t->json_get('/api/v1/health');
	$h && $h->{profile} eq 'fashion_sota' }), 'switched back');
@r = req('GET', "/api/v1/users/$A/preferences", undef, session => $sa);
is($r[1]{likes}, 8, 'fashion_sota: A and their likes are still there');

$t->check_logs(allow => qr/upstream|Vector Search|vector search/);
done_testing();
