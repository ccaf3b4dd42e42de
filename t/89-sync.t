#!/usr/bin/perl
# fashionctl sync against fashion-vsd through nginx on the embedded sample:
# without arguments it syncs the active profile's index (fashion_sota: one
# unified index) and prints its row count; --all syncs the three
# fashion_demo indexes too, each ready with the rows that have its vector
# (the image index leaves out products without an image vector); a
# re-sync picks up a changed table; an unknown index and a stopped service
# fail with exit status 1 and a message saying which and why.
use strict;
use warnings;
use lib 't/lib';
use FashionTest;
use Test::More;
use Time::HiRes qw(time);

my $t = FashionTest->new->require_binaries(qw(fashiond fashionctl fashion-clipd
    fashion-vsd));
$t->setup_stack;
$t->start_clipd;
my $images = FashionTest::sample_dir() . '/images';
my ($rc, $out, $err) = $t->fashionctl('embed', '--images', $images);
is($rc, 0, 'fashionctl embed succeeds') or diag "$out$err";
$t->start_vsd;

sub count { my ($sql) = @_; my $v = $t->psql($sql); chomp $v; $v }

my $sota_index = 'main.fashion_sota.product_embeddings_index';
my %demo_index = (
	image => 'main.fashion_demo.vs_image_search',
	text => 'main.fashion_demo.vs_text_search',
	hybrid => 'main.fashion_demo.vs_hybrid_search',
);

