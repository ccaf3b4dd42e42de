#!/usr/bin/perl
# The five demo personas (fashionctl personas) sign in with their demo
# passwords and get recommendations that fit them: the luxury persona's
# median price well above the budget persona's, the athletic persona's
# picks mostly for sports, every persona's list different; liking changes
# the list.  Both layouts.
use strict;
use warnings;
use lib 't/lib';
use FashionTest;
use JSON::PP;
use Test::More;

my $t = FashionTest->new->require_binaries(qw(fashiond fashionctl
    fashion-clipd fashion-vsd));
$t->setup_stack;
$t->start_search(personas => [ '--all' ]);
my $rc;

sub req { my ($m, $path, $body, $tok) = @_; $t->shopper_request($m, $path, $body, session => $tok) }
sub median { my @s = sort { $a <=> $b } @_; @s ? $s[$#s / 2] : 0 }

sub personas {
	my ($profile) = @_;
	my %p;
	for my $slug (qw(budget athletic luxury accessories vintage)) {
		my @r = req('POST', '/api/v1/auth/login', { email =>
		    "$slug\@demo.fashion.invalid", password => "demo-$slug-2026" });
		is($r[0], 200, "$profile: $slug signs in with the demo password")
		    or next;
		my $tok = FashionTest::session_cookie($r[2]);
		my $uid = $r[1]{user}{user_id};
		@r = req('GET', "/api/v1/users/$uid/recommendations?limit=10", undef, $tok);
		is($r[0], 200, "$profile: $slug gets recommendations");
		is($r[1]{fallback}, JSON::PP::false, "$profile: $slug: from the vector index");
		is(scalar @{ $r[1]{products} }, 10, "$profile: $slug: 10 products");
		ok(!grep({ !$_->{personalization_reason} } @{ $r[1]{products} }),
		    "$profile: $slug: every product has a reason");
		$p{$slug} = { tok => $tok, uid => $uid, recs => $r[1]{products} };
	}
	return \%p;
}

for my $profile (qw(fashion_sota fashion_demo)) {
	if ($profile ne 'fashion_sota') {
		($rc) = $t->fashionctl('switch', $profile);
		FashionTest::wait_for(10, sub { my (undef, $h) = $t->json_get('/api/v1/health');
			$h && $h->{profile} eq $profile });
	}
	my $p = personas($profile);
	my %med = map { $_ => median(map { $_->{price} } @{ $p->{$_}{recs} }) } keys %$p;
	cmp_ok($med{luxury}, '>', 3 * $med{budget}, "$profile: luxury's median price "
	    . "$med{luxury} is well above budget's $med{budget}");
	my $sports = grep { ($_->{usage} // '') eq 'Sports' } @{ $p->{athletic}{recs} };
	cmp_ok($sports, '>=', 5, "$profile: athletic: $sports of 10 are for sports");
	my $acc = grep { $_->{master_category} eq 'Accessories' } @{ $p->{accessories}{recs} };
	cmp_ok($acc, '>=', 5, "$profile: accessories lover: $acc of 10 are accessories");
	my %lists = map { $_ => join(',', map { $_->{product_id} } @{ $p->{$_}{recs} }) } keys %$p;
	my %distinct = reverse %lists;
	is(scalar keys %distinct, 5, "$profile: five personas, five different lists");

	# Liking moves the list: budget likes three of luxury's picks.
	my $b = $p->{budget};
	my @liked = map { $_->{product_id} } @{ $p->{luxury}{recs} }[0 .. 2];
	for my $id (@liked) {
		my @r = req('POST', "/api/v1/users/$b->{uid}/likes/$id", undef, $b->{tok});
		is($r[0], 200, "$profile: budget likes $id");
	}
	my @r = req('GET', "/api/v1/users/$b->{uid}/recommendations?limit=10", undef, $b->{tok});
	my $now = join ',', map { $_->{product_id} } @{ $r[1]{products} };
	isnt($now, $lists{budget}, "$profile: budget's recommendations changed after the likes");
	my %l = map { $_ => 1 } @liked;
	ok(!grep({ $l{$_->{product_id}} } @{ $r[1]{products} }), "$profile: liked items left out");
	cmp_ok(median(map { $_->{price} } @{ $r[1]{products} }), '>=', $med{budget},
	    "$profile: and moved toward pricier items");
}
($rc) = $t->fashionctl('switch', 'fashion_sota');
$t->check_logs;
done_testing();
