#!/usr/bin/perl
# Runs the C unit test t/unit/multipart_test (multipart/form-data parser).
use strict; use warnings;
my $bin = ($ENV{FASHION_BUILDDIR} // '.') . '/t/unit/multipart_test';
exec $bin or die "exec $bin: $!";
