#!/usr/bin/perl
# PostgreSQL goes away under load: answers are quick JSON 503s (never
# 500/502, never a hang), health says the database is down, and once it is
# back the same workers answer 200 again.

use strict;
use warnings;

use Test::More;
use Time::HiRes qw(sleep time);
use FashionTest;

my $t = FashionTest->setup_stack(profile => 'fashion_sota',
    config => { connect_timeout => 2, backoff_max => 1000 });
my $dir = $t->dir;
my $stop = "$dir/clients.stop";
my @w0 = $t->worker_pids;
is(scalar @w0, 4, '4 workers');

my $id = $t->psql('SELECT product_id FROM fashion_sota.products ORDER BY 1 LIMIT 1');
my @paths = ('/api/v1/products?page_size=5', "/api/v1/products/$id",
    '/api/v1/products?gender=Women&sort_by=price',
    '/api/v1/products/filters/options');

my $deadline = time + 45;
my @clients = $t->spawn_clients(2, sub {
	my ($i) = @_;
	open my $fh, '>', "$dir/client.$i" or die $!;
	$fh->autoflush(1);
	my $n = 0;
	while (!-e $stop && time < $deadline) {
		my $path = $paths[$n++ % @paths];
		my ($st, $d, $h, $body, $el) = $t->json_get($path, timeout => 15);
		my $code = ref $d eq 'HASH' && ref $d->{error} eq 'HASH'
		    ? $d->{error}{code} // '?' : ref $d eq 'HASH' ? 'json' : 'notjson';
		printf $fh "%.3f %d %s %.3f\n", time, $st, $code, $el;
	}
	close $fh;
});

sleep 1;
ok($t->stop_pg('fast'), 'PostgreSQL stopped');
my $t_down = time;

# direct requests while it is down
my ($bad, $slow, $n503) = (0, 0, 0);
my $until = time + 4;
my $i = 0;
while (time < $until) {
	my $path = $paths[$i++ % @paths];
	my ($st, $d, $h, $body, $el) = $t->json_get($path, timeout => 15);
	$slow++, diag("$path took ${el}s") if $el > 6;
	if ($st == 503 && ref $d eq 'HASH' && ref $d->{error} eq 'HASH'
	    && ($d->{error}{code} // '') eq 'db_unavailable'
	    && ($h->{'content-type'} // '') =~ m{^application/json}) {
		$n503++;
	} else {
		$bad++;
		diag("while down: $path -> $st " . substr($body // '', 0, 200));
	}
}
cmp_ok($n503, '>', 0, "requests while down answered 503 db_unavailable ($n503)");
is($bad, 0, 'no other answer while the database is down');
is($slow, 0, 'every answer while down came within 6 s');

{
	my ($st, $d, $h, $body) = $t->json_get('/api/v1/health', timeout => 15);
	is($st, 503, 'health while down: 503');
	is($d->{database}, 'down', 'health: database down') or diag($body);
	is($d->{status}, 'degraded', 'health: status degraded');
	is($d->{profile}, 'fashion_sota', 'health: still reports the profile');
}

# bring it back
$t->restart_pg;
my $t_up = time;
my $ok = FashionTest::wait_for(15, sub {
	my $good = 0;
	for my $p (@paths, '/api/v1/health') {
		my ($st) = $t->http_get($p, timeout => 10);
		$good++ if $st == 200;
	}
	$good == @paths + 1;
}, 0.2);
ok($ok, sprintf 'answers are 200 again %.1fs after PostgreSQL is back',
    time - $t_up);

# every worker has reconnected: health and a burst of requests are all 200.
# A worker whose last attempt failed just before PostgreSQL came back waits
# out its backoff (database.backoff_max, 1 s here) before the next try, and
# may be the one that answers: let the backoff pass first.
sleep 1.5;
{
	my ($st, $d) = $t->json_get('/api/v1/health');
	is($d->{database}, 'ok', 'health: database ok again');
}
{
	my %st;
	for (1 .. 40) {
		my ($st) = $t->http_get('/api/v1/products?page_size=3');
		$st{$st}++;
	}
	is_deeply([ keys %st ], [ 200 ], 'burst after recovery: all 200');
}

FashionTest::spew($stop, '');
is($t->wait_clients(@clients), 0, 'clients exited cleanly');

my (%status, %code, $n, $cslow);
for my $c (1 .. 2) {
	open my $fh, '<', "$dir/client.$c" or next;
	while (<$fh>) {
		my ($ts, $st, $code, $el) = split;
		$status{$st}++;
		$code{$code}++ if $st != 200;
		$cslow++ if $el > 6;
		$n++;
	}
}
ok(!$cslow, 'no client request took over 6 s');
diag("client requests: $n; status " . join(', ', map { "$_: $status{$_}" }
    sort keys %status) . '; error codes ' . join(', ', map { "$_: $code{$_}" }
    sort keys %code));
ok(!grep({ $_ != 200 && $_ != 503 } keys %status),
    'clients only ever saw 200 or 503');
ok($status{503}, 'clients saw 503s while the database was down');
ok(!grep({ $_ ne 'db_unavailable' } keys %code), 'every 503 says db_unavailable');

is_deeply([ $t->worker_pids ], \@w0, 'same worker pids: no worker died');

$t->check_logs;
done_testing;
