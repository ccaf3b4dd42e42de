#!/usr/bin/perl
# fashionctl init / load / migrate / verify against a real PostgreSQL:
# the full Kaggle styles.csv (when present) into fashion_demo, then the
# bundled sample images into fashion_sota.

use strict;
use warnings;

use Test::More;
use FashionTest;

my $t = FashionTest->new->require_binaries->require_sample;
$t->start_pg;
$t->write_config(profile => 'fashion_sota');

my $sample = FashionTest::sample_dir();
my $full = FashionTest::full_styles();

# Parse a styles.csv the simple way: clean rows have exactly 10 fields.
sub read_styles {
	my ($file) = @_;
	open my $fh, '<', $file or die "$file: $!";
	my $header = <$fh>;
	my (%clean, @bad);
	while (my $l = <$fh>) {
		$l =~ s/\r?\n\z//;
		my @f = split /,/, $l, -1;
		if (@f == 10) {
			$clean{$f[0]} = \@f;
		} else {
			push @bad, $f[0];
		}
	}
	return (\%clean, \@bad);
}

my $DEMO = 'fashion_demo.productsdb';
my $SOTA = 'fashion_sota.products';
my @COLS = qw(product_id gender master_category sub_category article_type
    base_color season year usage product_display_name);

sub db_row {
	my ($table, $id) = @_;
	my $sel = join ', ', map { "coalesce(${_}::text, '')" } @COLS;
	my $r = $t->psql("SELECT $sel FROM $table WHERE product_id = $id");
	return defined $r ? [ split /\|/, $r, -1 ] : undef;
}

sub prices_digest {
	return $t->psql("SELECT md5(string_agg(product_id || ':' || price, ','"
	    . " ORDER BY product_id)) FROM $DEMO");
}

my ($rc, $out, $err) = $t->fashionctl('init');
is($rc, 0, 'init exits 0') or diag("$out$err");
is($t->psql("SELECT count(*) FROM information_schema.tables WHERE "
    . "(table_schema, table_name) IN (('fashion_demo', 'productsdb'), "
    . "('fashion_sota', 'products'))"), 2, 'init created both tables');
($rc, $out, $err) = $t->fashionctl('init');
is($rc, 0, 'init is idempotent') or diag("$out$err");

