#!/usr/bin/perl
# Rollback under load: `fashionctl switch` flips the profile and SIGHUPs the
# master ten times while four clients hammer the listing.  No request may
# fail, and once a switch settles the answers follow the active profile
# (`brand` only under fashion_sota).

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep time);
use FashionTest;

my $t = FashionTest->setup_stack(profile => 'fashion_sota');
my $dir = $t->dir;
my $stop = "$dir/clients.stop";

# brand flag of a listing: B = every product has the key, N = none, M = mixed
sub brand_flag {
	my ($d) = @_;
	return '-' unless ref $d eq 'HASH' && ref $d->{products} eq 'ARRAY'
	    && @{ $d->{products} };
	my $n = grep { exists $_->{brand} } @{ $d->{products} };
	return $n == 0 ? 'N' : $n == @{ $d->{products} } ? 'B' : 'M';
}

sub health_profile {
	my ($st, $d) = $t->json_get('/api/v1/health', timeout => 5);
	return $st == 200 && ref $d eq 'HASH' ? $d->{profile} // '' : '';
}

my $deadline = time + 45;
my @clients = $t->spawn_clients(4, sub {
	my ($i) = @_;
	open my $fh, '>', "$dir/client.$i" or die $!;
	$fh->autoflush(1);
	my $n = 0;
	while (!-e $stop && time < $deadline && $n++ < 100000) {
		my ($st, $d) = $t->json_get('/api/v1/products?page_size=5',
		    timeout => 10);
		printf $fh "%.3f %d %s\n", time, $st, brand_flag($d);
	}
	close $fh;
});

sleep 0.5;
my @profiles = map { $_ % 2 ? 'fashion_demo' : 'fashion_sota' } 1 .. 10;
my ($switch_fail, $settle_fail, $direct_bad, $old_left) = (0, 0, 0, 0);
for my $p (@profiles) {
	my @before = $t->worker_pids;
	my ($rc, $out, $err) = $t->fashionctl('switch', $p);
	$switch_fail++, diag("switch $p: $rc $out$err") if $rc;

	my $ok = FashionTest::wait_for(10, sub { health_profile() eq $p }, 0.05);
	$settle_fail++, diag("health never reported $p") unless $ok;

	# old workers finish their requests and go
	my %old = map { $_ => 1 } @before;
	my $gone = FashionTest::wait_for(10,
	    sub { !grep { $old{$_} } $t->worker_pids }, 0.05);
	$old_left++, diag("old workers still there after switch to $p")
	    unless $gone;

	for (1 .. 5) {
		my ($st, $d) = $t->json_get('/api/v1/products?page_size=5');
		my $want = $p eq 'fashion_sota' ? 'B' : 'N';
		my $got = brand_flag($d);
		if ($st != 200 || $got ne $want) {
			$direct_bad++;
			diag("after switch to $p: $st $got");
		}
	}
	sleep 0.2;
}

FashionTest::spew($stop, '');
is($t->wait_clients(@clients), 0, 'clients exited cleanly');

is($switch_fail, 0, 'every fashionctl switch exited 0');
is($settle_fail, 0, 'health followed every switch');
is($old_left, 0, 'old workers left after every switch');
is($direct_bad, 0, 'after each switch settles, brand follows the profile');

my (%status, %flag, $n);
for my $i (1 .. 4) {
	open my $fh, '<', "$dir/client.$i" or next;
	while (<$fh>) {
		my (undef, $st, $f) = split;
		$status{$st}++;
		$flag{$f}++;
		$n++;
	}
}
diag("client requests: $n; status " . join(', ', map { "$_: $status{$_}" }
    sort keys %status) . '; brand ' . join(', ', map { "$_: $flag{$_}" }
    sort keys %flag));
cmp_ok($n // 0, '>', 100, 'clients made requests during the switches');
is_deeply([ keys %status ], [ 200 ], 'zero non-200 responses under load');
ok(!$flag{M}, 'no response mixes layouts');
ok($flag{B} && $flag{N}, 'clients saw both layouts');

like(FashionTest::slurp($t->cfg), qr/^profile\s*=\s*"fashion_sota"\s*;/m,
    'config file left on fashion_sota');
is(health_profile(), 'fashion_sota', 'serving fashion_sota at the end');
ok(FashionTest::pid_alive($t->master_pid), 'master still the same process');

$t->check_logs;
done_testing;
