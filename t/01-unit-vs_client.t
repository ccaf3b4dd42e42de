#!/usr/bin/perl
# Runs the C unit test t/unit/vs_client_test (Vector Search page parser,
# API filters -> filters_json).
use strict; use warnings;
my $bin = ($ENV{FASHION_BUILDDIR} // '.') . '/t/unit/vs_client_test';
exec $bin or die "exec $bin: $!";
