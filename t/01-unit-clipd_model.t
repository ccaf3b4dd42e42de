#!/usr/bin/perl
# Runs t/unit/clipd_model: the C forward pass against PyTorch's golden
# vectors (models/golden/), the tokenizer, determinism, a damaged model.
use strict; use warnings;
my $bin = ($ENV{FASHION_BUILDDIR} // '.') . '/t/unit/clipd_model';
exec $bin or die "exec $bin: $!";
