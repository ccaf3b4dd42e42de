#!/usr/bin/perl
# Runs the C unit test t/unit/fashionctl_rules, which prints TAP itself.
use strict; use warnings;
my $bin = ($ENV{FASHION_BUILDDIR} // '.') . '/t/unit/fashionctl_rules';
exec $bin or die "exec $bin: $!";
