#!/usr/bin/perl
# Runs the C unit test t/unit/vsd_filter (fashion-vsd core), which prints TAP.
use strict; use warnings;
my $bin = ($ENV{FASHION_BUILDDIR} // '.') . '/t/unit/vsd_filter';
exec $bin or die "exec $bin: $!";
