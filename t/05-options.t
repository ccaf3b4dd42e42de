#!/usr/bin/perl
# Every option fashiond knows (fashiond -O) is in the sample config and in
# doc/CONFIG.md, and the sample config passes fashiond -t.
use strict; use warnings;
use Test::More;

my $b = $ENV{FASHION_BUILDDIR} // '.';
my $s = $ENV{FASHION_SRCDIR} // '.';
my @opts = map { (split /\t/)[0] } split /\n/, `$b/fashiond -O`;
ok(@opts > 20, 'fashiond -O lists the options');
open my $fh, '<', "$s/etc/fashion.cfg" or die; my $cfg = do { local $/; <$fh> };
open $fh, '<', "$s/doc/CONFIG.md" or die; my $doc = do { local $/; <$fh> };
for my $o (@opts) {
    my $leaf = (split /\./, $o)[-1];
    like($cfg, qr/^\s*\Q$leaf\E\s*=/m, "$o is in etc/fashion.cfg");
    like($doc, qr/`\Q$o\E`/, "$o is documented in doc/CONFIG.md");
}
my $out = `$b/fashiond -t -c $s/etc/fashion.cfg 2>&1`;
is($?, 0, 'sample config passes fashiond -t') or diag $out;
done_testing();
