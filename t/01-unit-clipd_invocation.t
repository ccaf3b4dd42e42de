#!/usr/bin/perl
# Runs the C unit test t/unit/clipd_invocation, which prints TAP itself.
use strict; use warnings;
my $bin = ($ENV{FASHION_BUILDDIR} // '.') . '/t/unit/clipd_invocation';
exec $bin or die "exec $bin: $!";
