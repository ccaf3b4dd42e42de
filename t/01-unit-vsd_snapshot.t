#!/usr/bin/perl
# Runs the C unit test t/unit/vsd_snapshot (fashion-vsd core), which prints TAP.
use strict; use warnings;
my $bin = ($ENV{FASHION_BUILDDIR} // '.') . '/t/unit/vsd_snapshot';
exec $bin or die "exec $bin: $!";
