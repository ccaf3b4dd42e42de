#!/usr/bin/perl
# The catalog API through nginx, checked against psql on the same data:
# listing, filters, sorting, pagination, one product, facets, health.

use strict;
use warnings;

use Test::More;
use FashionTest;

my $t = FashionTest->setup_stack(profile => 'fashion_sota');
my $TABLE = 'fashion_sota.products';
my $q = \&FashionTest::query;

sub api {
	my ($path) = @_;
	my ($st, $data, $h, $body) = $t->json_get("/api/v1/$path");
	return ($st, $data, $h, $body);
}

sub count_where {
	my ($where) = @_;
	return $t->psql("SELECT count(*) FROM $TABLE" . ($where ? " WHERE $where" : ''));
}

sub lit {
	my ($v) = @_;
	$v =~ s/'/''/g;
	return "'$v'";
}

sub ids { [ map { $_->{product_id} } @{ $_[0]{products} // [] } ] }

my $total = count_where();
cmp_ok($total, '>', 100, "catalog loaded ($total rows)");

# the listing
{
	my ($st, $d, $h, $body) = api('products');
	is($st, 200, 'GET /products: 200');
	like($h->{'content-type'} // '', qr{^application/json}, 'content type json');
	is(ref $d, 'HASH', 'body is a JSON object') or diag($body);
	for my $k (qw(products total page page_size has_more)) {
		ok(exists $d->{$k}, "has key $k");
	}
	is(ref $d->{products}, 'ARRAY', 'products is an array');
	is($d->{page}, 1, 'default page 1');
	is($d->{page_size}, 24, 'default page_size 24');
	is(scalar @{ $d->{products} }, 24, '24 products');
	is($d->{total}, $total, 'total equals count(*)');
	ok(JSON::PP::is_bool($d->{has_more}) && $d->{has_more}, 'has_more is true');
	like($body, qr/"total"\s*:\s*\d+/, 'total is a JSON number');

	is_deeply(ids($d), [ $t->psql("SELECT product_id FROM $TABLE ORDER BY product_id LIMIT 24") ],
	    'default order is product_id ascending');

	my $p = $d->{products}[0];
	for my $k (qw(product_id gender master_category sub_category article_type
	    base_color season year usage product_display_name price image_path
	    image_url brand)) {
		ok(exists $p->{$k}, "product has $k");
	}
	my @emb = grep { /embedding/ } keys %$p;
	ok(!@emb, 'no embedding columns in a listing') or diag("@emb");
	like($body, qr/"product_id"\s*:\s*\d+[,}]/, 'product_id is a number');
	like($body, qr/"price"\s*:\s*\d+(\.\d+)?[,}]/, 'price is a number');
}

# filters, each against psql
{
	my %col = (gender => 'gender', master_category => 'master_category',
	    sub_category => 'sub_category', article_type => 'article_type',
	    base_color => 'base_color', season => 'season', usage => 'usage',
	    brand => 'brand');
	for my $param (sort keys %col) {
		my $c = $col{$param};
		# the second most common value, so it is a real restriction
		my @vals = $t->psql("SELECT $c FROM $TABLE WHERE $c IS NOT NULL AND $c <> ''"
		    . " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 2");
		my $v = $vals[-1];
		my $want = count_where("$c = " . lit($v));
		my ($st, $d) = api('products?' . $q->($param, $v, 'page_size', 100));
		is($st, 200, "filter $param=$v: 200");
		is($d->{total}, $want, "filter $param=$v: total $want");
		my @off = grep { ($_->{$param} // '') ne $v } @{ $d->{products} };
		ok(!@off, "filter $param=$v: every product matches");
	}

	my $year = $t->psql("SELECT year FROM $TABLE WHERE year IS NOT NULL "
	    . 'GROUP BY 1 ORDER BY count(*) DESC LIMIT 1');
	my ($st, $d) = api("products?year=$year");
	is($st, 200, "filter year=$year: 200");
	is($d->{total}, count_where("year = $year"), "filter year=$year: total");

	my $mid = $t->psql("SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY price) FROM $TABLE");
	my $lo = $t->psql("SELECT percentile_disc(0.25) WITHIN GROUP (ORDER BY price) FROM $TABLE");
	($st, $d) = api("products?min_price=$mid");
	is($d->{total}, count_where("price >= $mid"), "min_price=$mid");
	($st, $d) = api("products?max_price=$mid");
	is($d->{total}, count_where("price <= $mid"), "max_price=$mid");
	($st, $d) = api("products?min_price=$lo&max_price=$mid&page_size=100");
	is($d->{total}, count_where("price BETWEEN $lo AND $mid"),
	    "min_price=$lo&max_price=$mid");
	my @out = grep { $_->{price} < $lo || $_->{price} > $mid } @{ $d->{products} };
	ok(!@out, 'price range: every product inside');
	($st, $d) = api('products?min_price=0');
	is($d->{total}, $total, 'min_price=0 keeps everything');

	# combined
	my ($g, $mc) = split /\|/, $t->psql("SELECT gender, master_category FROM $TABLE "
	    . 'GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1');
	($st, $d) = api('products?' . $q->(gender => $g, master_category => $mc,
	    year => $year));
	is($d->{total}, count_where('gender = ' . lit($g) . ' AND master_category = '
	    . lit($mc) . " AND year = $year"), "combined gender+master_category+year");

	# values with spaces and matching nothing
	my $bc = $t->psql("SELECT base_color FROM $TABLE WHERE base_color LIKE '% %' LIMIT 1");
	if (defined $bc) {
		($st, $d) = api('products?' . $q->(base_color => $bc));
		is($d->{total}, count_where('base_color = ' . lit($bc)),
		    "value with a space ($bc)");
	}
	($st, $d) = api('products?' . $q->(gender => 'Nobody'));
	is($st, 200, 'filter matching nothing: 200');
	is($d->{total}, 0, 'filter matching nothing: total 0');
	is_deeply($d->{products}, [], 'filter matching nothing: empty list');
	ok(!$d->{has_more}, 'filter matching nothing: has_more false');
}

# sorting
{
	my ($st, $d) = api('products?sort_by=price&sort_order=asc&page_size=100');
	is($st, 200, 'sort_by=price asc: 200');
	my @p = map { $_->{price} } @{ $d->{products} };
	ok(!grep({ $p[$_] > $p[$_ + 1] } 0 .. $#p - 1), 'price asc is monotonic');
	is_deeply([ map { $_ + 0 } @p ],
	    [ map { $_ + 0 } $t->psql("SELECT price FROM $TABLE ORDER BY price LIMIT 100") ],
	    'price asc: the 100 cheapest');

	($st, $d) = api('products?sort_by=price&sort_order=desc&page_size=100');
	@p = map { $_->{price} } @{ $d->{products} };
	ok(!grep({ $p[$_] < $p[$_ + 1] } 0 .. $#p - 1), 'price desc is monotonic');
	is($p[0] + 0, $t->psql("SELECT max(price) FROM $TABLE") + 0, 'price desc starts at max');

	# page 2 continues page 1 (no overlap in a stable order)
	my ($s1, $d1) = api('products?sort_by=price&page_size=50&page=1');
	my ($s2, $d2) = api('products?sort_by=price&page_size=50&page=2');
	my %seen = map { $_ => 1 } @{ ids($d1) };
	ok(!grep({ $seen{$_} } @{ ids($d2) }), 'sort_by=price: pages do not overlap');
	ok($d1->{products}[-1]{price} <= $d2->{products}[0]{price},
	    'sort_by=price: page 2 continues page 1');

	($st, $d) = api('products?sort_by=year&page_size=100');
	is($st, 200, 'sort_by=year: 200');
	my @y = grep { defined } map { $_->{year} } @{ $d->{products} };
	ok(!grep({ $y[$_] > $y[$_ + 1] } 0 .. $#y - 1), 'year asc is monotonic');
	($st, $d) = api('products?sort_by=year&sort_order=desc&page_size=100');
	@y = grep { defined } map { $_->{year} } @{ $d->{products} };
	ok(!grep({ $y[$_] < $y[$_ + 1] } 0 .. $#y - 1), 'year desc is monotonic');

	($st, $d) = api('products?sort_by=product_display_name&page_size=30');
	is($st, 200, 'sort_by=product_display_name: 200');
	is_deeply([ map { $_->{product_display_name} } @{ $d->{products} } ],
	    [ $t->psql("SELECT product_display_name FROM $TABLE ORDER BY 1 LIMIT 30") ],
	    'product_display_name asc matches the database order');

	($st, $d) = api('products?sort_by=product_id&sort_order=desc&page_size=10');
	is_deeply(ids($d),
	    [ $t->psql("SELECT product_id FROM $TABLE ORDER BY 1 DESC LIMIT 10") ],
	    'product_id desc');
}

# pagination
{
	my $ps = 100;
	my $last = int(($total + $ps - 1) / $ps);
	my ($st, $d) = api("products?page_size=$ps&page=$last");
	is($st, 200, "last page $last: 200");
	is($d->{page}, $last, 'last page: page echoed');
	is($d->{page_size}, $ps, 'last page: page_size echoed');
	ok(!$d->{has_more}, 'last page: has_more false');
	is(scalar @{ $d->{products} }, $total - ($last - 1) * $ps,
	    'last page: total - (page-1)*page_size products');

	($st, $d) = api("products?page_size=$ps&page=" . ($last - 1));
	ok($d->{has_more}, 'page before last: has_more true');

	($st, $d) = api("products?page_size=$ps&page=" . ($last + 1));
	is($st, 200, 'page beyond the end: 200');
	is_deeply($d->{products}, [], 'page beyond the end: empty');
	ok(!$d->{has_more}, 'page beyond the end: has_more false');
	is($d->{total}, $total, 'page beyond the end: total still given');

	($st, $d) = api('products?page=10000');
	is($st, 200, 'page=10000 (the maximum): 200');

	# walking every page visits every product exactly once
	my (%seen, $dups);
	for my $p (1 .. $last) {
		(undef, $d) = api("products?page_size=$ps&page=$p");
		$dups += $seen{$_}++ ? 1 : 0 for @{ ids($d) };
	}
	is(scalar keys %seen, $total, 'walking all pages sees every product');
	ok(!$dups, 'no product twice');

	($st, $d) = api('products?page_size=1');
	is(scalar @{ $d->{products} }, 1, 'page_size=1');
	($st, $d) = api('products?page_size=100');
	is(scalar @{ $d->{products} }, 100, 'page_size=100');
}

# one product
{
	my $id = $t->psql("SELECT product_id FROM $TABLE WHERE brand IS NOT NULL "
	    . "AND year IS NOT NULL ORDER BY product_id OFFSET 7 LIMIT 1");
	my ($st, $d, $h, $body) = api("products/$id");
	is($st, 200, "GET /products/$id: 200");
	is($d->{product_id}, $id, 'product_id');
	my $row = $t->psql("SELECT gender, master_category, sub_category, article_type,"
	    . " base_color, season, year, usage, product_display_name, price, image_path,"
	    . " brand FROM $TABLE WHERE product_id = $id");
	my @f = split /\|/, $row, -1;
	my @k = qw(gender master_category sub_category article_type base_color
	    season year usage product_display_name price image_path brand);
	for my $i (0 .. $#k) {
		if ($k[$i] eq 'price') {
			ok(abs($d->{price} - $f[$i]) < 0.005, "price $f[$i]");
		} else {
			is($d->{ $k[$i] }, $f[$i] eq '' ? undef : $f[$i], "$k[$i]");
		}
	}
	is($d->{image_url}, "/images/$id.jpg", 'image_url');
	like($body, qr/"year"\s*:\s*\d+[,}]/, 'year is a number');

	my ($ist, $ih, $ibody) = $t->http_get($d->{image_url});
	is($ist, 200, 'image through nginx: 200');
	like($ih->{'content-type'} // '', qr{^image/jpeg}, 'image/jpeg');
	is(substr($ibody, 0, 2), "\xFF\xD8", 'a JPEG');

	# empty fields are null
	my $nid = $t->psql("SELECT product_id FROM $TABLE WHERE season IS NULL "
	    . "OR season = '' LIMIT 1");
	if (defined $nid) {
		($st, $d, $h, $body) = api("products/$nid");
		is($st, 200, "product $nid with empty season: 200");
		ok(exists $d->{season} && !defined $d->{season},
		    'empty season is null') or diag($body);
	}

	($st, $d, $h, $body) = api('products/0');
	$t->is_json_error([ $st, $d, $h, $body ], 404, 'not_found', 'unknown id 0: 404');
	my $max = $t->psql("SELECT max(product_id) + 1000 FROM $TABLE");
	$t->is_json_error("/api/v1/products/$max", 404, 'not_found', "unknown id $max: 404");
	my $gone = $t->psql("SELECT product_id FROM fashion_demo.productsdb d WHERE NOT "
	    . "EXISTS (SELECT 1 FROM $TABLE s WHERE s.product_id = d.product_id) LIMIT 1");
	$t->is_json_error("/api/v1/products/$gone", 404, 'not_found',
	    "id $gone (demo only, no image) is 404 under sota") if defined $gone;
}

# facets
{
	my ($st, $d, $h, $body) = api('products/filters/options');
	is($st, 200, 'filters/options: 200');
	my %facet = (genders => 'gender', master_categories => 'master_category',
	    sub_categories => 'sub_category', article_types => 'article_type',
	    base_colors => 'base_color', seasons => 'season', usages => 'usage',
	    years => 'year', brands => 'brand');
	for my $f (sort keys %facet) {
		my $c = $facet{$f};
		my $a = $d->{$f};
		is(ref $a, 'ARRAY', "$f is an array") or next;
		my $shape = !grep { ref ne 'HASH' || !exists $_->{value}
		    || !exists $_->{count} } @$a;
		ok($shape, "$f: items are {value, count}") or next;
		my @cnt = map { $_->{count} } @$a;
		ok(!grep({ $cnt[$_] < $cnt[$_ + 1] } 0 .. $#cnt - 1),
		    "$f: sorted by count desc");
		my %got = map { ($_->{value} // '') => $_->{count} } @$a;
		my %want = map { split /\|/ } $t->psql("SELECT $c, count(*) FROM $TABLE "
		    . "WHERE $c IS NOT NULL AND ${c}::text <> '' GROUP BY 1");
		is_deeply(\%got, \%want, "$f: values and counts match psql");
	}
	my $sum = 0;
	$sum += $_->{count} for @{ $d->{genders} // [] };
	is($sum, $total, 'gender counts sum to the total');

	my ($min, $max) = split /\|/, $t->psql("SELECT min(price), max(price) FROM $TABLE");
	is(ref $d->{price_range}, 'HASH', 'price_range is an object');
	ok(abs(($d->{price_range}{min} // -1) - $min) < 0.005, "price_range.min $min");
	ok(abs(($d->{price_range}{max} // -1) - $max) < 0.005, "price_range.max $max");
}

# health
{
	my ($st, $d, $h, $body) = api('health');
	is($st, 200, 'health: 200');
	is($d->{status}, 'ok', 'health: status ok');
	is($d->{database}, 'ok', 'health: database ok');
	is($d->{profile}, 'fashion_sota', 'health: profile fashion_sota');
	my %w = map { $_ => 1 } $t->worker_pids;
	ok($d->{worker_pid} && $w{ $d->{worker_pid} }, 'health: worker_pid is a worker')
	    or diag("worker_pid $d->{worker_pid}, workers " . join ' ', keys %w);
}

# many keep-alive requests through nginx spread over the pool
{
	my %pids;
	for (1 .. 40) {
		my ($st, $d) = api('health');
		$pids{ $d->{worker_pid} // 0 }++ if $st == 200;
	}
	cmp_ok(scalar keys %pids, '>=', 1, 'health answered by workers: '
	    . join(' ', sort keys %pids));
}

# the catalog changes under a running pool (load + migrate): totals, facets
# and products follow at once, no stale cache
{
	my ($st, $before) = api('products/filters/options');
	my $gone = $t->psql("SELECT product_id FROM $TABLE WHERE product_id % 3 = 0 "
	    . 'ORDER BY 1 LIMIT 1');
	($st) = api("products/$gone");
	is($st, 200, "product $gone there before the reload");

	my $src = FashionTest::sample_dir();
	open my $in, '<', "$src/styles.csv" or die $!;
	open my $out, '>', $t->dir . '/styles-less.csv' or die $!;
	print $out scalar <$in>;
	while (my $l = <$in>) {
		print $out $l unless $l =~ /^(\d+),/ && $1 % 3 == 0;
	}
	close $out;
	my ($rc, $o, $e) = $t->fashionctl('load', '--styles', $t->dir . '/styles-less.csv');
	is($rc, 0, 'reload a smaller catalog') or diag("$o$e");
	($rc, $o, $e) = $t->fashionctl('migrate', '--images', "$src/images");
	is($rc, 0, 'migrate it') or diag("$o$e");

	my $now = count_where();
	cmp_ok($now, '<', $total, "the catalog shrank ($total -> $now)");
	my $ok = FashionTest::wait_for(5, sub { (api('products'))[1]{total} == $now });
	ok($ok, 'listing total follows the new catalog');
	my ($gst, $gd) = api('products?gender=Men');
	is($gd->{total}, count_where("gender = 'Men'"), 'filtered total follows');
	($st) = api("products/$gone");
	is($st, 404, "product $gone gone after the reload");
	my (undef, $after) = api('products/filters/options');
	my $sum = 0;
	$sum += $_->{count} for @{ $after->{genders} // [] };
	is($sum, $now, 'facet counts follow the new catalog');
	# every worker, not just the one nginx keeps a connection to: rounds of
	# four concurrent FastCGI requests straight to the pool
	my ($stale, $n) = (0, 0);
	my $req = FashionTest::fcgi_request_bytes(uri => '/api/v1/products?page_size=1');
	for (1 .. 5) {
		my @c = grep { defined } map { $t->fcgi_connect } 1 .. 4;
		syswrite($_, $req) for @c;
		for my $c (@c) {
			my ($fst, undef, $body) = FashionTest::fcgi_read_response($c, 10);
			my $d = FashionTest::decode_json_or_undef($body);
			$n++;
			$stale++ if $fst != 200 || ($d->{total} // -1) != $now;
			close $c;
		}
	}
	is($stale, 0, "no worker serves a stale total ($n requests)");
}

$t->check_logs;
done_testing;
