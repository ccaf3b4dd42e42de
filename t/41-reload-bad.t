#!/usr/bin/perl
# SIGHUP with a broken config: the master logs why and keeps serving with
# the old settings and the old workers.  Then a good config with the other
# profile: new workers serve it, old ones are gone within a few seconds.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep time);
use FashionTest;

my $t = FashionTest->setup_stack(profile => 'fashion_sota');
my $dir = $t->dir;
my $stop = "$dir/clients.stop";
my $master = $t->master_pid;
my @w0 = $t->worker_pids;
is(scalar @w0, 4, '4 workers');

sub health {
	my ($st, $d) = $t->json_get('/api/v1/health', timeout => 5);
	return ($st, ref $d eq 'HASH' ? $d : {});
}

my $deadline = time + 40;
my @clients = $t->spawn_clients(2, sub {
	my ($i) = @_;
	open my $fh, '>', "$dir/client.$i" or die $!;
	$fh->autoflush(1);
	while (!-e $stop && time < $deadline) {
		my ($st) = $t->http_get('/api/v1/products?page_size=5', timeout => 10);
		print $fh "$st\n";
	}
	close $fh;
});

my $good = FashionTest::slurp($t->cfg);
my %broken = (
	'syntax error' => $good =~ s/^(\s*workers\s*)=/$1==/mr,
	'unknown profile' => $good =~ s/^profile\s*=\s*"fashion_sota"/profile = "fashion_nope"/mr,
	'sql in schema' => $good =~
	    s/(fashion_demo\s*=\s*\{.*?schema\s*=\s*)"fashion_demo"/$1"x; drop table y"/sr,
	'workers = 0' => $good =~ s/^(\s*workers\s*=\s*)\d+/${1}0/mr,
	'empty file' => '',
);

for my $what (sort keys %broken) {
	isnt($broken{$what}, $good, "$what: config differs") if length $broken{$what};
	my $lines = () = FashionTest::slurp($t->fashiond_log) =~ /\n/g;
	$t->write_config_raw($broken{$what});
	ok($t->hup, "$what: HUP sent");

	# the master says why, in a line logged after the HUP
	my $why = FashionTest::wait_for(5, sub {
		my @l = split /\n/, FashionTest::slurp($t->fashiond_log);
		my @new = @l[$lines .. $#l];
		(grep { /fashion\.cfg/ && /\[(warn|crit|error)\]/ } @new)[0];
	});
	ok($why, "$what: master logs the reason") or diag($t->log_tail(10));
	note($why) if $why;

	sleep 1;
	my ($st, $d) = health();
	is($st, 200, "$what: health still 200");
	is($d->{profile}, 'fashion_sota', "$what: still the old profile");
	ok(FashionTest::pid_alive($master), "$what: master alive");
	is_deeply([ $t->worker_pids ], \@w0, "$what: same workers");
}

# a good config with the other profile, while a request is half sent to
# an old worker: that request is still answered, by the old profile
my $req = FashionTest::fcgi_request_bytes(uri => '/api/v1/health');
my @cut = (20, int(length($req) / 2));
my @conn = map { $t->fcgi_connect } @cut;
syswrite($conn[$_], substr($req, 0, $cut[$_])) for 0 .. $#cut;
sleep 0.5;

$t->write_config(profile => 'fashion_demo');
ok($t->hup, 'good config: HUP sent');

sleep 0.5;
for my $i (0 .. $#cut) {
	syswrite($conn[$i], substr($req, $cut[$i]));
	my ($st, $h, $body) = FashionTest::fcgi_read_response($conn[$i], 10);
	close $conn[$i];
	is($st, 200, "request cut at byte $cut[$i] across the reload: 200")
	    or diag(substr($body, 0, 300));
	like($body, qr/"profile"\s*:\s*"fashion_sota"/,
	    '... served whole by the old profile');
}
ok(FashionTest::wait_for(10, sub { ((health())[1]{profile} // '') eq 'fashion_demo' }),
    'new profile served');

my %old = map { $_ => 1 } @w0;
my $gone = FashionTest::wait_for(5, sub {
	my @w = $t->worker_pids;
	@w == 4 && !grep { $old{$_} } @w;
});
ok($gone, 'old workers gone within 5 s, 4 new ones')
    or diag('workers now: ' . join ' ', $t->worker_pids);
ok(!grep({ FashionTest::pid_alive($_) } @w0), 'no old worker process left');
is($t->master_pid, $master, 'same master');
ok(FashionTest::pid_alive($master), 'master alive');

{
	my ($st, $d) = $t->json_get('/api/v1/products?page_size=10');
	is($st, 200, 'listing under fashion_demo: 200');
	ok(!grep({ exists $_->{brand} } @{ $d->{products} // [] }),
	    'no brand key under fashion_demo');
	is($d->{total}, $t->psql('SELECT count(*) FROM fashion_demo.productsdb'),
	    'total is the fashion_demo count');
	$t->is_json_error('/api/v1/products?brand=Nike', 400, 'invalid_parameter',
	    'brand filter under fashion_demo -> 400');
	my ($ost, $od) = $t->json_get('/api/v1/products/filters/options');
	is($ost, 200, 'filters/options under fashion_demo: 200');
	ok(!exists $od->{brands}, 'no brands facet under fashion_demo');
	my $id = $t->psql('SELECT product_id FROM fashion_demo.productsdb d WHERE NOT '
	    . 'EXISTS (SELECT 1 FROM fashion_sota.products s WHERE '
	    . 's.product_id = d.product_id) LIMIT 1');
	if (defined $id) {
		my ($pst, $pd) = $t->json_get("/api/v1/products/$id");
		is($pst, 200, "id $id (no image) found under fashion_demo");
	}
}

FashionTest::spew($stop, '');
is($t->wait_clients(@clients), 0, 'clients exited cleanly');
my %status;
for my $i (1 .. 2) {
	open my $fh, '<', "$dir/client.$i" or next;
	while (my $l = <$fh>) {
		chomp $l;
		$status{$l}++;
	}
}
diag('client status: ' . join ', ', map { "$_: $status{$_}" } sort keys %status);
is_deeply([ keys %status ], [ 200 ], 'no failed request during the reloads');

# the broken configs' errors are expected in the log
$t->check_logs(allow => qr/fashion\.cfg/);
done_testing;
