#!/usr/bin/perl
# Runs the C unit test t/unit/fashionctl_prodtext, which prints TAP itself.
use strict; use warnings;
my $bin = ($ENV{FASHION_BUILDDIR} // '.') . '/t/unit/fashionctl_prodtext';
exec $bin or die "exec $bin: $!";
