#!/usr/bin/perl
# fashion-clipd through nginx: every request format of the Model Serving
# invocations API, batch limits, bad input of every kind (JSON errors, the
# service stays up), determinism, parity of the HTTP answer with PyTorch's
# golden vectors, the bearer token.
use strict;
use warnings;
use lib 't/lib';
use FashionTest;
use MIME::Base64 qw(encode_base64);
use Test::More;

my $t = FashionTest->new->require_binaries('fashion-clipd');
$t->write_config;
$t->start_clipd;
$t->start_nginx;
ok(FashionTest::wait_for(10, sub { ($t->clip_invoke({ inputs => ['x'] }))[0] == 200 }),
    'clipd answers');
my @workers = FashionTest::children_of($t->clipd_pid);
is(scalar @workers, 2, 'two workers (clip.workers)');

my $src = FashionTest::srcdir();
my $jpeg = FashionTest::slurp("$src/data/sample/images/10011.jpg");
my $png = FashionTest::slurp("$src/models/golden/alpha.png");
my $b64 = encode_base64($jpeg, '');

sub norm { my $s = 0; $s += $_ * $_ for @{ $_[0] }; sqrt $s }
sub maxdiff {
	my ($a, $b) = @_;
	my $d = 0;
	for my $i (0 .. $#$a) { my $x = abs($a->[$i] - $b->[$i]); $d = $x if $x > $d }
	return $d;
}

# --- every format gives the same vectors --------------------------------
my ($st, $d, $h, $raw) = $t->clip_invoke({ dataframe_records =>
    [ { text => 'red dress' }, { image => $b64 } ] });
is($st, 200, 'dataframe_records: 200');
like($h->{'content-type'} // '', qr{application/json}, 'JSON content type');
is(scalar @{ $d->{predictions} }, 2, 'two predictions');
is(scalar @{ $d->{predictions}[$_] }, 512, "prediction $_ has 512 floats") for 0, 1;
ok(abs(norm($d->{predictions}[$_]) - 1) < 1e-4, "prediction $_ is unit norm") for 0, 1;
my ($text_vec, $img_vec) = @{ $d->{predictions} };
my $rec_raw = $raw;

my %forms = (
	dataframe_split => { dataframe_split => { columns => [ 'text', 'image' ],
	    data => [ [ 'red dress', undef ], [ undef, $b64 ] ] } },
	'dataframe_split with index' => { dataframe_split => { index => [ 0, 1 ],
	    columns => [ 'text', 'image' ], data => [ [ 'red dress', undef ], [ undef, $b64 ] ] } },
	'inputs records' => { inputs => [ { text => 'red dress' }, { image => $b64 } ] },
	'instances records' => { instances => [ { text => 'red dress' }, { image => $b64 } ] },
);
for my $name (sort keys %forms) {
	($st, $d, $h, $raw) = $t->clip_invoke($forms{$name});
	is($st, 200, "$name: 200");
	is($raw, $rec_raw, "$name: byte-identical to dataframe_records");
}
($st, $d) = $t->clip_invoke({ inputs => { text => [ 'red dress', 'blue jeans' ] } });
is($st, 200, 'inputs as columns: 200');
is_deeply($d->{predictions}[0], $text_vec, 'inputs columns: same text vector');
($st, $d) = $t->clip_invoke({ inputs => [ 'red dress' ] });
is_deeply($d->{predictions}[0], $text_vec, 'inputs as a list of strings: same vector');
($st, $d) = $t->clip_invoke({ dataframe_records => [ { image => "data:image/jpeg;base64,$b64" } ] });
is_deeply($d->{predictions}[0], $img_vec, 'data: URL prefix accepted, same vector');

# --- determinism: the same request twice gives the same bytes ------------
my $raw2 = ($t->clip_invoke({ dataframe_records => [ { text => 'red dress' }, { image => $b64 } ] }))[3];
is($raw2, $rec_raw, 'same input, same bytes');

# --- parity with PyTorch, through HTTP ------------------------------------
my $golden = FashionTest::decode_json_or_undef(FashionTest::slurp("$src/models/golden/golden.json"));
my @gt = @{ $golden->{texts} }[0 .. 5];
($st, $d) = $t->clip_invoke({ inputs => [ map { $_->{text} } @gt ] });
is($st, 200, 'golden texts embedded');
for my $i (0 .. $#gt) {
	ok(maxdiff($d->{predictions}[$i], $gt[$i]{embedding}) <= 1e-4,
	    "golden text '$gt[$i]{text}' matches PyTorch within 1e-4");
}
my @gi = @{ $golden->{images} };
($st, $d) = $t->clip_invoke({ dataframe_records => [ map {
    { image => encode_base64(FashionTest::slurp("$src/$_->{file}"), '') } } @gi ] });
is($st, 200, 'golden images embedded (JPEG, PNG with alpha, large JPEG)');
for my $i (0 .. $#gi) {
	ok(maxdiff($d->{predictions}[$i], $gi[$i]{embedding}) <= 1e-4,
	    "golden image $gi[$i]{file} matches PyTorch within 1e-4");
}

# --- PNG ------------------------------------------------------------------
($st, $d) = $t->clip_invoke({ dataframe_records => [ { image => encode_base64($png, '') } ] });
is($st, 200, 'a PNG is embedded');

# --- batch limits ---------------------------------------------------------
($st, $d) = $t->clip_invoke({ inputs => [ map { "shirt $_" } 1 .. 64 ] });
is($st, 200, 'batch of 64 texts: 200');
is(scalar @{ $d->{predictions} // [] }, 64, '64 predictions');
($st, $d) = $t->clip_invoke({ dataframe_records => [ map { { image => $b64 } } 1 .. 64 ] });
is($st, 200, 'batch of 64 images: 200');
my @bad = (
	[ 'batch of 65', { inputs => [ map { "shirt $_" } 1 .. 65 ] }, 400, qr/65 rows exceeds the limit of 64/ ],
	[ 'empty batch', { inputs => [] }, 400, qr/./ ],
	[ 'malformed JSON', '{"inputs": [', 400, qr/JSON/ ],
	[ 'not an object', '[1,2]', 400, qr/object/ ],
	[ 'no format key', { foo => 1 }, 400, qr/./ ],
	[ 'two format keys', { inputs => ['a'], instances => ['b'] }, 400, qr/./ ],
	[ 'wrong base64', { dataframe_records => [ { image => 'not base64 !!' } ] }, 400, qr/base64/ ],
	[ 'truncated JPEG', { dataframe_records => [ { image => encode_base64(substr($jpeg, 0, 600), '') } ] }, 400, qr/JPEG/ ],
	[ 'GIF', { dataframe_records => [ { image => encode_base64("GIF89a\x01\x00\x01\x00\x00\x00\x00;", '') } ] }, 415, qr/JPEG or PNG/ ],
	[ 'text and image in one row', { dataframe_records => [ { text => 'a', image => $b64 } ] }, 400, qr/./ ],
	[ 'unknown column', { dataframe_records => [ { prompt => 'a' } ] }, 400, qr/prompt/ ],
	[ 'number as text', { dataframe_records => [ { text => 42 } ] }, 400, qr/./ ],
	[ 'empty text', { inputs => [ '   ' ] }, 400, qr/empty/ ],
	[ 'text of 10 kB', { inputs => [ 'red dress ' x 1024 ] }, 400, qr/longer than 2048/ ],
	[ 'deep nesting', '{"inputs":' . ('[' x 5000) . (']' x 5000) . '}', 400, qr/./ ],
);
for my $b (@bad) {
	my ($name, $body, $want, $re) = @$b;
	($st, $d, $h, $raw) = $t->clip_invoke($body);
	is($st, $want, "$name: $want");
	ok(ref $d eq 'HASH' && defined $d->{error_code} && ($d->{message} // '') =~ $re,
	    "$name: Databricks-style JSON error") or diag $raw;
}
($st, $d) = $t->clip_invoke('{"inputs":["a"]}', headers => { 'Content-Type' => 'text/plain' });
is($st, 415, 'text/plain body: 415');

# --- size limits: 20 MB is refused by nginx with JSON ---------------------
($st, $d, $h, $raw) = $t->clip_invoke('{"inputs":["' . ('a' x (20 << 20)) . '"]}', timeout => 60);
is($st, 413, '20 MB upload: 413');
is(ref $d && $d->{error_code}, 'BAD_REQUEST', '413 is JSON');

# --- paths and methods ----------------------------------------------------
($st, $d) = $t->clip_invoke({ inputs => ['a'] }, endpoint => 'gpt-5');
is($st, 404, 'unknown endpoint: 404');
is($d->{error_code}, 'RESOURCE_DOES_NOT_EXIST', 'unknown endpoint: RESOURCE_DOES_NOT_EXIST');
($st, $h, $raw) = $t->http('GET', '/serving-endpoints/fashion-clip/invocations', port => $t->clip_http_port);
is($st, 405, 'GET on invocations: 405');
($st, $h, $raw) = $t->http('GET', '/api/2.0/serving-endpoints/fashion-clip', port => $t->clip_http_port);
is($st, 200, 'describe endpoint: 200');
like($raw, qr/"ready":"READY"/, 'endpoint is READY');
($st, $h, $raw) = $t->http('GET', '/serving-endpoints/fashion-clip', port => $t->clip_http_port);
is($st, 404, 'unknown path: 404');

# --- the service stayed up ------------------------------------------------
is_deeply([ FashionTest::children_of($t->clipd_pid) ], \@workers,
    'same workers after all the bad input (none crashed)');

# --- reload: new workers serve; a reload naming a broken model is refused ---
kill 'HUP', $t->clipd_pid;
ok(FashionTest::wait_for(10, sub {
	my @now = FashionTest::children_of($t->clipd_pid);
	@now == 2 && !grep { my $p = $_; grep { $_ == $p } @workers } @now }),
    'SIGHUP: a new generation of workers');
($st, $d, $h, $raw) = $t->clip_invoke({ dataframe_records => [ { text => 'red dress' }, { image => $b64 } ] });
is($raw, $rec_raw, 'the new workers answer the same bytes');
@workers = FashionTest::children_of($t->clipd_pid);
my $broken = $t->dir . '/broken.bin';
FashionTest::spew($broken, 'FCLIPMDL' . ("\0" x 100));
$t->write_config('clip.model' => $broken);
kill 'HUP', $t->clipd_pid;
ok(FashionTest::wait_for(10, sub { FashionTest::slurp($t->clipd_log) =~ /reload rejected.*broken\.bin/ }),
    'reload with a broken model is rejected, and the log says why');
($st) = $t->clip_invoke({ inputs => ['x'] });
is($st, 200, 'still serving with the old model');
is_deeply([ FashionTest::children_of($t->clipd_pid) ], \@workers, 'old workers kept');
$t->write_config;

# --- bearer token -----------------------------------------------------------
$t->stop_clipd;
$t->start_clipd({ DATABRICKS_TOKEN => 's3cret-token' });
ok(FashionTest::wait_for(10, sub { ($t->clip_invoke({ inputs => ['x'] }))[0] == 401 }),
    'with a token configured, no Authorization: 401');
($st, $d) = $t->clip_invoke({ inputs => ['x'] }, headers => { Authorization => 'Bearer wrong' });
is($st, 401, 'wrong token: 401');
is($d->{error_code}, 'UNAUTHENTICATED', 'UNAUTHENTICATED');
($st, $d) = $t->clip_invoke({ inputs => ['x'] }, headers => { Authorization => 'Bearer s3cret-token' });
is($st, 200, 'right token: 200');
unlike(FashionTest::slurp($t->clipd_log), qr/s3cret/, 'the token is never logged');

$t->check_logs;
done_testing;
