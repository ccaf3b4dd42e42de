#!/usr/bin/perl
# Accounts and sessions: signup, login, logout, /me; what the database keeps
# (an Argon2id hash, the SHA-256 of the token); cookie flags; expiry;
# logout revoking the token; indistinguishable login failures; the
# per-account lockout; Origin checks; nginx's rate limit; bad input; and
# both layouts keeping their own users.
use strict;
use warnings;
use lib 't/lib';
use FashionTest;
use JSON::PP;
use List::Util qw(sum);
use Test::More;
use Time::HiRes qw(time sleep);

my $t = FashionTest->new->require_binaries(qw(fashiond fashionctl));
$t->setup_stack;
my $ORIGIN = 'http://localhost';	# the harness sends Host: localhost

sub req { $t->shopper_request(@_) }
sub cookie_of { FashionTest::session_cookie(@_) }
sub q1 { my @r = $t->psql($_[0]); $r[0] }

# --- signup -------------------------------------------------------------------
my @r = req('POST', '/api/v1/auth/signup', { email => 'Ada@Example.COM',
    password => 'correct horse battery', display_name => 'Ada' });
is($r[0], 201, 'signup: 201') or diag $r[3];
my $user = $r[1]{user};
is($user->{email}, 'ada@example.com', 'e-mail case-folded');
is($user->{display_name}, 'Ada', 'display name');
ok($user->{user_id} > 0, 'user id');
my $setc = $r[2]{'set-cookie'} // '';
my $tok = cookie_of($r[2]);
like($tok, qr/^[A-Za-z0-9_-]{43}$/, 'session cookie: 256 random bits, base64url');
for my $flag ('HttpOnly', 'Secure', 'SameSite=Lax', 'Path=/', 'Max-Age=604800') {
	like($setc, qr/(^|;\s*)\Q$flag\E(;|$)/, "cookie flag $flag");
}
my $hash = q1("SELECT password_hash FROM fashion_sota.users WHERE user_id = $user->{user_id}");
like($hash, qr/^\$argon2id\$/, 'password stored as an Argon2id hash');
is(q1("SELECT count(*) FROM fashion_sota.users WHERE password_hash LIKE '%horse%'"), 0,
    'the password itself is nowhere');
is(q1("SELECT length(token_hash) FROM fashion_sota.sessions WHERE user_id = $user->{user_id}"),
    32, 'the session row keeps a 32-byte hash');
is(q1("SELECT count(*) FROM fashion_sota.sessions WHERE encode(token_hash, 'escape') LIKE '%$tok%'"),
    0, '... not the token');

@r = req('GET', '/api/v1/me', undef, session => $tok);
is($r[0], 200, '/me with the cookie: 200');
is($r[1]{user}{email}, 'ada@example.com', '/me: who');
$t->is_json_error([ req('GET', '/api/v1/me') ], 401, 'unauthenticated', '/me without a cookie: 401');
$t->is_json_error([ req('GET', '/api/v1/me', undef, session => 'x' x 43) ], 401,
    'unauthenticated', '/me with a made-up token: 401');
$t->is_json_error([ req('GET', '/api/v1/me', undef, session => "${tok}x") ], 401,
    'unauthenticated', '/me with a damaged cookie: 401');

$t->is_json_error([ req('POST', '/api/v1/auth/signup', { email => 'ADA@example.com',
    password => 'another password', display_name => 'Ada 2' }) ], 409, 'email_taken',
    'signup again with the same address (other case): 409');
is(q1("SELECT count(*) FROM fashion_sota.users"), 1, '... and no second row');
@r = req('POST', '/api/v1/auth/signup', { email => "o'brien\";--\@example.com",
    password => "pass'word; DROP TABLE users;--", display_name => "Robert'); DROP TABLE users;--" });
is($r[0], 201, 'SQL metacharacters are data');
is(q1("SELECT display_name FROM fashion_sota.users WHERE email LIKE 'o''brien%'"),
    "Robert'); DROP TABLE users;--", '... stored literally');

