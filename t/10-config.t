#!/usr/bin/perl
# fashiond -t: a good config passes, every kind of broken one fails with a
# message that names the problem.

use strict;
use warnings;

use Test::More;
use FashionTest;

my $t = FashionTest->new->require_binaries('fashiond');
my $bin = FashionTest::builddir() . '/fashiond';

sub check {
	my ($file) = @_;
	my ($rc, $out, $err) = $t->run([ $bin, '-t', '-c', $file ],
	    timeout => 30);
	return ($rc, "$out$err");
}

my $good = $t->config_text(profile => 'fashion_sota');

# write TEXT to NAME.cfg, run fashiond -t, expect failure mentioning RE
sub bad {
	my ($name, $text, $re, $desc) = @_;
	my $f = $t->write_config_raw($text, $t->dir . "/$name.cfg");
	my ($rc, $msg) = check($f);
	isnt($rc, 0, "$desc: exits non-zero");
	like($msg, $re, "$desc: message names the problem")
	    or diag("got: $msg");
	unlike($msg, qr/AddressSanitizer|runtime error:|Segmentation/,
	    "$desc: no crash");
}

# good configs, both profiles
{
	my $f = $t->write_config_raw($good, $t->dir . '/good.cfg');
	my ($rc, $msg) = check($f);
	is($rc, 0, 'good config (fashion_sota) passes -t') or diag($msg);

	$f = $t->write_config_raw($t->config_text(profile => 'fashion_demo'),
	    $t->dir . '/good-demo.cfg');
	($rc, $msg) = check($f);
	is($rc, 0, 'good config (fashion_demo) passes -t') or diag($msg);

	# the shipped sample config itself is valid
	($rc, $msg) = check(FashionTest::srcdir() . '/etc/fashion.cfg');
	is($rc, 0, 'etc/fashion.cfg passes -t') or diag($msg);

	ok(!FashionTest::port_open($t->fcgi_port, 0.2),
	    '-t does not start listening');
}

# missing file
{
	my ($rc, $msg) = check($t->dir . '/does-not-exist.cfg');
	isnt($rc, 0, 'missing file: exits non-zero');
	like($msg, qr/does-not-exist\.cfg/, 'missing file: names the file');
}

# syntax error: a missing semicolon and an unclosed group
{
	(my $text = $good) =~ s/^(\s*workers\s*=\s*\d+);/$1/m
	    or die 'workers line not found';
	$text =~ s/^(\s*backlog)/$1 $1/m;
	bad('syntax', $text, qr/syntax\.cfg.*(line|:\d+)|line \d+|:\d+:/i,
	    'syntax error');

	bad('unclosed', "$good\nserver2 = {\n  a = 1;\n",
	    qr/unclosed\.cfg|syntax|line/i, 'unclosed group');
}

# unknown options, in a group and at top level
{
	(my $text = $good) =~ s/^(\s*backlog\s*=)/  frobnicate = 1;\n$1/m;
	bad('unknown', $text, qr/frobnicate/, 'unknown option in server');

	($text = $good) =~ s/^(\s*conninfo\s*=)/  conn_info_typo = "x";\n$1/m;
	bad('unknown-db', $text, qr/conn_info_typo/, 'unknown option in database');

	bad('unknown-top', "frobnicate = 2;\n$good", qr/frobnicate/,
	    'unknown top-level option');
}

# profile
{
	bad('badprofile', $t->config_text(profile => 'fashion_nope'),
	    qr/fashion_nope/, 'unknown profile');

	(my $text = $good) =~ s/^profile\s*=.*$//m;
	bad('noprofile', $text, qr/profile/, 'profile not set');

	($text = $good) =~ s/^(profile\s*=\s*)"fashion_sota"/${1}42/m;
	bad('intprofile', $text, qr/profile/, 'profile not a string');
}

# identifiers from the config end up in SQL: only plain names are accepted
{
	(my $text = $good) =~
	    s/(fashion_sota\s*=\s*\{.*?schema\s*=\s*)"fashion_sota"/$1"x; drop table y"/s
	    or die 'sota schema not found';
	bad('sqlschema', $text, qr/schema/, 'schema with SQL in it');

	($text = $good) =~
	    s/(fashion_demo\s*=\s*\{.*?products\s*=\s*)"productsdb"/$1"products\\"db"/s
	    or die 'demo products not found';
	bad('quoteident', $text, qr/products/, 'table name with a quote');

	($text = $good) =~
	    s/(fashion_demo\s*=\s*\{.*?schema\s*=\s*)"fashion_demo"/$1""/s
	    or die 'demo schema not found';
	bad('emptyschema', $text, qr/schema/, 'empty schema name');

	my $long = 'a' x 200;
	($text = $good) =~
	    s/(fashion_sota\s*=\s*\{.*?products\s*=\s*)"products"/$1"$long"/s;
	bad('longident', $text, qr/products/, 'overlong table name');
}

# numbers out of range
{
	bad('workers0', $t->config_text(workers => 0), qr/workers/,
	    'workers = 0');
	bad('workersneg', $t->config_text(workers => -3), qr/workers/,
	    'workers = -3');
	bad('workersstr', $t->config_text(workers => 'four'), qr/workers/,
	    'workers not an integer');
}

# missing profiles group, missing one profile
{
	(my $text = $good) =~ s/^profiles\s*=\s*\{.*\z//ms or die;
	bad('noprofiles', $text, qr/profiles/, 'missing profiles group');

	($text = $good) =~
	    s/^\s*#[^\n]*\n\s*fashion_demo\s*=\s*\{.*?\n\s*\};\n//ms or die;
	bad('nodemo', $text, qr/fashion_demo/, 'missing fashion_demo profile');
}

# listen address and secrets
{
	bad('badlisten', $t->config_text(listen => 'localhost'),
	    qr/listen/, 'listen without a port');
	my $text = $t->config_text(conninfo =>
	    'host=127.0.0.1 dbname=fashion user=fashion password=hunter2');
	bad('password', $text, qr/conninfo|password/, 'password in conninfo');
	my ($rc, $msg) = check($t->dir . '/password.cfg');
	unlike($msg, qr/hunter2/, 'password in conninfo: not echoed');
}

done_testing;