# Fewer products have an image vector than the others: the image index
# must leave them out (make sure there are some, whatever the sample).
$t->psql('UPDATE fashion_demo.product_embeddings_multimodal SET image_embedding = NULL
    WHERE product_id IN (SELECT product_id FROM fashion_demo.product_embeddings_multimodal
    ORDER BY product_id LIMIT 5)');
my $sota_rows = count('SELECT count(*) FROM fashion_sota.products WHERE embedding IS NOT NULL');
my %demo_rows = map {
	my $col = $_ eq 'hybrid' ? 'embedding' : "${_}_embedding";
	$_ => count("SELECT count(*) FROM fashion_demo.product_embeddings_multimodal e
	    JOIN fashion_demo.productsdb p USING (product_id) WHERE e.$col IS NOT NULL")
} keys %demo_index;
cmp_ok($sota_rows, '>', 1000, "$sota_rows new-layout products have a vector");
cmp_ok($demo_rows{image}, '<', $demo_rows{text}, 'the image index has fewer rows to hold');

my ($st, $j) = $t->vsd($sota_index);
is($st, 200, 'describe before any sync');
ok(!$j->{status}{ready}, 'the unified index is not ready before a sync');

# Default: the active profile's distinct indexes (fashion_sota: one).
($rc, $out, $err) = $t->fashionctl('sync');
is($rc, 0, 'fashionctl sync succeeds') or diag "$out$err";
my @lines = grep { /^sync: / } split /\n/, $out;
is(scalar @lines, 1, 'one index synced (the three roles share it)') or diag $out;
like($out, qr/^sync: \Q$sota_index\E: $sota_rows rows, ready in [\d.]+ s$/m,
    "it prints the unified index with $sota_rows rows and the time taken")
    or diag "$out$err";
unlike($out, qr/fashion_demo/, 'the old layout\'s indexes are left alone');
($st, $j) = $t->vsd($sota_index);
ok($j->{status}{ready}, 'the unified index is ready') or diag explain $j;
is($j->{status}{indexed_row_count}, $sota_rows, 'with every product that has a vector');
($st, $j) = $t->vsd($demo_index{text});
ok(!$j->{status}{ready}, 'a fashion_demo index is still unsynced');

# --all: the three fashion_demo indexes as well.
($rc, $out, $err) = $t->fashionctl('sync', '--all');
is($rc, 0, 'fashionctl sync --all succeeds') or diag "$out$err";
@lines = grep { /^sync: / } split /\n/, $out;
is(scalar @lines, 4, 'four distinct indexes synced') or diag $out;
like($out, qr/^sync: \Q$sota_index\E: $sota_rows rows/m, 'the unified one again');
for my $role (sort keys %demo_index) {
	my $name = $demo_index{$role};
	like($out, qr/^sync: \Q$name\E: $demo_rows{$role} rows, ready in [\d.]+ s$/m,
	    "$role index: $demo_rows{$role} rows printed");
	($st, $j) = $t->vsd($name);
	is($st, 200, "$name described");
	ok($j->{status}{ready}, "$name is ready") or diag explain $j;
	is($j->{status}{indexed_row_count}, $demo_rows{$role},
	    "$name holds the $demo_rows{$role} rows with its vector");
}

# A changed table shows after the next sync of that index only.
$t->psql("UPDATE fashion_sota.products SET embedding = NULL
    WHERE product_id IN (SELECT product_id FROM fashion_sota.products ORDER BY product_id LIMIT 3)");
($rc, $out, $err) = $t->fashionctl('sync', $sota_index);
is($rc, 0, 'sync of a named index succeeds') or diag "$out$err";
my $fewer = $sota_rows - 3;
like($out, qr/^sync: \Q$sota_index\E: $fewer rows/m, 're-sync sees the 3 vectors gone');
is(($t->vsd($sota_index))[1]{status}{indexed_row_count}, $fewer, 'and so does describe');

# An index the service does not have: exit 1, named, the others still done.
($rc, $out, $err) = $t->fashionctl('sync', 'main.nowhere.no_such_index', $demo_index{text});
is($rc, 1, 'an unknown index: exit status 1');
like($err, qr/main\.nowhere\.no_such_index/, 'the message names it') or diag $err;
like($err, qr/no such index|not exist|404/i, 'and says it does not exist') or diag $err;
like($out, qr/^sync: \Q$demo_index{text}\E: $demo_rows{text} rows/m,
    'the other named index is still synced') or diag "$out$err";

# Usage errors.
($rc) = $t->fashionctl('sync', '--all', $sota_index);
is($rc, 2, '--all with names is a usage error');
($rc) = $t->fashionctl('sync', '--bogus');
is($rc, 2, 'an unknown option is a usage error');

# The service down: exit 1 within seconds, saying so and naming vs.url.
$t->stop_vsd;
my $t0 = time;
($rc, $out, $err) = $t->fashionctl({ timeout => 60 }, 'sync', '--all');
my $took = time - $t0;
is($rc, 1, 'fashion-vsd stopped: exit status 1');
my $any = join '|', map { quotemeta } $sota_index, values %demo_index;
like($err, qr/sync (?:$any): /, 'the message names the index') or diag $err;
like($err, qr/unreachable/i, 'and says the service is unreachable') or diag $err;
like($err, qr/\Q${\ $t->vsd_url }\E/, 'naming vs.url') or diag $err;
cmp_ok($took, '<', 10, sprintf('within seconds (%.1f s)', $took));
is(scalar(() = $err =~ /unreachable/gi), 1, 'the other indexes are not tried one by one')
    or diag $err;

# Nothing listening at vs.url at all (no nginx in front): the same.
my $dead = FashionTest::free_port();
my $cfg2 = $t->dir . '/dead.cfg';
FashionTest::spew($cfg2, $t->config_text(profile => 'fashion_sota',
    'vs.url' => "http://127.0.0.1:$dead"));
$t0 = time;
($rc, $out, $err) = $t->run([ FashionTest::builddir() . '/fashionctl', '-c', $cfg2,
    'sync' ], timeout => 60);
$took = time - $t0;
is($rc, 1, 'nothing at vs.url: exit status 1');
like($err, qr/unreachable.*127\.0\.0\.1:$dead|127\.0\.0\.1:$dead.*unreachable/i,
    'says the service at vs.url is unreachable') or diag $err;
cmp_ok($took, '<', 10, sprintf('within seconds (%.1f s)', $took));

$t->check_logs;
done_testing;