# --- bad input --------------------------------------------------------------------
my $long = 'a' x 250 . '@example.com';
my @bad = (
	[ { email => 'x@y.z', password => 'short', display_name => 'X' }, 'invalid_parameter', 'password under 10 bytes' ],
	[ { email => 'x@y.z', password => 'p' x 257, display_name => 'X' }, 'invalid_parameter', 'password over 256 bytes' ],
	[ { email => $long, password => 'long enough pw', display_name => 'X' }, 'invalid_parameter', 'e-mail over 254 bytes' ],
	[ { email => 'not-an-address', password => 'long enough pw', display_name => 'X' }, 'invalid_parameter', 'e-mail without @' ],
	[ { email => 'a b@c.d', password => 'long enough pw', display_name => 'X' }, 'invalid_parameter', 'e-mail with a space' ],
	[ { email => 'x@y.z', password => 'long enough pw', display_name => '' }, 'invalid_parameter', 'empty display name' ],
	[ { email => 'x@y.z', password => 'long enough pw', display_name => "a\x01b" }, 'invalid_parameter', 'control character in the name' ],
	[ { email => 'x@y.z', password => 12345678901, display_name => 'X' }, 'invalid_parameter', 'password a number' ],
	[ { email => [ 'x@y.z' ], password => 'long enough pw', display_name => 'X' }, 'invalid_parameter', 'e-mail a list' ],
	[ { email => 'x@y.z', password => 'long enough pw' }, 'invalid_parameter', 'display name missing' ],
	[ { email => 'x@y.z', password => 'long enough pw', display_name => 'X', admin => JSON::PP::true }, 'unknown_field', 'unknown field' ],
	[ qq({"email": "x\@y.z", "password": "long enough \xff\xfe", "display_name": "X"}), 'invalid_parameter', 'invalid UTF-8' ],
	[ '{"email": "x@y.z", ', 'invalid_json', 'truncated JSON' ],
	[ '"x@y.z"', 'invalid_json', 'a JSON string' ],
);
for my $b (@bad) {
	$t->is_json_error([ req('POST', '/api/v1/auth/signup', $b->[0]) ], 400, $b->[1],
	    "signup, $b->[2] -> 400");
}
is(q1("SELECT count(*) FROM fashion_sota.users"), 2, 'no row from any bad signup');
$t->is_json_error([ req('POST', '/api/v1/auth/signup', '{}', headers => { 'Content-Type' => 'text/plain' }) ],
    415, 'unsupported_media_type', 'signup as text/plain -> 415');
$t->is_json_error([ req('POST', '/api/v1/auth/signup', 'x' x (1100 * 1024)) ], 413, undef,
    'signup body over server.max_body -> 413');

# --- Origin (CSRF) ------------------------------------------------------------
my %ada = (email => 'ada@example.com', password => 'correct horse battery');
$t->is_json_error([ req('POST', '/api/v1/auth/login', \%ada, no_origin => 1) ], 403, 'csrf',
    'login without Origin or Referer -> 403');
$t->is_json_error([ req('POST', '/api/v1/auth/login', \%ada,
    headers => { Origin => 'https://evil.example' }) ], 403, 'csrf', 'login from another site -> 403');
$t->is_json_error([ req('POST', '/api/v1/auth/logout', undef, session => $tok,
    headers => { Origin => 'https://evil.example' }) ], 403, 'csrf',
    'logout from another site -> 403 (and the session lives)');
is((req('GET', '/api/v1/me', undef, session => $tok))[0], 200, '... still signed in');
# Behind nginx, HTTP_HOST is $host (no port) while the browser's Origin
# has one (https://localhost:8443): host names are compared.
is((req('POST', '/api/v1/auth/login', \%ada,
    headers => { Origin => 'https://LOCALHOST:8443' }))[0], 200,
    'an Origin with a port, same host name: accepted');
$t->is_json_error([ req('POST', '/api/v1/auth/login', \%ada,
    headers => { Origin => 'https://localhost.evil.example:8443' }) ], 403, 'csrf',
    'a host name that only starts like ours -> 403');
@r = req('POST', '/api/v1/auth/login', \%ada, no_origin => 1,
    headers => { Referer => "$ORIGIN/account.html" });
is($r[0], 200, 'no Origin but a same-site Referer: accepted');

# --- login --------------------------------------------------------------------
@r = req('POST', '/api/v1/auth/login', { %ada, email => 'ADA@example.com' });
is($r[0], 200, 'login (any case of the address): 200');
my $tok2 = cookie_of($r[2]);
ok($tok2 && $tok2 ne $tok, 'a new session token');
is((req('GET', '/api/v1/me', undef, session => $tok2))[0], 200, 'the new session works');
is(q1("SELECT count(*) FROM fashion_sota.sessions WHERE user_id = $user->{user_id}"), 4,
    'four sessions of Ada (signup, Origin with a port, Referer login, login)');

my (@wrong, @unknown);
for (1 .. 3) {
	my @w = req('POST', '/api/v1/auth/login', { %ada, password => 'wrong password!' });
	push @wrong, [ @w ];
	my @u = req('POST', '/api/v1/auth/login', { email => 'nobody@example.com',
	    password => 'wrong password!' });
	push @unknown, [ @u ];
}
$t->is_json_error($wrong[0], 401, 'invalid_credentials', 'wrong password -> 401');
$t->is_json_error($unknown[0], 401, 'invalid_credentials', 'unknown address -> 401');
is($wrong[0][3], $unknown[0][3], 'the two failures are the same bytes');
my $tw = sum(map { $_->[4] } @wrong) / 3;
my $tu = sum(map { $_->[4] } @unknown) / 3;
ok($tu > $tw / 3 && $tu < $tw * 3, sprintf('and take similar time (%.0f ms vs %.0f ms: '
    . 'both verify an Argon2id hash)', $tw * 1000, $tu * 1000));

