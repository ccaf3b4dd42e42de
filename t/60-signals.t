#!/usr/bin/perl
# Signals: a worker killed with SIGKILL is respawned by the master and
# requests keep working; SIGTERM drains and exits 0 leaving no worker.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep time);
use FashionTest;

my $t = FashionTest->setup_stack(profile => 'fashion_sota');
my $dir = $t->dir;
my $master = $t->master_pid;
my @w0 = $t->worker_pids;
is(scalar @w0, 4, '4 workers');

my $pidfile = "$dir/fashiond.pid";
ok(-e $pidfile, 'pid file written next to the config');
is((FashionTest::slurp($pidfile) // '') =~ s/\s+//gr, $master,
    'pid file holds the master pid');

# SIGKILL one worker
my $victim = $w0[1];
ok(kill('KILL', $victim), "worker $victim killed");
my $respawned = FashionTest::wait_for(5, sub {
	my @w = $t->worker_pids;
	(@w == 4 && !grep({ $_ == $victim } @w)) ? \@w : undef;
});
ok($respawned, 'master respawned a worker');
my @w1 = $respawned ? @$respawned : $t->worker_pids;
my %w0 = map { $_ => 1 } @w0;
is(scalar(grep { !$w0{$_} } @w1), 1, 'exactly one new worker pid');
is(scalar(grep { $w0{$_} } @w1), 3, 'the other three untouched');
ok(FashionTest::pid_alive($master), 'master alive');

{
	my %st;
	for (1 .. 40) {
		my ($st) = $t->http_get('/api/v1/products?page_size=2');
		$st{$st}++;
	}
	is_deeply([ keys %st ], [ 200 ], 'requests keep working after the respawn');
	my ($st, $d) = $t->json_get('/api/v1/health');
	is($st, 200, 'health 200');
}

# the master noted the death, naming the pid; that line is expected
my @died = $t->log_lines(qr/\b$victim\b/);
ok(@died, "master logged the death of worker $victim") or diag($t->log_tail(10));

# SIGKILL twice in a row more: still respawned (no give-up after one)
for my $round (1 .. 2) {
	my @w = $t->worker_pids;
	kill 'KILL', $w[0];
	ok(FashionTest::wait_for(5, sub {
		my @n = $t->worker_pids;
		@n == 4 && !grep { $_ == $w[0] } @n;
	}), "respawn after kill $round");
}

# SIGTERM under a little load: in-flight requests complete, then exit 0
my $stop = "$dir/clients.stop";
my $deadline = time + 20;
my @clients = $t->spawn_clients(2, sub {
	my ($i) = @_;
	open my $fh, '>', "$dir/client.$i" or die $!;
	$fh->autoflush(1);
	while (!-e $stop && time < $deadline) {
		my ($st, $d, $h, $body) = $t->json_get('/api/v1/products?page_size=50',
		    timeout => 10);
		my $full = $st != 200 || (ref $d eq 'HASH'
		    && ref $d->{products} eq 'ARRAY' && @{ $d->{products} } == 50);
		print $fh "$st ", ($full ? 'full' : 'truncated'), "\n";
	}
	close $fh;
});
sleep 1;

# requests partly sent when SIGTERM arrives are still answered (drain):
# one cut inside the first PARAMS record, one halfway
my $req = FashionTest::fcgi_request_bytes(uri => '/api/v1/health');
my @cut = (20, int(length($req) / 2));
my @conn = map { $t->fcgi_connect } @cut;
ok(!grep({ !$_ } @conn), 'FastCGI connections opened');
syswrite($conn[$_], substr($req, 0, $cut[$_])) for 0 .. $#cut;
sleep 0.5;			# workers have accepted them and wait for the rest

my @w2 = $t->worker_pids;
my $t0 = time;
ok($t->signal_fashiond('TERM'), 'SIGTERM sent');
sleep 0.5;
for my $i (0 .. $#cut) {
	syswrite($conn[$i], substr($req, $cut[$i]));
	my ($hst, $hh, $hbody) = FashionTest::fcgi_read_response($conn[$i], 10);
	close $conn[$i];
	is($hst, 200, "request cut at byte $cut[$i] completed after SIGTERM")
	    or diag(substr($hbody, 0, 300));
	like($hbody, qr/"status"\s*:\s*"ok"/, '... with the right body');
}

my $st = $t->stop_fashiond(15, 0);	# wait only: a second TERM forces
my $took = time - $t0;
ok(defined $st, sprintf 'master exited after SIGTERM (%.1fs)', $took);
is($st, 0, 'exit status 0') if defined $st;
ok(FashionTest::wait_for(3, sub { !grep { FashionTest::pid_alive($_) } @w2 }),
    'no worker left');
ok(!FashionTest::port_open($t->fcgi_port, 0.5), 'listening socket closed');

sleep 0.5;
FashionTest::spew($stop, '');
is($t->wait_clients(@clients), 0, 'clients exited cleanly');
my (%status, %body);
for my $i (1 .. 2) {
	open my $fh, '<', "$dir/client.$i" or next;
	while (<$fh>) {
		my ($s, $b) = split;
		$status{$s}++;
		$body{$b}++;
	}
}
diag('client status: ' . join ', ', map { "$_: $status{$_}" } sort keys %status);
ok($status{200}, 'clients were served before the shutdown');
ok(!grep({ $_ != 200 && $_ != 502 && $_ != 503 } keys %status),
    'only 200, or 502/503 once the pool is gone');
ok(!$body{truncated}, 'no 200 response was truncated');

# workers killed on purpose above may be logged as such
$t->check_logs(allow => qr/signal 9|SIGKILL|\bkilled\b/i);
done_testing;
