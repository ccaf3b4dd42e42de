#!/usr/bin/perl
# OAuth machine-to-machine auth of the HTTP clients (src/http_client.c), as
# fashionctl embed's CLIP client uses it, against a small stand-in for a
# Databricks workspace that speaks the documented protocols:
#
#   POST /oidc/v1/token   Authorization: Basic base64(id:secret)
#     Content-Type: application/x-www-form-urlencoded
#     grant_type=client_credentials&scope=all-apis
#     -> {"access_token", "token_type": "Bearer", "expires_in", "scope"}
#     -> 401 {"error": "invalid_client", "error_description": ...}
#   POST /serving-endpoints/{name}/invocations
#     Authorization: Bearer <an issued, unexpired token, or the PAT>
#     -> {"predictions": [unit vectors]}, else 401 {"error_code", "message"}
#
# Asserted: the token is fetched once and kept across many invocations;
# with a short lifetime it is fetched again before it expires (the double
# refuses expired tokens); a revoked token (401) is replaced once and the
# invocation retried, but a fresh token refused is not retried in a loop; a
# wrong secret fails with an authentication error that holds no secret; an
# unreachable token endpoint is reported as such; with only DATABRICKS_TOKEN
# the PAT is sent and the token endpoint is never called; id + secret win
# over a PAT.
use strict;
use warnings;
use lib 't/lib';
use FashionTest;
use IO::Socket::INET;
use MIME::Base64 qw(decode_base64);
use POSIX qw(_exit);
use Test::More;
use Time::HiRes qw(time sleep);

my $t = FashionTest->new->require_binaries(qw(fashiond fashionctl fashion-clipd));
$t->setup_stack;
my $images = FashionTest::sample_dir() . '/images';
my $ENDPOINT = 'fashion-clip';
my $ID = 'a1b2c3d4-0087-4e5f-9a0b-c1d2e3f4a5b6';
my $SECRET = 'dose87secretVALUE0123456789abcdef';
my $PAT = 'dapi87patVALUE0123456789';

