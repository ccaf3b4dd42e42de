#!/usr/bin/perl
# Runs the C unit test t/unit/http_client_test, which prints TAP itself.
use strict; use warnings;
my $bin = ($ENV{FASHION_BUILDDIR} // '.') . '/t/unit/http_client_test';
exec $bin or die "exec $bin: $!";
