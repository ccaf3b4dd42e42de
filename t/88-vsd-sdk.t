#!/usr/bin/perl
# The official Databricks JS SDK (@databricks/sdk-experimental, pinned in
# t/js/package.json) against fashion-vsd through nginx: getIndex, queryIndex
# and queryNextPage give what a brute-force search over the database gives,
# filters_json selects the right rows, errors come back as the SDK's
# ApiError with Databricks' codes, syncIndex works.  The JS side is
# t/js/vsd_sdk.mjs (its header says how the SDK behaves on the wire); it
# prints TAP, which is replayed here.
#
# Needs node (>= 18) and the SDK installed: npm ci --prefix t/js (what
# scripts/test does); skipped without them.
use strict;
use warnings;
use lib 't/lib';
use FashionTest;
use File::Path qw(make_path);
use JSON::PP;
use Test::More;

my $src = FashionTest::srcdir();
my $script = "$src/t/js/vsd_sdk.mjs";
my ($node) = grep { -x "$_/node" } split /:/, $ENV{PATH} // '';
plan skip_all => 'node not installed' unless $node;
my $nodever = `node --version 2>/dev/null` // '';
plan skip_all => "node $nodever is too old (need >= 18)"
    unless $nodever =~ /^v(\d+)\./ && $1 >= 18;
plan skip_all => 'the JS SDK is not installed (npm ci --prefix t/js)'
    unless -d "$src/t/js/node_modules/\@databricks/sdk-experimental";

my $INDEX = 'main.fashion_sota.product_embeddings_index';
my $TOKEN = 'vsd-sdk-88-token';
my $PAGE = 4;		# vs.page_size: 10 results come in 3 pages

my $t = FashionTest->new->require_binaries(qw(fashiond fashionctl fashion-clipd fashion-vsd));
$t->setup_stack(config => { 'vs.page_size' => $PAGE });
$t->start_clipd;
my ($rc, $out, $err) = $t->fashionctl('embed', '--images', FashionTest::sample_dir() . '/images');
is($rc, 0, 'fashionctl embed succeeds') or BAIL_OUT("embed failed: $out$err");
$t->start_vsd({ DATABRICKS_TOKEN => $TOKEN });
my $sync = eval { $t->vsd_sync($INDEX) };
ok($sync, "$INDEX synced through the service") or BAIL_OUT("sync: $@");

# --- the expectation, by brute force over the database --------------------
# real[] text is the shortest exact form of each float; pack/unpack 'f'
# makes the Perl double that exact float32, as the snapshot stores it.
my @rows;
for my $line ($t->psql("SELECT product_id, article_type, gender, price,
    base_color IS NULL, coalesce(base_color, ''), embedding
    FROM fashion_sota.products WHERE embedding IS NOT NULL ORDER BY product_id")) {
	my ($id, $type, $gender, $price, $cnull, $color, $vec) = split /\|/, $line, 7;
	$vec =~ s/^\{|\}$//g;
	my @v = map { unpack 'f', pack 'f', $_ } split /,/, $vec;
	die "product $id: " . scalar(@v) . " dimensions" unless @v == 512;
	push @rows, { id => 0 + $id, article_type => $type, gender => $gender,
	    price => 0 + $price, base_color => $cnull eq 't' ? undef : $color,
	    v => \@v };
}
my $count = $t->psql('SELECT count(*) FROM fashion_sota.products');
cmp_ok(scalar @rows, '>', 100, scalar(@rows) . " products with a vector (of $count)");

# The query: the first product of the most common article type.
my %ntype;
$ntype{ $_->{article_type} }++ for @rows;
my ($type) = sort { $ntype{$b} <=> $ntype{$a} || $a cmp $b } keys %ntype;
my ($q) = grep { $_->{article_type} eq $type } @rows;
for my $r (@rows) {
	my $d2 = 0;
	my $v = $r->{v};
	$d2 += ($q->{v}[$_] - $v->[$_]) ** 2 for 0 .. 511;
	$r->{d2} = $d2;
	$r->{score} = 1 / (1 + $d2);
}
# Ties go to the earlier snapshot row; the snapshot is in product_id order.
my @ranked = sort { $a->{d2} <=> $b->{d2} || $a->{id} <=> $b->{id} } @rows;

sub top {
	my ($n, $pred) = @_;
	my @m = grep { $pred->($_) } @ranked;
	$#m = $n - 1 if @m > $n;
	return [ map { { id => $_->{id}, score => $_->{score},
	    article_type => $_->{article_type} } } @m ];
}

my @prices = sort { $a <=> $b } map { $_->{price} } @rows;
my $median = $prices[@prices / 2];
my $expect = {
	query_id => $q->{id},
	query_vector => $q->{v},
	num_results => 10,
	columns => [ 'product_id', 'article_type' ],
	expected => top(10, sub { 1 }),
	indexed_row_count => scalar @rows,
	page_size => $PAGE,
	filters => [
		{ filters_json => encode_json({ article_type => $type }),
		  expected => top(10, sub { $_[0]{article_type} eq $type }),
		  check => { article_type => $type } },
		{ filters_json => encode_json({ gender => [ $q->{gender}, 'Unisex' ],
		  'price <' => 0 + $median }),
		  expected => top(10, sub { ($_[0]{gender} eq $q->{gender} ||
		  $_[0]{gender} eq 'Unisex') && $_[0]{price} < $median }) },
		{ filters_json => encode_json([ { 'base_color NOT' => [ 'Black', 'White' ] },
		  { 'article_type NOT' => $type } ]),
		  expected => top(10, sub { (!defined $_[0]{base_color} ||
		  $_[0]{base_color} !~ /^(Black|White)$/) && $_[0]{article_type} ne $type }) },
	],
};
is($expect->{expected}[0]{id}, $q->{id}, "brute force: product $q->{id} ($type) ranks first");
is($expect->{expected}[0]{score}, 1, 'with score 1');
my $exp_file = $t->dir . '/vsd-sdk-expect.json';
FashionTest::spew($exp_file, JSON::PP->new->canonical->encode($expect));

# --- the SDK ------------------------------------------------------------
# Hermetic: no DATABRICKS_* from the caller, an empty HOME (no
# ~/.databrickscfg, no npm config).
my $home = $t->dir . '/home';
make_path($home);
{
	local %ENV = %ENV;
	delete $ENV{$_} for grep { /^DATABRICKS_/ } keys %ENV;
	($rc, $out, $err) = $t->run([ 'node', $script ], timeout => 300, env => {
	    HOME => $home, VSD_HOST => $t->vsd_url, DATABRICKS_TOKEN => $TOKEN,
	    VSD_INDEX => $INDEX, VSD_EXPECT => $exp_file });
}
FashionTest::replay_tap('sdk', $out, $err, 20);
is($rc, 0, 'the SDK script exits 0');

unlike(FashionTest::slurp($t->vsd_log) // '', qr/\Q$TOKEN\E/, 'vsd never logs the token');
$t->check_logs;
done_testing;