# fake_workspace(%opt) -> ($pid, $port, $events).  Options: expires_in
# (seconds, default 3600), delay (seconds before each invocation answer),
# revoke_at (invocation N finds every issued token revoked), reject_all
# (every invocation is refused 401).  One line per event goes to the file
# $events: "token issued <tok>", "token refused", "invoke ok oauth|pat",
# "invoke 401 <why>".
my $nfake = 0;
sub fake_workspace {
	my (%o) = @_;
	my $events = $t->dir . '/events.' . ++$nfake;
	FashionTest::spew($events, '');
	my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
	    Listen => 16, ReuseAddr => 1) or die "listen: $!";
	my $port = $srv->sockport;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		alarm 60;	# never outlive the test
		open my $ev, '>>', $events or _exit(1);
		$ev->autoflush(1);
		my (%issued, $ntok, $ninv);	# token -> time it expires
		my $reply = sub {
			my ($c, $st, $body) = @_;
			my $reason = { 200 => 'OK', 400 => 'Bad Request',
			    401 => 'Unauthorized', 404 => 'Not Found' }->{$st};
			print $c "HTTP/1.1 $st $reason\r\nContent-Type: application/json\r\n"
			    . 'Content-Length: ' . length($body) . "\r\nConnection: close\r\n\r\n$body";
		};
		while (my $c = $srv->accept) {
			my ($head, $body) = ('', '');
			while (my $l = <$c>) { $head .= $l; last if $l eq "\r\n" }
			my ($len) = $head =~ /^content-length:\s*(\d+)/im;
			read($c, $body, $len // 0);
			my ($method, $path) = $head =~ /^(\S+) (\S+)/;
			my ($auth) = $head =~ /^authorization:\s*([^\r\n]*)/im;
			$auth //= '';
			if (($path // '') eq '/oidc/v1/token' && $method eq 'POST') {
				my ($b64) = $auth =~ /^Basic (\S+)$/;
				my %form = map { split /=/, $_, 2 } split /&/, $body;
				if (!defined $b64 || decode_base64($b64) ne "$ID:$SECRET") {
					print $ev "token refused\n";
					$reply->($c, 401, '{"error":"invalid_client","error_description":"Client authentication failed"}');
				} elsif ($head !~ m{^content-type:\s*application/x-www-form-urlencoded\s*$}im
				    || ($form{grant_type} // '') ne 'client_credentials'
				    || ($form{scope} // '') ne 'all-apis') {
					print $ev "token bad request\n";
					$reply->($c, 400, '{"error":"invalid_request","error_description":"grant_type=client_credentials and scope=all-apis, form-encoded"}');
				} else {
					my $e = $o{expires_in} // 3600;
					my $tok = sprintf 'eyJ87.%d.%d%06d', ++$ntok, $$, int rand 1e6;
					$issued{$tok} = time + $e;
					print $ev "token issued $tok\n";
					$reply->($c, 200, qq({"access_token":"$tok","token_type":"Bearer","expires_in":$e,"scope":"all-apis"}));
				}
			} elsif (($path // '') eq "/serving-endpoints/$ENDPOINT/invocations" && $method eq 'POST') {
				$ninv++;
				my ($bearer) = $auth =~ /^Bearer (\S+)$/;
				$bearer //= '';
				my $why = '';
				if ($o{revoke_at} && $ninv == $o{revoke_at}) {
					%issued = ();
				}
				if ($o{reject_all}) {
					$why = 'rejected';
				} elsif ($bearer eq $PAT && $o{pat}) {
				} elsif (!exists $issued{$bearer}) {
					$why = $bearer eq '' ? 'no token' : 'unknown token';
				} elsif (time > $issued{$bearer}) {
					$why = 'expired token';
				}
				if ($why) {
					print $ev "invoke 401 $why\n";
					$reply->($c, 401, '{"error_code":"UNAUTHENTICATED","message":"Invalid Token"}');
					close $c;
					next;
				}
				print $ev 'invoke ok ' . ($bearer eq $PAT ? 'pat' : 'oauth') . "\n";
				sleep $o{delay} if $o{delay};
				my $rows = () = $body =~ /"(?:text|image)"/g;
				my $v = '[' . join(',', (1 / sqrt(512)) x 512) . ']';
				$reply->($c, 200, '{"predictions":[' . join(',', ($v) x $rows) . ']}');
			} else {
				$reply->($c, 404, '{"error_code":"ENDPOINT_NOT_FOUND","message":"no such path"}');
			}
			close $c;
		}
		_exit(0);
	}
	close $srv;
	return ($pid, $port, $events);
}

sub stop_fake { my ($pid) = @_; kill 'KILL', $pid; waitpid($pid, 0) }

sub events {
	my ($file) = @_;
	my @l = split /\n/, FashionTest::slurp($file) // '';
	my %n;
	$n{token} = grep { /^token issued/ } @l;
	$n{refused} = grep { /^token refused/ } @l;
	$n{badreq} = grep { /^token bad request/ } @l;
	$n{oauth} = grep { /^invoke ok oauth/ } @l;
	$n{pat} = grep { /^invoke ok pat/ } @l;
	$n{401} = grep { /^invoke 401/ } @l;
	$n{tokens} = [ map { /^token issued (\S+)/ ? $1 : () } @l ];
	$n{lines} = \@l;
	return \%n;
}

sub count { my ($sql) = @_; my $v = $t->psql($sql); chomp $v; $v }

sub forget {
	my ($n) = @_;
	$t->psql("UPDATE fashion_sota.products SET image_embedding = NULL,
	    text_embedding = NULL, embedding = NULL WHERE product_id IN
	    (SELECT product_id FROM fashion_sota.products ORDER BY product_id LIMIT $n)");
}

# embed(port, env, config overrides) -> (rc, stdout, stderr); one job
# (one client: the token counts are exact) unless the override jobs => N.
my $cfg = $t->dir . '/oauth.cfg';
sub embed {
	my ($port, $env, %over) = @_;
	my $jobs = delete $over{jobs} // 1;
	FashionTest::spew($cfg, $t->config_text(profile => 'fashion_sota',
	    'clip.url' => "http://127.0.0.1:$port", 'clip.endpoint' => $ENDPOINT,
	    'clip.retries' => 1, %over));
	return $t->run([ FashionTest::builddir() . '/fashionctl', '-c', $cfg,
	    'embed', '--images', $images, '--jobs', $jobs ], env => {
	    DATABRICKS_CLIENT_ID => '', DATABRICKS_CLIENT_SECRET => '',
	    DATABRICKS_TOKEN => '', %$env }, timeout => 60);
}

my $oauth_env = { DATABRICKS_CLIENT_ID => $ID, DATABRICKS_CLIENT_SECRET => $SECRET };
my @seen_tokens;
my $all_output = '';

# 1. The whole catalog, many invocations by 3 jobs, each with its own
#    client: one token per client, kept.  A PAT is set too: id + secret win.
my ($pid, $port, $ev) = fake_workspace(pat => 1);
my ($rc, $out, $err) = embed($port, { %$oauth_env, DATABRICKS_TOKEN => $PAT },
    'clip.max_batch' => 64, jobs => 3);
$all_output .= $out . $err;
is($rc, 0, 'OAuth M2M: embed of the catalog succeeds') or diag "$out$err";
my $n = events($ev);
cmp_ok($n->{oauth}, '>=', 20, "$n->{oauth} invocations with an OAuth token");
is($n->{pat}, 0, 'the PAT is not sent when id and secret are set');
ok($n->{token} >= 1 && $n->{token} <= 3, "the token endpoint was called "
    . "$n->{token} times: at most once per client (3 jobs), the token is kept");
is($n->{401} + $n->{refused} + $n->{badreq}, 0,
    'no refusals (Basic auth, form, grant_type and scope as documented)')
    or diag join "\n", @{ $n->{lines} }[0 .. 5];
push @seen_tokens, @{ $n->{tokens} };
stop_fake($pid);

# 2. A 2 s lifetime over about 3 s of invocations: fetched again before it
#    expires (refresh at 1.8 s), and never sent expired.
forget(32);
($pid, $port, $ev) = fake_workspace(expires_in => 2, delay => 0.4);
my $t0 = time;
($rc, $out, $err) = embed($port, $oauth_env, 'clip.max_batch' => 8);
my $took = time - $t0;
$all_output .= $out . $err;
is($rc, 0, 'short-lived tokens: embed succeeds') or diag "$out$err";
$n = events($ev);
is($n->{oauth}, 8, '8 invocations (32 products, 4 per invocation)');
cmp_ok($n->{token}, '>=', 2, "the token was fetched again ($n->{token} times "
    . sprintf('in %.1f s)', $took));
cmp_ok($n->{token}, '<=', 4, 'but not for every invocation');
is($n->{401}, 0, 'no expired token was sent') or diag join "\n", @{ $n->{lines} };
push @seen_tokens, @{ $n->{tokens} };
stop_fake($pid);

# 3. The kept token is revoked: the 401 leads to one new token and one
#    retry of that invocation.
forget(12);
($pid, $port, $ev) = fake_workspace(revoke_at => 2);
($rc, $out, $err) = embed($port, $oauth_env, 'clip.max_batch' => 8);
$all_output .= $out . $err;
is($rc, 0, 'revoked token: embed succeeds after a new token') or diag "$out$err";
$n = events($ev);
is($n->{401}, 1, 'one invocation was refused');
is($n->{token}, 2, 'and one new token fetched');
is($n->{oauth}, 3, 'all 3 invocations done (one retried)');
push @seen_tokens, @{ $n->{tokens} };
stop_fake($pid);

# 4. A fresh token refused: no loop of token requests.
forget(4);
($pid, $port, $ev) = fake_workspace(reject_all => 1);
($rc, $out, $err) = embed($port, $oauth_env, 'clip.max_batch' => 8);
$all_output .= $out . $err;
is($rc, 1, 'every token refused: embed fails');
like($err, qr/401/, 'with the status') or diag $err;
$n = events($ev);
is($n->{token}, 1, 'one token fetched');
is($n->{401}, 1, 'one invocation tried: a fresh token is not retried');
push @seen_tokens, @{ $n->{tokens} };
stop_fake($pid);

# 5. A wrong secret: a clear authentication error, no secret in it.
my $wrong = 'WRONGsecret87zzzzzzzzzzzzzzzzzzzz';
($pid, $port, $ev) = fake_workspace();
($rc, $out, $err) = embed($port, { DATABRICKS_CLIENT_ID => $ID,
    DATABRICKS_CLIENT_SECRET => $wrong });
$all_output .= $out . $err;
is($rc, 1, 'wrong secret: embed fails');
like($err, qr/authentication failed/i, 'says authentication failed') or diag $err;
like($err, qr/oidc\/v1\/token.*401.*invalid_client: Client authentication failed/,
    "with the token endpoint's status, error and error_description") or diag $err;
unlike($out . $err, qr/\Q$wrong\E|\Q$SECRET\E/, 'the secret is not in the output');
$n = events($ev);
is($n->{refused}, 1, 'the token endpoint was asked once (no retries of a 401)');
is($n->{oauth} + $n->{401}, 0, 'no invocation without a token');
stop_fake($pid);

# 6. Only an id (no secret): not OAuth; no variable at all: no auth.
forget(4);
($pid, $port, $ev) = fake_workspace(pat => 1);
($rc, $out, $err) = embed($port, { DATABRICKS_CLIENT_ID => $ID, DATABRICKS_TOKEN => $PAT });
$all_output .= $out . $err;
is($rc, 0, 'id without a secret, and a PAT: embed succeeds') or diag "$out$err";
$n = events($ev);
is($n->{token} + $n->{refused}, 0, 'the token endpoint was not called');
is($n->{pat}, 1, 'the PAT was sent');
stop_fake($pid);

# 7. Only DATABRICKS_TOKEN: the PAT, as before.
forget(8);
($pid, $port, $ev) = fake_workspace(pat => 1);
($rc, $out, $err) = embed($port, { DATABRICKS_TOKEN => $PAT }, 'clip.max_batch' => 8);
$all_output .= $out . $err;
is($rc, 0, 'PAT only: embed succeeds') or diag "$out$err";
$n = events($ev);
is($n->{pat}, 2, 'the PAT was sent with both invocations');
is($n->{token} + $n->{refused} + $n->{badreq}, 0, 'the token endpoint was not called');
stop_fake($pid);

# 8. The token endpoint unreachable: said so, exit 1.
forget(4);
my $dead = FashionTest::free_port();
($rc, $out, $err) = embed($dead, $oauth_env, 'clip.retries' => 0);
$all_output .= $out . $err;
is($rc, 1, 'token endpoint down: embed fails');
like($err, qr/token endpoint unreachable: POST \S+\/oidc\/v1\/token/i,
    'and says the token endpoint is unreachable') or diag $err;
is(count('SELECT count(*) FROM fashion_sota.products WHERE (image_embedding IS NULL) <> (embedding IS NULL)
    OR (text_embedding IS NULL) <> (embedding IS NULL)'), 0, 'no half-written product');

# Nothing secret was ever printed.
cmp_ok(scalar @seen_tokens, '>=', 5, scalar(@seen_tokens) . ' tokens issued in all');
my @leaked = grep { index($all_output, $_) >= 0 } $SECRET, $wrong, $PAT, @seen_tokens;
is(scalar @leaked, 0, 'no secret, PAT or access token in any output')
    or diag "leaked: @leaked";

$t->check_logs;
done_testing;
