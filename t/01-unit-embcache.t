#!/usr/bin/perl
# Runs the C unit test t/unit/embcache_test (query-embedding LRU cache).
use strict; use warnings;
my $bin = ($ENV{FASHION_BUILDDIR} // '.') . '/t/unit/embcache_test';
exec $bin or die "exec $bin: $!";