# --- lockout: 5 failures in a row lock the account, 2^(n-5) s --------------------
req('POST', '/api/v1/auth/login', { %ada, password => 'wrong password!' }) for 1 .. 2;
is(q1("SELECT failed_logins FROM fashion_sota.users WHERE user_id = $user->{user_id}"), 5,
    'five failures counted');
@r = req('POST', '/api/v1/auth/login', \%ada);
$t->is_json_error(\@r, 429, 'too_many_attempts', 'locked: even the right password -> 429');
like($r[2]{'retry-after'} // '', qr/^[12]$/, 'with Retry-After');
sleep 2.1;
@r = req('POST', '/api/v1/auth/login', \%ada);
is($r[0], 200, 'after the lock: the right password works');
is(q1("SELECT failed_logins FROM fashion_sota.users WHERE user_id = $user->{user_id}"), 0,
    '... and resets the count');

# --- expiry and logout ----------------------------------------------------------
my $tok3 = cookie_of($r[2]);
$t->psql("UPDATE fashion_sota.sessions SET expires_at = now() - interval '1 second'
    WHERE user_id = $user->{user_id} AND token_hash = sha256(decode(translate('$tok3', '-_', '+/') || '=', 'base64'))");
$t->is_json_error([ req('GET', '/api/v1/me', undef, session => $tok3) ], 401,
    'unauthenticated', 'an expired session -> 401');
is((req('GET', '/api/v1/me', undef, session => $tok2))[0], 200, 'the other sessions live on');
@r = req('POST', '/api/v1/auth/logout', undef, session => $tok2);
is($r[0], 200, 'logout: 200');
is($r[1]{logged_out}, JSON::PP::true, 'logged_out');
like($r[2]{'set-cookie'} // '', qr/^fashion_session=;.*Max-Age=0/, 'the cookie is cleared');
$t->is_json_error([ req('GET', '/api/v1/me', undef, session => $tok2) ], 401,
    'unauthenticated', 'the logged-out token is dead server-side');
@r = req('POST', '/api/v1/auth/logout', undef, session => $tok2);
is($r[1]{logged_out}, JSON::PP::false, 'logging out twice: nothing to do');

# --- nginx rate limit ------------------------------------------------------------
my %st;
for (1 .. 80) { my ($s) = req('POST', '/api/v1/auth/logout'); $st{$s}++ }
ok($st{429}, "nginx limits sign-in requests per address: " . join(', ',
    map { "$_ x$st{$_}" } sort keys %st));
my @lim = grep { $_ } map { [ req('POST', '/api/v1/auth/logout') ] } 1 .. 3;
$t->is_json_error($lim[-1], 429, 'too_many_requests', 'as a JSON error');
is((req('GET', '/api/v1/products?page_size=1'))[0], 200, 'other paths are not limited');
sleep 4;

# --- the old layout keeps its own users -------------------------------------------
my ($rc, $out, $err) = $t->fashionctl('switch', 'fashion_demo');
is($rc, 0, 'switch to fashion_demo');
FashionTest::wait_for(10, sub { my (undef, $h) = $t->json_get('/api/v1/health');
	$h && $h->{profile} eq 'fashion_demo' });
$t->is_json_error([ req('POST', '/api/v1/auth/login', \%ada) ], 401, 'invalid_credentials',
    'fashion_demo: Ada does not exist there');
@r = req('POST', '/api/v1/auth/signup', { email => 'grace@example.com',
    password => 'cobol forever!', display_name => 'Grace' });
is($r[0], 201, 'fashion_demo: signup');
is(q1("SELECT count(*) FROM fashion_demo.usersdb WHERE email = 'grace\@example.com'"), 1,
    '... into fashion_demo.usersdb');
is(q1("SELECT count(*) FROM fashion_demo.sessionsdb"), 1, '... session in sessionsdb');
is(q1("SELECT count(*) FROM fashion_sota.users WHERE email = 'grace\@example.com'"), 0,
    '... not in the new layout');
($rc) = $t->fashionctl('switch', 'fashion_sota');

$t->check_logs;
ok(!grep({ /horse|cobol forever/ } split /\n/, FashionTest::slurp($t->fashiond_log)),
    'no password in the log');
done_testing();
