#!/usr/bin/perl
# fashionctl embed against fashion-clipd through nginx on the sample
# catalog: every product of both layouts gets three unit vectors, verify
# checks them, a second run skips done rows and redoes only missing ones,
# and the vectors mean something: for colour + article type queries most of
# the top 10 products by cosine similarity have both attributes.  Then the
# client's behaviour against a Model Serving endpoint that answers 429 with
# Retry-After, and against one that is down.
use strict;
use warnings;
use lib 't/lib';
use FashionTest;
use IO::Socket::INET;
use POSIX qw(_exit);
use Test::More;
use Time::HiRes qw(time);

my $t = FashionTest->new->require_binaries(qw(fashiond fashionctl fashion-clipd));
$t->setup_stack;
$t->start_clipd;
my $images = FashionTest::sample_dir() . '/images';

my ($rc, $out, $err) = $t->fashionctl('verify');
isnt($rc, 0, 'verify fails before embeddings exist');
like($out . $err, qr/embedding/i, 'and says it is about embeddings');

my $t0 = time;
($rc, $out, $err) = $t->fashionctl('embed', '--images', $images);
is($rc, 0, 'fashionctl embed succeeds') or diag "$out$err";
diag sprintf 'embedded the sample in %.1f s', time - $t0;

sub count { my ($sql) = @_; my $v = $t->psql($sql); chomp $v; $v }
my $sota = count('SELECT count(*) FROM fashion_sota.products');
is(count('SELECT count(*) FROM fashion_sota.products WHERE image_embedding IS NOT NULL
    AND text_embedding IS NOT NULL AND embedding IS NOT NULL'), $sota,
    "all $sota new-layout products have three vectors");
my $demo = count('SELECT count(*) FROM fashion_demo.productsdb');
is(count('SELECT count(*) FROM fashion_demo.productsdb p JOIN
    fashion_demo.product_embeddings_multimodal e USING (product_id)
    WHERE e.text_embedding IS NOT NULL AND e.embedding IS NOT NULL'), $demo,
    "all $demo old-layout products have text and hybrid vectors");
is(count('SELECT count(*) FROM fashion_sota.products p WHERE abs(
    (SELECT sqrt(sum(x * x)) FROM unnest(p.embedding) x) - 1) > 1e-3'), 0,
    'hybrid vectors are unit norm');
is(count('SELECT count(*) FROM fashion_sota.products p JOIN
    fashion_demo.product_embeddings_multimodal e USING (product_id)
    WHERE p.image_embedding <> e.image_embedding'), 0,
    'both layouts hold the same vectors');

($rc, $out, $err) = $t->fashionctl('verify');
is($rc, 0, 'verify passes after embed') or diag "$out$err";

# Resumable: a second run has nothing to do; lost vectors are redone.
($rc, $out, $err) = $t->fashionctl('embed', '--images', $images);
is($rc, 0, 'second run succeeds');
like($err . $out, qr/\b0 (products )?embedded|nothing to do/i, 'second run embeds nothing') or diag "$out$err";
my $before = count('SELECT md5(image_embedding::text) FROM fashion_sota.products ORDER BY product_id LIMIT 1');
$t->psql('UPDATE fashion_sota.products SET image_embedding = NULL, text_embedding = NULL,
    embedding = NULL WHERE product_id IN (SELECT product_id FROM fashion_sota.products ORDER BY product_id LIMIT 7)');
($rc, $out, $err) = $t->fashionctl('verify');
isnt($rc, 0, 'verify notices missing vectors');
($rc, $out, $err) = $t->fashionctl('embed', '--images', $images);
is($rc, 0, 'third run succeeds');
like($err . $out, qr/\b7 (products )?embedded/i, 'exactly the 7 missing products are redone') or diag "$out$err";
is(count('SELECT md5(image_embedding::text) FROM fashion_sota.products ORDER BY product_id LIMIT 1'),
    $before, 'recomputed vectors are identical (deterministic)');
($rc) = $t->fashionctl('verify');
is($rc, 0, 'verify passes again');

# Semantic smoke test: text query vs product photos (image_embedding) and
# vs the hybrid vector the unified index serves.
my @queries = (
	[ 'red tshirt', 'Red', 'Tshirts' ],
	[ 'black watch', 'Black', 'Watches' ],
	[ 'blue jeans', 'Blue', 'Jeans' ],
	[ 'white sports shoes', 'White', 'Sports Shoes' ],
	[ 'black heels', 'Black', 'Heels' ],
	[ 'pink top', 'Pink', 'Tops' ],
	[ 'brown belt', 'Brown', 'Belts' ],
	[ 'black sunglasses', 'Black', 'Sunglasses' ],
);
my ($st, $d) = $t->clip_invoke({ inputs => [ map { $_->[0] } @queries ] });
is($st, 200, 'queries embedded');
for my $i (0 .. $#queries) {
	my ($q, $colour, $type) = @{ $queries[$i] };
	my $vec = '{' . join(',', @{ $d->{predictions}[$i] }) . '}';
	for my $col (qw(image_embedding embedding)) {
		my @top = map { [ split /\|/ ] } $t->psql("SELECT base_color, article_type
		    FROM fashion_sota.products p ORDER BY (SELECT sum(a * b)
		    FROM unnest(p.$col, '$vec'::real[]) AS u(a, b)) DESC LIMIT 10");
		my $both = grep { $_->[0] eq $colour && $_->[1] eq $type } @top;
		cmp_ok($both, '>=', 6, "'$q' vs $col: $both of the top 10 are $colour $type");
	}
}

# --- the client against a Model Serving endpoint that pushes back ---------
# A minimal endpoint speaking the documented protocol: the first request is
# answered 429 with Retry-After: 1, later ones with unit vectors.
sub fake_endpoint {
	my ($mode) = @_;
	my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
	    Listen => 16, ReuseAddr => 1) or die "listen: $!";
	my $port = $srv->sockport;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		my $n = 0;
		alarm 120;
		while (my $c = $srv->accept) {
			my ($head, $body) = ('', '');
			while (my $l = <$c>) { $head .= $l; last if $l eq "\r\n" }
			my ($len) = $head =~ /content-length:\s*(\d+)/i;
			read($c, $body, $len // 0);
			my $rows = () = $body =~ /"(?:text|image)"/g;
			$n++;
			if ($n == 1) {
				print $c "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Type: application/json\r\nContent-Length: 62\r\nConnection: close\r\n\r\n"
				    . '{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow down"}' . ' ';
			} else {
				my $v = '[' . join(',', (1 / sqrt(512)) x 512) . ']';
				my $b = '{"predictions":[' . join(',', ($v) x $rows) . ']}';
				print $c "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " . length($b) . "\r\nConnection: close\r\n\r\n$b";
			}
			close $c;
		}
		_exit(0);
	}
	close $srv;
	return ($pid, $port);
}

my ($fpid, $fport) = fake_endpoint();
my $cfg2 = $t->dir . '/fake.cfg';
FashionTest::spew($cfg2, $t->config_text(profile => 'fashion_sota',
    'clip.url' => "http://127.0.0.1:$fport", 'clip.max_batch' => 8));
$t->psql('UPDATE fashion_sota.products SET image_embedding = NULL, text_embedding = NULL,
    embedding = NULL WHERE product_id IN (SELECT product_id FROM fashion_sota.products ORDER BY product_id LIMIT 3)');
$t0 = time;
($rc, $out, $err) = $t->run([ FashionTest::builddir() . '/fashionctl', '-c', $cfg2,
    'embed', '--images', $images ], timeout => 60);
my $took = time - $t0;
is($rc, 0, 'embed succeeds after a 429') or diag "$out$err";
cmp_ok($took, '>=', 0.9, sprintf('it waited for Retry-After (%.1f s)', $took));
kill 'KILL', $fpid;
waitpid($fpid, 0);

# Endpoint down: a clear error and exit status 1, no partial rows.
my $dead = FashionTest::free_port();
FashionTest::spew($cfg2, $t->config_text(profile => 'fashion_sota',
    'clip.url' => "http://127.0.0.1:$dead", 'clip.retries' => 1));
$t->psql('UPDATE fashion_sota.products SET image_embedding = NULL, text_embedding = NULL,
    embedding = NULL WHERE product_id IN (SELECT product_id FROM fashion_sota.products ORDER BY product_id LIMIT 3)');
($rc, $out, $err) = $t->run([ FashionTest::builddir() . '/fashionctl', '-c', $cfg2,
    'embed', '--images', $images ], timeout => 60);
is($rc, 1, 'embed with the endpoint down exits 1');
like($err, qr/clip|connect|unavailable|down/i, 'and says why') or diag $err;
is(count('SELECT count(*) FROM fashion_sota.products WHERE (image_embedding IS NULL) <> (embedding IS NULL)
    OR (text_embedding IS NULL) <> (embedding IS NULL)'), 0, 'no half-written product');

# Bearer token: fashion-clipd requires one, fashionctl sends it from the
# environment variable clip.token_env names.
$t->stop_clipd;
$t->start_clipd({ DATABRICKS_TOKEN => 'tok-85' });
$t->psql('UPDATE fashion_sota.products SET image_embedding = NULL, text_embedding = NULL,
    embedding = NULL WHERE product_id IN (SELECT product_id FROM fashion_sota.products ORDER BY product_id LIMIT 3)');
($rc, $out, $err) = $t->fashionctl({ env => { DATABRICKS_TOKEN => '' } }, 'embed', '--images', $images);
is($rc, 1, 'without the token: embed fails');
like($err, qr/401|UNAUTHENTICATED|token/i, 'and says the endpoint refused it') or diag $err;
($rc, $out, $err) = $t->fashionctl({ env => { DATABRICKS_TOKEN => 'tok-85' } }, 'embed', '--images', $images);
is($rc, 0, 'with DATABRICKS_TOKEN set: embed succeeds') or diag "$out$err";
like($err . $out, qr/\b3 (products )?embedded/i, 'the 3 missing products are done');
unlike(FashionTest::slurp($t->clipd_log) . $out . $err, qr/tok-85/, 'the token is never printed');

$t->check_logs;
done_testing;
