#!/usr/bin/perl
# fashionctl personas on the embedded sample: before any embedding it
# refuses with a clear message; then --all seeds the five demo accounts in
# both layouts with preferences derived from the catalog (budget's band
# below luxury's, athletic's categories those of sports products and its
# style vector nearer them than the rest, 512-d unit vectors, brands only
# where the layout has them), Argon2id hashes and never the passwords;
# fashiond accepts the printed password; a rerun updates in place (same
# user_ids, no new rows, lockout and likes reset); --profile and the
# default touch one layout; bad arguments are usage errors.
use strict;
use warnings;
use lib 't/lib';
use FashionTest;
use JSON::PP;
use Test::More;

my $t = FashionTest->new->require_binaries(qw(fashiond fashionctl fashion-clipd));
$t->setup_stack;
$t->start_clipd;
my $images = FashionTest::sample_dir() . '/images';

sub q1 { my @r = $t->psql($_[0]); $r[0] // '' }

my %layout = (
	fashion_sota => { users => 'fashion_sota.users',
	    features => 'fashion_sota.user_preferences',
	    likes => 'fashion_sota.user_likes',
	    products => 'fashion_sota.products', brand => 1 },
	fashion_demo => { users => 'fashion_demo.usersdb',
	    features => 'fashion_demo.user_style_featuresdb',
	    likes => 'fashion_demo.user_likesdb',
	    products => 'fashion_demo.productsdb', brand => 0 },
);
my %persona = (
	budget => 'Budget-Conscious Shopper',
	athletic => 'Athletic Performance',
	luxury => 'Luxury Fashionista',
	accessories => 'Casual Accessories Lover',
	vintage => 'Vintage',
);
my %password = map { $_ => "demo-$_-2026" } keys %persona;
sub email { "$_[0]\@demo.fashion.invalid" }
my $demo_emails = "email LIKE '%\@demo.fashion.invalid'";

# --- before embed ---------------------------------------------------------
my ($rc, $out, $err) = $t->fashionctl('personas', '--all');
is($rc, 1, 'before embed: exit status 1');
like($err, qr/no product has an embedding.*fashionctl embed/i,
    'and says to run fashionctl embed first') or diag $err;
for my $l (sort keys %layout) {
	is(q1("SELECT count(*) FROM $layout{$l}{users}"), 0, "$l: no user written");
}

($rc, $out, $err) = $t->fashionctl('embed', '--images', $images);
is($rc, 0, 'fashionctl embed succeeds') or diag "$out$err";

# --- seed both layouts ------------------------------------------------------
($rc, $out, $err) = $t->fashionctl('personas', '--all');
is($rc, 0, 'personas --all succeeds') or diag "$out$err";
my @lines = grep { /^personas: / } split /\n/, $out;
is(scalar @lines, 10, 'one line per persona and layout') or diag $out;
note $out;
for my $l (sort keys %layout) {
	for my $s (sort keys %persona) {
		my $e = email($s);
		like($out, qr/^personas: $l: \Q$e\E password \Q$password{$s}\E \(DEMO ONLY\): \Q$persona{$s}\E; price [\d.]+\.\.[\d.]+; colours \S.*; categories \S.*; \d+ matching products$/m,
		    "$l: $s line: e-mail, password, band, colours, categories, count");
	}
}

my %uid;	# layout -> slug -> user_id
for my $l (sort keys %layout) {
	my ($U, $F, $P) = @{ $layout{$l} }{qw(users features products)};
	is(q1("SELECT count(*) FROM $U"), 5, "$l: five users");
	is(join(',', $t->psql("SELECT email || '=' || persona FROM $U ORDER BY email")),
	    join(',', map { email($_) . "=$persona{$_}" } sort keys %persona),
	    "$l: the five e-mails with their personas");
	is(q1("SELECT count(*) FROM $U WHERE password_hash LIKE '\$argon2id\$%'"), 5,
	    "$l: Argon2id password hashes");
	is(q1("SELECT count(*) FROM $U WHERE failed_logins = 0 AND locked_until IS NULL"),
	    5, "$l: not locked");
	%{ $uid{$l} } = map { split /\|/ } $t->psql("SELECT split_part(email, '\@', 1),
	    user_id FROM $U");
	is(q1("SELECT count(*) FROM $F f JOIN $U u USING (user_id)"), 5,
	    "$l: five preference rows");
	is(q1("SELECT count(*) FROM $F f WHERE cardinality(style_vector) = 512
	    AND base_vector = style_vector
	    AND abs((SELECT sqrt(sum(x * x)) FROM unnest(f.style_vector) x) - 1) < 1e-4"),
	    5, "$l: 512-d unit style vectors, equal to the base vectors");
	is(q1("SELECT count(*) FROM $F WHERE cardinality(preferred_categories) = 3
	    AND cardinality(preferred_colors) BETWEEN 1 AND 3
	    AND min_price > 0 AND min_price <= max_price"), 5,
	    "$l: three categories, colours and a price band each");
	is(q1("SELECT count(*) FROM $F f WHERE EXISTS (SELECT 1 FROM unnest(f.preferred_categories) c
	    WHERE c NOT IN (SELECT sub_category FROM $P))"), 0,
	    "$l: categories are sub_category values of the catalog");

	my %f = map { my @c = split /\|/; $c[0] => \@c } $t->psql("SELECT
	    split_part(u.email, '\@', 1), f.min_price, f.max_price,
	    array_to_string(f.preferred_categories, ','),
	    array_to_string(f.preferred_colors, ','),
	    array_to_string(f.preferred_brands, ',')
	    FROM $F f JOIN $U u USING (user_id)");
	cmp_ok($f{budget}[2], '<', $f{luxury}[1],
	    "$l: budget's max price $f{budget}[2] < luxury's min price $f{luxury}[1]");
	is(q1("SELECT $f{budget}[2] = percentile_disc(0.25) WITHIN GROUP (ORDER BY price)
	    AND $f{budget}[1] = min(price) FROM $P"), 't',
	    "$l: budget band is [min, p25] of the catalog");
	is(q1("SELECT $f{luxury}[1] = percentile_disc(0.9) WITHIN GROUP (ORDER BY price)
	    AND $f{luxury}[2] = max(price) FROM $P"), 't',
	    "$l: luxury band is [p90, max] of the catalog");
	my %median = map {
		$_ => q1("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY price) FROM $P
		    WHERE price BETWEEN $f{$_}[1] AND $f{$_}[2]")
	} qw(budget luxury);
	cmp_ok($median{luxury}, '>', 2 * $median{budget},
	    "$l: luxury's median price $median{luxury} well above budget's $median{budget}");

	# Athletic: the top sports sub-categories, a band of sports prices,
	# and a style vector nearer the sports products than the others.
	is($f{athletic}[3], join(',', $t->psql("SELECT sub_category FROM $P
	    WHERE usage = 'Sports' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 3")),
	    "$l: athletic's categories are the top sports sub-categories");
	is(q1("SELECT count(*) FROM $P WHERE usage = 'Sports'
	    AND base_color = ANY (string_to_array('$f{athletic}[4]', ','))") > 0 ? 1 : 0, 1,
	    "$l: athletic's colours are those of sports products");
	my $vec = $l eq 'fashion_sota' ? 'p.embedding' : 'e.embedding';
	my $join = $l eq 'fashion_sota' ? '' :
	    'JOIN fashion_demo.product_embeddings_multimodal e USING (product_id)';
	my ($sports, $rest) = split /\|/, q1("SELECT
	    avg(s) FILTER (WHERE usage = 'Sports'), avg(s) FILTER (WHERE usage IS DISTINCT FROM 'Sports')
	    FROM (SELECT p.usage, (SELECT sum(a * b) FROM unnest($vec, f.style_vector) u(a, b)) s
	    FROM $P p $join CROSS JOIN $F f WHERE f.user_id = $uid{$l}{athletic}
	    AND $vec IS NOT NULL) x");
	cmp_ok($sports, '>', $rest + 0.05,
	    sprintf("$l: athletic's style vector is nearer sports products (%.3f vs %.3f)",
	    $sports, $rest));
	# Luxury's vector is nearer the expensive products than budget's is.
	my ($lux, $bud) = split /\|/, q1("SELECT
	    avg((SELECT sum(a * b) FROM unnest($vec, l.style_vector) u(a, b))),
	    avg((SELECT sum(a * b) FROM unnest($vec, b.style_vector) u(a, b)))
	    FROM $P p $join, $F l, $F b WHERE l.user_id = $uid{$l}{luxury}
	    AND b.user_id = $uid{$l}{budget} AND p.price >= $f{luxury}[1] AND $vec IS NOT NULL");
	cmp_ok($lux, '>', $bud, "$l: luxury's vector is nearer luxury products than budget's");
	is(q1("SELECT count(*) FROM $P WHERE master_category = 'Accessories' AND usage = 'Casual'
	    AND sub_category = ANY (string_to_array('$f{accessories}[3]', ','))") > 0 ? 1 : 0, 1,
	    "$l: accessories' categories are casual accessories");
	is(q1("SELECT count(*) FROM unnest(string_to_array('$f{vintage}[4]', ',')) c
	    WHERE c NOT IN ('Brown', 'Beige', 'Maroon', 'Olive', 'Khaki', 'Mustard', 'Tan',
	    'Coffee Brown', 'Rust')"), 0, "$l: vintage's colours are earthy");
	if ($layout{$l}{brand}) {
		isnt($f{luxury}[5] // '', '', "$l: luxury has preferred brands ($f{luxury}[5])");
		is(q1("SELECT count(*) FROM $F WHERE preferred_brands <> '{}'"), 1,
		    "$l: only luxury has brands");
	} else {
		is(q1("SELECT count(*) FROM $F WHERE preferred_brands <> '{}'"), 0,
		    "$l: no brands in a layout without a brand column");
	}

	my $pw = join '|', map { quotemeta } values %password;
	is(q1("SELECT count(*) FROM $U u WHERE u::text ~ '$pw'"), 0,
	    "$l: no password in the users table");
	is(q1("SELECT count(*) FROM $F f WHERE f::text ~ '$pw'"), 0,
	    "$l: nor in the preferences");
}

# fashiond verifies the stored hash (active profile: fashion_sota).
my $json = JSON::PP->new;
my @r = $t->json_request('POST', '/api/v1/auth/login',
    headers => { Origin => 'http://localhost', 'Content-Type' => 'application/json' },
    body => $json->encode({ email => email('luxury'), password => $password{luxury} }));
is($r[0], 200, 'fashiond: the luxury demo account logs in with its password') or diag $r[3];
@r = $t->json_request('POST', '/api/v1/auth/login',
    headers => { Origin => 'http://localhost', 'Content-Type' => 'application/json' },
    body => $json->encode({ email => email('luxury'), password => $password{budget} }));
is($r[0], 401, '... and not with another persona\'s');

# --- rerun: updates in place --------------------------------------------------
my %hash;
for my $l (sort keys %layout) {
	my ($U, $L) = @{ $layout{$l} }{qw(users likes)};
	$hash{$l} = q1("SELECT password_hash FROM $U WHERE email = '" . email('budget') . "'");
	$t->psql("UPDATE $U SET failed_logins = 7, locked_until = now() + interval '1 hour',
	    display_name = 'changed' WHERE email = '" . email('vintage') . "'");
	$t->psql("INSERT INTO $L (user_id, product_id) SELECT $uid{$l}{budget}, min(product_id)
	    FROM $layout{$l}{products}");
	$t->psql("UPDATE $layout{$l}{features} SET style_vector = NULL WHERE user_id = $uid{$l}{budget}");
}
($rc, $out, $err) = $t->fashionctl('personas', '--profile', 'all');
is($rc, 0, 'second run (--profile all) succeeds') or diag "$out$err";
for my $l (sort keys %layout) {
	my ($U, $F, $L) = @{ $layout{$l} }{qw(users features likes)};
	is(q1("SELECT count(*) FROM $U"), 5, "$l: still five users");
	is(q1("SELECT count(*) FROM $F"), 5, "$l: still five preference rows");
	my %again = map { split /\|/ } $t->psql("SELECT split_part(email, '\@', 1), user_id FROM $U");
	is_deeply(\%again, $uid{$l}, "$l: user_ids kept");
	my $h = q1("SELECT password_hash FROM $U WHERE email = '" . email('budget') . "'");
	like($h, qr/^\$argon2id\$/, "$l: still an Argon2id hash");
	isnt($h, $hash{$l}, "$l: rehashed with a new salt");
	is(q1("SELECT failed_logins || ',' || (locked_until IS NULL) || ',' || display_name
	    FROM $U WHERE email = '" . email('vintage') . "'"), '0,true,Vintage Shopper (demo)',
	    "$l: lockout reset, display name restored");
	is(q1("SELECT count(*) FROM $L WHERE user_id = $uid{$l}{budget}"), 0,
	    "$l: the demo account's likes reset");
	is(q1("SELECT count(*) FROM $F WHERE style_vector = base_vector"), 5,
	    "$l: style vectors back to the base");
}

# --- one layout at a time; usage ---------------------------------------------
$t->psql("UPDATE fashion_demo.usersdb SET failed_logins = 2");
$t->psql("UPDATE fashion_sota.users SET failed_logins = 2");
($rc, $out, $err) = $t->fashionctl('personas');
is($rc, 0, 'default: the active profile') or diag "$out$err";
is(scalar(() = $out =~ /^personas: fashion_sota: /mg), 5, 'five fashion_sota lines');
unlike($out, qr/fashion_demo/, 'fashion_demo left alone');
is(q1("SELECT count(*) FROM fashion_demo.usersdb WHERE failed_logins = 2"), 5,
    'fashion_demo rows untouched');
($rc, $out, $err) = $t->fashionctl('personas', '--profile', 'fashion_demo');
is($rc, 0, '--profile fashion_demo') or diag "$out$err";
is(scalar(() = $out =~ /^personas: fashion_demo: /mg), 5, 'five fashion_demo lines');
is(q1("SELECT count(*) FROM fashion_demo.usersdb WHERE failed_logins = 2"), 0,
    'fashion_demo rows updated');

for my $bad ([ '--bogus' ], [ '--profile', 'nope' ], [ '--all', '--profile', 'fashion_demo' ],
    [ 'extra' ]) {
	($rc) = $t->fashionctl('personas', @$bad);
	is($rc, 2, "personas @$bad: usage error");
}

$t->check_logs;
done_testing;
