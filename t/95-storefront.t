#!/usr/bin/perl
# The storefront (htdocs/) in a real browser: headless Chromium (Debian's
# chromium) driven by playwright-core (t/js/package.json) against the whole
# stack - nginx serving htdocs/ under the production security headers,
# fashiond, PostgreSQL with the sample catalog, fashion-clipd,
# fashion-vsd.  The browser side is t/js/storefront.mjs (its header lists
# the flows); it prints TAP, replayed here.  Three runs: everything up;
# CLIP and Vector Search stopped; PostgreSQL stopped.
#
# Screenshots of every page at desktop and phone widths, and the page load
# times, land in t/screenshots/ (git-ignored; FASHION_SHOTS overrides).
#
# Needs node (>= 20), chromium and playwright-core (npm ci --prefix t/js,
# what scripts/test does); skipped without them.
use strict;
use warnings;
use lib 't/lib';
use FashionTest;
use File::Path qw(make_path);
use Test::More;

my $src = FashionTest::srcdir();
my $script = "$src/t/js/storefront.mjs";
my ($chromium) = grep { -x } ($ENV{CHROMIUM} // (), '/usr/bin/chromium');
plan skip_all => 'chromium not installed (apt-get install chromium)' unless $chromium;
my $nodever = `node --version 2>/dev/null` // '';
plan skip_all => 'node >= 20 not installed'
    unless $nodever =~ /^v(\d+)\./ && $1 >= 20;
plan skip_all => 'playwright-core is not installed (npm ci --prefix t/js)'
    unless -d "$src/t/js/node_modules/playwright-core";

my $t = FashionTest->new->require_binaries(qw(fashiond fashionctl
    fashion-clipd fashion-vsd));
$t->setup_stack;
$t->start_search(personas => []);

# The photo for the image search: a catalog product's own picture.
my ($photo_id) = $t->psql("SELECT product_id FROM fashion_sota.products
    WHERE article_type = 'Tshirts' AND embedding IS NOT NULL ORDER BY product_id LIMIT 1");
ok($photo_id, "the photo of product $photo_id for the image search");

my $shots = $ENV{FASHION_SHOTS} // "$src/t/screenshots";
make_path($shots);
my $home = $t->dir . '/home';
make_path($home);

sub browser {
	my ($phase) = @_;
	my ($rc, $out, $err) = $t->run([ 'node', $script ], timeout => 480, env => {
	    HOME => $home, BASE_URL => 'http://127.0.0.1:' . $t->http_port,
	    CHROMIUM => $chromium, SHOTS => $shots, PHASE => $phase,
	    PHOTO => FashionTest::sample_dir() . "/images/$photo_id.jpg",
	    PHOTO_ID => $photo_id });
	FashionTest::replay_tap($phase, $out, $err, $phase eq 'full' ? 100 : 3);
	is($rc, 0, "$phase: the browser script exits 0");
}

browser('full');

$t->stop_clipd(10);
$t->stop_vsd(10);
browser('degraded');

ok($t->stop_pg('fast'), 'PostgreSQL stopped');
browser('nodb');

diag "screenshots: $shots";
$t->check_logs;
done_testing;