SKIP: {
	skip 'full dataset ../shared/data/kaggle-fashion-small/styles.csv '
	    . 'not present', 24 unless $full;

	my ($clean, $bad) = read_styles($full);
	is(scalar keys %$clean, 44424, 'full csv: 44,424 clean rows (sanity)');
	is(scalar @$bad, 22, 'full csv: 22 malformed rows (sanity)');

	my $t0 = time;
	($rc, $out, $err) = $t->fashionctl('load', '--styles', $full);
	is($rc, 0, 'load full styles.csv exits 0') or diag("$out$err");
	diag(sprintf 'full load took %ds', time - $t0);

	is($t->psql("SELECT count(*) FROM $DEMO"), 44424,
	    'fashion_demo.productsdb holds 44,424 rows');

	my @missing = grep { $err !~ /\b\Q$_\E\b/ } @$bad;
	ok(!@missing, 'every malformed row is reported by id on stderr')
	    or diag("not reported: @missing\nstderr: "
		. substr($err, 0, 2000));
	like($err, qr/\b22\b/, 'the number of malformed rows is reported');
	is($t->psql("SELECT count(*) FROM $DEMO WHERE product_id IN ("
	    . join(',', @$bad) . ')'), 0, 'no malformed row was loaded');

	# the two rows with a bare " parse to 10 fields: reported, but kept
	# with the quote intact (--strict-quotes rejects them)
	like($err, qr/\b7491\b/, 'id 7491 (bare quote) is reported');
	like($err, qr/\b7497\b/, 'id 7497 (bare quote) is reported');
	is($t->psql("SELECT product_display_name FROM $DEMO WHERE product_id = 7491"),
	    q{Nike Women's EM Tempo 3.5" Pink Short}, 'id 7491 loaded with its bare quote');
	is($t->psql("SELECT count(*) FROM $DEMO WHERE product_id IN (7491, 7497)"),
	    2, 'ids 7491 and 7497 loaded');

	# fields are copied faithfully (empty fields as NULL or '')
	my @ids = ((sort { $a <=> $b } keys %$clean)[0, 1, -1], 15970, 53781,
	    28319, 5402);
	my @diff;
	for my $id (@ids) {
		next unless $clean->{$id};
		my $row = db_row($DEMO, $id);
		push @diff, $id unless $row
		    && join("\x01", @$row) eq join("\x01", @{ $clean->{$id} });
	}
	ok(!@diff, 'sampled rows match the csv field by field')
	    or diag("differ: @diff");
	is($t->psql("SELECT count(*) FROM $DEMO WHERE year IS NULL"),
	    scalar(grep { $_->[7] eq '' } values %$clean), 'empty years are NULL');

	my %types;
	$types{ $_->[4] } = 1 for values %$clean;
	is($t->psql("SELECT count(DISTINCT article_type) FROM $DEMO"),
	    scalar keys %types, 'distinct article types match the csv');
	is($t->psql("SELECT count(*) FROM $DEMO WHERE price IS NULL OR price <= 0"
	    . " OR image_path <> '/Volumes/main/fashion_demo/raw_data/images/'"
	    . " || product_id || '.jpg'"), 0,
	    'every row has a positive price and the demo image_path');

	($rc, $out, $err) = $t->fashionctl('load', '--strict-quotes', '--styles', $full);
	is($rc, 0, 'load --strict-quotes exits 0') or diag("$out$err");
	is($t->psql("SELECT count(*) FROM $DEMO"), 44422,
	    '--strict-quotes: 44,422 rows');
	is($t->psql("SELECT count(*) FROM $DEMO WHERE product_id IN (7491, 7497)"),
	    0, '--strict-quotes: 7491 and 7497 rejected');
	ok($err =~ /\b7491\b/ && $err =~ /\b7497\b/,
	    '--strict-quotes: both reported by id');
	like($err, qr/\b24\b/, '--strict-quotes: 24 malformed rows reported');

	($rc, $out, $err) = $t->fashionctl('load', '--styles', $full);
	is($rc, 0, 'load again without --strict-quotes') or diag("$out$err");
	my $digest = prices_digest();
	($rc, $out, $err) = $t->fashionctl('load', '--styles', $full);
	is($rc, 0, 'second load exits 0') or diag("$out$err");
	is($t->psql("SELECT count(*) FROM $DEMO"), 44424,
	    'second load: still 44,424 rows (idempotent)');
	is(prices_digest(), $digest, 'prices are deterministic across loads');
}

# the sample: load it too (ids already there are updated in place), then
# migrate with the sample images
my ($sclean, $sbad) = read_styles("$sample/styles.csv");
($rc, $out, $err) = $t->fashionctl('load', '--styles', "$sample/styles.csv");
is($rc, 0, 'load sample styles.csv exits 0') or diag("$out$err");
my @missing = grep { $err !~ /\b\Q$_\E\b/ } @$sbad;
ok(!@missing, 'sample: malformed rows reported by id') or diag("@missing");

# a load replaces the catalog with the file's clean rows
my $demo = $t->psql("SELECT count(*) FROM $DEMO");
is($demo, scalar keys %$sclean, "sample: the catalog is the sample's "
    . scalar(keys %$sclean) . ' clean rows');

($rc, $out, $err) = $t->fashionctl('migrate', '--images', "$sample/images");
is($rc, 0, 'migrate --images data/sample/images exits 0') or diag("$out$err");

my $sota = $t->psql("SELECT count(*) FROM $SOTA");
cmp_ok($sota, '>', 0, "fashion_sota.products is filled ($sota rows)");
cmp_ok($sota, '<=', $demo, 'sota count <= demo count');

opendir my $dh, "$sample/images" or die $!;
my %img = map { /^(\d+)\.jpg$/ ? ($1 => 1) : () } readdir $dh;
closedir $dh;

my @sota_ids = $t->psql("SELECT product_id FROM $SOTA ORDER BY 1");
my @noimg = grep { !$img{$_} } @sota_ids;
ok(!@noimg, 'every sota product has an image file')
    or diag("@noimg[0 .. ($#noimg < 9 ? $#noimg : 9)]");

for my $id (12347, 39401) {
	next unless $sclean->{$id};
	is($t->psql("SELECT count(*) FROM $SOTA WHERE product_id = $id"), 0,
	    "id $id (no image) is absent from fashion_sota.products");
	is($t->psql("SELECT count(*) FROM $DEMO WHERE product_id = $id"), 1,
	    "id $id is in fashion_demo.productsdb");
}

# every clean sample row with an image made it across
my %in_sota = map { $_ => 1 } @sota_ids;
my @lost = grep { $img{$_} && !$in_sota{$_} } sort { $a <=> $b } keys %$sclean;
ok(@lost == 0, 'every clean sample row with an image is migrated')
    or diag(scalar(@lost) . " lost, e.g. @lost[0 .. ($#lost < 9 ? $#lost : 9)]");

# the common columns are copied unchanged, brand is derived
is($t->psql("SELECT count(*) FROM $SOTA s JOIN $DEMO d USING (product_id) "
    . 'WHERE (s.gender, s.master_category, s.sub_category, s.article_type, '
    . 's.base_color, s.season, s.year, s.usage, s.product_display_name, s.price)'
    . ' IS DISTINCT FROM (d.gender, d.master_category, d.sub_category, '
    . 'd.article_type, d.base_color, d.season, d.year, d.usage, '
    . 'd.product_display_name, d.price)'), 0,
    'sota rows carry the demo columns unchanged');
is($t->psql("SELECT count(*) FROM $SOTA s LEFT JOIN $DEMO d USING (product_id)"
    . ' WHERE d.product_id IS NULL'), 0, 'no sota row without a demo row');

my $branded = $t->psql("SELECT count(*) FROM $SOTA WHERE brand IS NOT NULL AND brand <> ''");
cmp_ok($branded, '>', $sota / 2, "brand is set for most rows ($branded)");
my $prefix = $t->psql("SELECT count(*) FROM $SOTA WHERE brand <> '' AND "
    . "lower(product_display_name) LIKE lower(brand) || '%'");
cmp_ok($prefix, '>=', 0.9 * $branded,
    "brands come from the display name ($prefix of $branded are a prefix)");
is($t->psql("SELECT brand FROM $SOTA WHERE product_id = 15970"), 'Turtle',
    'brand of 15970 "Turtle Check Men Navy Blue Shirt" is Turtle')
    if $t->psql("SELECT count(*) FROM $SOTA WHERE product_id = 15970");

is($t->psql("SELECT count(*) FROM $SOTA WHERE image_path <> "
    . "'/Volumes/main/fashion_sota/product_images/' || product_id || '.jpg'"),
    0, 'sota image_path follows the sota template');
is($t->psql("SELECT count(*) FROM $SOTA WHERE image_width NOT BETWEEN 1 AND 4096"
    . ' OR image_height NOT BETWEEN 1 AND 4096'), 0,
    'image sizes are sane');

# migrate is idempotent
($rc, $out, $err) = $t->fashionctl('migrate', '--images', "$sample/images");
is($rc, 0, 'second migrate exits 0') or diag("$out$err");
is($t->psql("SELECT count(*) FROM $SOTA"), $sota, 'second migrate: same count');

# Everything but the vectors checks out (fashionctl embed fills those;
# t/85-embed.t covers it).
($rc, $out, $err) = $t->fashionctl('verify');
is($rc, 1, 'verify exits 1: no embeddings yet') or diag("$out$err");
my @fails = grep { /^\s*FAIL\b/ } split /\n/, "$out$err";
ok(@fails > 0, 'verify reports failures');
is_deeply([ grep { !/embedding/i } @fails ], [], 'and every failure is about embeddings')
    or diag("$out$err");

# a styles file that does not exist fails cleanly
($rc, $out, $err) = $t->fashionctl('load', '--styles', $t->dir . '/nope.csv');
isnt($rc, 0, 'load of a missing file exits non-zero');
like($err, qr/nope\.csv/, 'and names the file');
is($t->psql("SELECT count(*) FROM $DEMO"), $demo, 'and changes nothing');

done_testing;
