#!/usr/bin/perl
# Builds the libFuzzer harnesses in fuzz/ with ASan+UBSan and runs each
# briefly (bounded by FUZZ_SECONDS, default 10).  Skips without clang.
use strict; use warnings;
use File::Temp qw(tempdir);
use Test::More;

my $src = $ENV{FASHION_SRCDIR} // '.';
my $secs = $ENV{FUZZ_SECONDS} // 10;
my $clang = `command -v clang 2>/dev/null`; chomp $clang;
plan skip_all => 'clang not installed' unless $clang;

my $tmp = tempdir(CLEANUP => !$ENV{LEAVE});
my $ctl = "$src/src/fashionctl";
my $clipd = "$src/src/clipd";
my $jsonc = `pkg-config --cflags --libs json-c 2>/dev/null` || '-ljson-c';
chomp $jsonc;
my $pq = `pkg-config --cflags --libs libpq 2>/dev/null` || '-lpq';
chomp $pq;
# name => [sources..., extra flags...]
my %harness = (
    query => ["$src/fuzz/fuzz_query.c", "$src/src/request.c",
              "$src/src/buf.c", "$src/src/log.c", '-lfcgi'],
    csv   => ["$ctl/fuzz_csv.c", "$ctl/csv.c", "$ctl/rules.c", "-I$ctl"],
    jpeg  => ["$ctl/fuzz_jpeg.c", "$ctl/imgcheck.c", "-I$ctl", '-ljpeg'],
    filter => ["$src/src/vsd/fuzz_filter.c", "$src/src/vsd/filter.c",
              "$src/src/vsd/snapshot.c", "$src/src/vsd/topk.c", "$src/src/buf.c",
              $jsonc, $pq, '-lz', '-lm'],
    invocation => ["$clipd/fuzz_invocation.c", "$clipd/invocation.c",
              "$clipd/base64.c", "$clipd/image.c", "$clipd/tokenize.c",
              "$src/src/buf.c", $jsonc, '-ljpeg', '-lpng', '-lm'],
    multipart => ["$src/src/fuzz_multipart.c", "$src/src/multipart.c",
              "$src/src/buf.c"],
);
for my $name (sort keys %harness) {
    my $bin = "$tmp/fuzz_$name";
    my @cmd = ($clang, '-g', '-O1', '-D_GNU_SOURCE',
        '-fsanitize=fuzzer,address,undefined', '-fno-sanitize-recover=all',
        "-I$src/src", @{$harness{$name}}, '-o', $bin);
    my $out = `@cmd 2>&1`;
    is($?, 0, "build fuzz_$name") or diag $out;
    next if $?;
    my $corpus = "$tmp/corpus_$name";
    mkdir $corpus;
    system("cp $src/fuzz/corpus/$name/* $corpus/ 2>/dev/null");
    my $log = `$bin -max_total_time=$secs -timeout=5 -rss_limit_mb=1024 $corpus 2>&1`;
    is($?, 0, "fuzz_$name ran ${secs}s without a crash")
        or diag join("\n", (split /\n/, $log)[-30..-1]);
    my ($runs) = $log =~ /Done (\d+) runs/;
    ok(($runs // 0) > 1000, "fuzz_$name executed " . ($runs // 0) . " inputs");
}
done_testing();
