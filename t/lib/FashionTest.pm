package FashionTest;

# FashionTest - harness for the prove integration suite (nginx-tests style).
#
#   my $t = FashionTest->new;          # temp dir, free ports
#   $t->start_pg;                       # initdb + pg_ctl as an unprivileged user
#   $t->write_config(profile => 'fashion_sota');
#   my ($rc, $out, $err) = $t->fashionctl('init');
#   $t->start_fashiond;  $t->start_nginx;
#   my ($status, $headers, $body) = $t->http_get('/api/v1/health');
#   $t->check_logs;                     # no [alert]/[crit]/sanitizer/crash
#
# Environment: FASHION_BUILDDIR (fashiond, fashionctl), FASHION_SRCDIR
# (etc/, sql/, data/), LEAVE=1 keeps the temp dir, PG_BINDIR overrides where
# initdb and pg_ctl live, NGINX the nginx binary.
#
# Everything started here is stopped in END by the process that created the
# object (forked test clients never tear the fixture down).

use strict;
use warnings;

use Carp qw(croak);
use Cwd qw(abs_path);
use Errno qw(EINTR);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Spec;
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use POSIX qw(:sys_wait_h _exit setsid);
use Test::More ();
use Time::HiRes qw(sleep time);

our $VERSION = '0.1';

my @LIVE;		# objects to tear down in END
my %USED_PORTS;		# ports handed out by this process
my $JSON = JSON::PP->new->utf8->allow_nonref;

my $LIBDIR = dirname(abs_path(__FILE__));

sub srcdir {
	my $d = $ENV{FASHION_SRCDIR} // abs_path("$LIBDIR/../..");
	return abs_path($d) // $d;
}

sub builddir {
	my $d = $ENV{FASHION_BUILDDIR} // srcdir();
	return abs_path($d) // $d;
}

# Absolute path of the full Kaggle styles.csv, or undef when absent.
sub full_styles {
	my $f = srcdir() . '/../shared/data/kaggle-fashion-small/styles.csv';
	return -r $f ? abs_path($f) : undef;
}

sub sample_dir { return srcdir() . '/data/sample' }

sub new {
	my ($class, %args) = @_;

	my $self = bless {
		owner => $$,
		children => {},
		pg_started => 0,
	}, $class;

	my $keep = $ENV{LEAVE} ? 1 : 0;
	$self->{dir} = tempdir('fashion-test-XXXXXXXX', TMPDIR => 1,
	    CLEANUP => !$keep);
	# postgres and nginx workers may run as other users: let them in.
	chmod 0755, $self->{dir};
	Test::More::diag("temp dir: $self->{dir}") if $keep;

	$self->{pg_port} = free_port();
	$self->{fcgi_port} = free_port();
	$self->{http_port} = free_port();
	$self->{clip_port} = free_port();	# fashion-clipd FastCGI
	$self->{clip_http_port} = free_port();	# nginx loopback block for it
	$self->{vsd_port} = free_port();	# fashion-vsd FastCGI (same block)
	$self->{cfg} = "$self->{dir}/fashion.cfg";
	$self->{flog} = "$self->{dir}/fashiond.log";
	$self->{clog} = "$self->{dir}/clipd.log";
	$self->{vlog} = "$self->{dir}/vsd.log";

	push @LIVE, $self;
	return $self;
}

sub dir { $_[0]{dir} }
sub cfg { $_[0]{cfg} }
sub pg_port { $_[0]{pg_port} }
sub fcgi_port { $_[0]{fcgi_port} }
sub http_port { $_[0]{http_port} }
sub fashiond_log { $_[0]{flog} }
sub clipd_log { $_[0]{clog} }
sub clip_port { $_[0]{clip_port} }
sub clip_http_port { $_[0]{clip_http_port} }
sub vsd_log { $_[0]{vlog} }
sub vsd_port { $_[0]{vsd_port} }
# Base URL of fashion-vsd through nginx's loopback block.
sub vsd_url { "http://127.0.0.1:$_[0]{clip_http_port}" }
sub nginx_error_log { "$_[0]{dir}/error.log" }

# Require binaries; skip_all with a reason when missing.
sub require_binaries {
	my ($self, @names) = @_;
	@names = qw(fashiond fashionctl) unless @names;
	for my $n (@names) {
		my $p = builddir() . "/$n";
		Test::More::plan(skip_all => "$p not built") unless -x $p;
	}
	return $self;
}

sub require_sample {
	my ($self) = @_;
	my $s = sample_dir();
	Test::More::plan(skip_all => "sample catalog $s/styles.csv missing")
	    unless -r "$s/styles.csv" && -d "$s/images";
	return $self;
}

# The usual stack: PostgreSQL with the sample loaded into both layouts,
# fashiond (4 workers) on PROFILE, nginx in front.  Skips when the binaries
# or the sample are missing.
sub setup_stack {
	my ($class, %o) = @_;
	my $t = ref $class ? $class : $class->new;
	$t->require_binaries->require_sample;
	$t->start_pg;
	$t->write_config(profile => $o{profile} // 'fashion_sota',
	    %{ $o{config} // {} });
	$t->load_sample;
	$t->start_fashiond;
	$t->wait_workers($o{workers} // 4)
	    or croak 'fashiond workers did not come up: ' . $t->log_tail;
	$t->start_nginx;
	wait_for(10, sub { ($t->http_get('/api/v1/health'))[0] == 200 })
	    or croak 'health never returned 200: ' . $t->log_tail;
	return $t;
}

sub log_tail {
	my ($self, $n) = @_;
	my @l = split /\n/, slurp($self->{flog}) // '';
	$n //= 20;
	@l = @l[-$n .. -1] if @l > $n;
	return join "\n", '', @l;
}

###############################################################################
# ports

sub free_port {
	for (1 .. 100) {
		my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
		    LocalPort => 0, Proto => 'tcp', Listen => 1, ReuseAddr => 0)
		    or croak "cannot bind a probe socket: $!";
		my $port = $s->sockport;
		close $s;
		next if $USED_PORTS{$port}++;
		return $port;
	}
	croak 'no free port found';
}

sub port_open {
	my ($port, $timeout) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $port, Proto => 'tcp', Timeout => $timeout // 1);
	return 0 unless $s;
	close $s;
	return 1;
}

sub wait_port {
	my ($port, $timeout, $pid) = @_;
	my $until = time + ($timeout // 10);
	while (time < $until) {
		return 1 if port_open($port, 0.5);
		if (defined $pid) {
			my $r = waitpid($pid, WNOHANG);
			return 0 if $r == $pid;
		}
		sleep 0.05;
	}
	return 0;
}

###############################################################################
# running commands

# run(\@argv, %opts) -> (exit code, stdout, stderr).  opts: env => {}, as
# => user (via runuser when root), stdin => string, timeout => seconds.
sub run {
	my ($self, $argv, %o) = @_;
	my @cmd = @$argv;
	if (defined $o{as}) {
		@cmd = ('runuser', '-u', $o{as}, '--', @cmd);
	}
	my $out = "$self->{dir}/.run.$$.out";
	my $err = "$self->{dir}/.run.$$.err";

	my $pid = fork // croak "fork: $!";
	if ($pid == 0) {
		my $in = defined $o{stdin} ? "$self->{dir}/.run.$$.in" : '/dev/null';
		if (defined $o{stdin}) {
			open my $fh, '>', $in or _exit(127);
			print $fh $o{stdin};
			close $fh;
		}
		open STDIN, '<', $in or _exit(127);
		open STDOUT, '>', $out or _exit(127);
		open STDERR, '>', $err or _exit(127);
		%ENV = (%ENV, %{$o{env} // {}});
		exec { $cmd[0] } @cmd or do {
			print STDERR "exec $cmd[0]: $!\n";
			_exit(127);
		};
	}
	my $timeout = $o{timeout} // 300;
	my $until = time + $timeout;
	my $st;
	while (1) {
		my $r = waitpid($pid, WNOHANG);
		if ($r == $pid) { $st = $?; last }
		if (time > $until) {
			kill 'KILL', $pid;
			waitpid($pid, 0);
			$st = -1;
			last;
		}
		sleep 0.02;
	}
	my $stdout = slurp($out) // '';
	my $stderr = slurp($err) // '';
	unlink $out, $err, "$self->{dir}/.run.$$.in";
	my $code = $st == -1 ? 124 : ($st & 127) ? 128 + ($st & 127) : $st >> 8;
	return ($code, $stdout, $stderr);
}

sub slurp {
	my ($f) = @_;
	open my $fh, '<', $f or return undef;
	local $/;
	my $s = <$fh>;
	close $fh;
	return $s;
}

sub spew {
	my ($f, $s) = @_;
	open my $fh, '>', $f or croak "$f: $!";
	print $fh $s;
	close $fh or croak "$f: $!";
}

###############################################################################
# PostgreSQL

sub pg_bindir {
	return $ENV{PG_BINDIR} if $ENV{PG_BINDIR};
	my @d = sort { ($b =~ /(\d+)/)[0] <=> ($a =~ /(\d+)/)[0] }
	    grep { -x "$_/initdb" } glob('/usr/lib/postgresql/*/bin');
	return $d[0] if @d;
	for my $p (split /:/, $ENV{PATH} // '') {
		return $p if -x "$p/initdb";
	}
	return undef;
}

sub pg_user { $> == 0 ? 'postgres' : undef }

sub pg_run {
	my ($self, $prog, @args) = @_;
	my $bindir = pg_bindir() or croak 'initdb not found (set PG_BINDIR)';
	return $self->run(["$bindir/$prog", @args], as => pg_user(),
	    timeout => 120);
}

sub start_pg {
	my ($self) = @_;
	my $bindir = pg_bindir();
	Test::More::plan(skip_all => 'PostgreSQL server binaries not found')
	    unless $bindir;

	my $data = "$self->{dir}/pg";
	my $sock = "$self->{dir}/pgsock";
	$self->{pg_data} = $data;
	$self->{pg_sock} = $sock;

	unless (-d $data) {
		make_path($data, $sock);
		if (my $u = pg_user()) {
			my ($uid, $gid) = (getpwnam $u)[2, 3];
			croak "no user $u" unless defined $uid;
			chown $uid, $gid, $data, $sock;
		}
		chmod 0700, $data;
		my ($rc, $out, $err) = $self->pg_run('initdb', '-D', $data,
		    '-U', 'fashion', '--auth=trust', '--no-sync', '-E', 'UTF8',
		    '--locale=C');
		croak "initdb failed ($rc): $out$err" if $rc;
		open my $fh, '>>', "$data/postgresql.conf" or croak $!;
		print $fh <<"EOF";
# fashion-test
listen_addresses = '127.0.0.1'
port = $self->{pg_port}
unix_socket_directories = '$sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 100
shared_buffers = 32MB
log_min_messages = warning
EOF
		close $fh;
	}
	$self->_pg_ctl_start;
	$self->{pg_started} = 1;

	my ($rc, $out, $err) = $self->run([ "$bindir/psql", '-X', '-At',
	    $self->pg_args('postgres'), '-c',
	    "SELECT 1 FROM pg_database WHERE datname = 'fashion'" ]);
	croak "psql failed: $err" if $rc;
	if ($out !~ /1/) {
		($rc, $out, $err) = $self->run([ "$bindir/createdb",
		    $self->pg_args(), 'fashion' ]);
		croak "createdb failed: $err" if $rc;
	}
	return $self;
}

sub _pg_ctl_start {
	my ($self) = @_;
	my ($rc, $out, $err) = $self->pg_run('pg_ctl', '-D', $self->{pg_data},
	    '-l', "$self->{dir}/pg/server.log", '-w', '-t', '60', 'start');
	if ($rc) {
		my $log = slurp("$self->{pg_data}/server.log") // '';
		croak "pg_ctl start failed ($rc): $out$err\n$log";
	}
}

# Connection arguments for client programs.
sub pg_args {
	my ($self, $db) = @_;
	return ('-h', '127.0.0.1', '-p', $self->{pg_port}, '-U', 'fashion',
	    defined $db ? ('-d', $db) : ());
}

sub conninfo {
	my ($self) = @_;
	return "host=127.0.0.1 port=$self->{pg_port} dbname=fashion user=fashion";
}

sub stop_pg {
	my ($self, $mode) = @_;
	return unless $self->{pg_started};
	my ($rc, $out, $err) = $self->pg_run('pg_ctl', '-D', $self->{pg_data},
	    '-m', $mode // 'fast', '-w', '-t', '60', 'stop');
	$self->{pg_started} = 0;
	return $rc == 0;
}

sub restart_pg {
	my ($self) = @_;
	$self->stop_pg if $self->{pg_started};
	$self->_pg_ctl_start;
	$self->{pg_started} = 1;
	return $self;
}

# psql($sql): rows as lines (fields separated by "|") in list context, the
# first row in scalar context.  Dies when the query fails.
sub psql {
	my ($self, $sql) = @_;
	my $bindir = pg_bindir();
	my ($rc, $out, $err) = $self->run([ "$bindir/psql", '-X', '-At',
	    '-v', 'ON_ERROR_STOP=1', $self->pg_args('fashion'), '-c', $sql ]);
	croak "psql failed ($rc): $sql: $err" if $rc;
	my @rows = split /\n/, $out;
	return wantarray ? @rows : $rows[0];
}

###############################################################################
# configuration

# Text of a config from etc/fashion.cfg with this test's ports and paths.
# Overrides: any server.* or database.* option by its bare name (listen,
# workers, pidfile, conninfo, drain_timeout, ...) and profile.  Values that
# are not integers or booleans are written as strings.
sub config_text {
	my ($self, %o) = @_;
	my $src = srcdir() . '/etc/fashion.cfg';
	my $text = slurp($src) // croak "$src: $!";

	my %v = (
		profile => 'fashion_sota',
		listen => "127.0.0.1:$self->{fcgi_port}",
		workers => 4,
		pidfile => 'fashiond.pid',
		conninfo => $self->conninfo,
		connect_timeout => 2,
		drain_timeout => 10,
		'clip.listen' => "127.0.0.1:$self->{clip_port}",
		'clip.pidfile' => 'clipd.pid',
		'clip.model' => srcdir() . '/models/fashion-clip.bin',
		'clip.url' => "http://127.0.0.1:$self->{clip_http_port}",
		'vs.listen' => "127.0.0.1:$self->{vsd_port}",
		'vs.pidfile' => 'vsd.pid',
		'vs.data_dir' => 'vsd',
		'vs.url' => "http://127.0.0.1:$self->{clip_http_port}",
		%o,
	);
	for my $k (sort keys %v) {
		my $val = $v{$k};
		my $lit = $val =~ /^(-?\d+|true|false)$/ ? $val
		    : '"' . ($val =~ s/(["\\])/\\$1/gr) . '"';
		if ($k =~ /^(\w+)\.(\w+)$/) {	# group.name: inside that group
			my ($g, $n) = ($1, $2);
			$text =~ s{^(\Q$g\E\s*=\s*\{.*?^\s*\Q$n\E\s*=\s*)[^;\n]*;}
			    {$1$lit;}ms or croak "option $k not found in $src";
			next;
		}
		$text =~ s/^(\s*\Q$k\E\s*=\s*)[^;\n]*;/$1$lit;/m
		    or croak "option $k not found in $src";
	}
	return $text;
}

sub write_config {
	my ($self, %o) = @_;
	$self->{profile} = $o{profile} // 'fashion_sota';
	spew($self->{cfg}, $self->config_text(%o));
	return $self->{cfg};
}

# Write TEXT as-is (for broken configs); returns the path.
sub write_config_raw {
	my ($self, $text, $file) = @_;
	$file //= $self->{cfg};
	spew($file, $text);
	return $file;
}

###############################################################################
# fashionctl

sub fashionctl {
	my ($self, @args) = @_;
	my %o;
	%o = %{ shift @args } if ref $args[0] eq 'HASH';
	return $self->run([ builddir() . '/fashionctl', '-c', $self->{cfg},
	    @args ], env => { FASHION_SQLDIR => srcdir() . '/sql',
	    %{ $o{env} // {} } }, timeout => $o{timeout} // 600);
}

# Load the bundled sample into both layouts (init, load, migrate); dies on
# failure.
sub load_sample {
	my ($self) = @_;
	my $s = sample_dir();
	for my $cmd ([ 'init' ], [ 'load', '--styles', "$s/styles.csv" ],
	    [ 'migrate', '--images', "$s/images" ]) {
		my ($rc, $out, $err) = $self->fashionctl(@$cmd);
		croak "fashionctl @$cmd failed ($rc): $out$err" if $rc;
	}
	return $self;
}

###############################################################################
# fashiond

sub start_fashiond {
	my ($self, @extra) = @_;
	$self->{fashiond} = $self->_start_daemon('fashiond', $self->{flog},
	    $self->{fcgi_port}, {}, @extra);
}

# Fork BIN -c CONFIG EXTRA... with ENV added, output to LOG; wait until it
# listens on PORT.  Returns the pid.
sub _start_daemon {
	my ($self, $name, $log, $port, $env, @extra) = @_;
	my $bin = builddir() . "/$name";
	croak "$bin not built" unless -x $bin;

	my $pid = fork // croak "fork: $!";
	if ($pid == 0) {
		$ENV{$_} = $env->{$_} for keys %$env;
		open STDIN, '<', '/dev/null';
		open STDOUT, '>>', $log or _exit(127);
		open STDERR, '>>', $log or _exit(127);
		exec { $bin } $bin, '-c', $self->{cfg}, @extra or _exit(127);
	}
	$self->{children}{$pid} = $name;
	unless (wait_port($port, 15, $pid)) {
		my $text = slurp($log) // '';
		croak "$name did not start listening:\n$text";
	}
	return $pid;
}

sub master_pid { $_[0]{fashiond} }

# fashion-clipd on the same config (clip.*); returns its master pid.
# An optional first argument { NAME => value } is added to its environment.
sub start_clipd {
	my ($self, @extra) = @_;
	my $env = ref $extra[0] eq 'HASH' ? shift @extra : {};
	$self->{clipd} = $self->_start_daemon('fashion-clipd', $self->{clog},
	    $self->{clip_port}, $env, @extra);
}

sub clipd_pid { $_[0]{clipd} }

# Stop fashion-clipd (TERM, then KILL after TIMEOUT s); its wait status.
sub stop_clipd { $_[0]->_stop_daemon('clipd', $_[1]) }

sub _stop_daemon {
	my ($self, $key, $timeout) = @_;
	my $pid = delete $self->{$key} or return undef;
	my @w = children_of($pid);
	kill 'TERM', $pid;
	my $until = time + ($timeout // 10);
	while (time < $until) {
		if (waitpid($pid, WNOHANG) == $pid) {
			my $st = $?;
			delete $self->{children}{$pid};
			return $st;
		}
		sleep 0.05;
	}
	kill 'KILL', $pid, @w;
	waitpid($pid, 0);
	delete $self->{children}{$pid};
	return undef;
}

# fashion-vsd on the same config (vs.*); returns its master pid.  An
# optional first argument { NAME => value } is added to its environment.
# start_search(personas => [ARGS]): the search side of the stack on the
# sample catalog: fashion-clipd, `fashionctl embed` of the sample images,
# fashion-vsd and `fashionctl sync --all`; with personas, also
# `fashionctl personas ARGS`.  Dies with the output of a step that fails.
sub start_search {
	my ($self, %o) = @_;
	$self->start_clipd;
	my @steps = ([ 'embed', '--images', sample_dir() . '/images' ], [ 'sync', '--all' ]);
	push @steps, [ 'personas', @{ $o{personas} } ] if $o{personas};
	for my $cmd (@steps) {
		$self->start_vsd if $cmd->[0] eq 'sync';
		my ($rc, $out, $err) = $self->fashionctl(@$cmd);
		croak "fashionctl @$cmd failed: $out$err" if $rc;
	}
	return $self;
}

sub start_vsd {
	my ($self, @extra) = @_;
	my $env = ref $extra[0] eq 'HASH' ? shift @extra : {};
	$self->{vsd_env} = $env;
	$self->{vsd} = $self->_start_daemon('fashion-vsd', $self->{vlog},
	    $self->{vsd_port}, $env, @extra);
}

sub vsd_pid { $_[0]{vsd} }

sub stop_vsd { $_[0]->_stop_daemon('vsd', $_[1]) }

# A request to fashion-vsd through nginx: ($status, $decoded_json, $raw).
# BODY (a reference) is sent as JSON with POST; without it, GET.
sub vsd {
	my ($self, $path, $body, %o) = @_;
	my $tok = $o{token} // $self->{vsd_env}{DATABRICKS_TOKEN};
	my ($st, $h, $raw) = $self->http(defined $body ? 'POST' : 'GET',
	    "/api/2.0/vector-search/indexes/$path",
	    port => $self->{clip_http_port},
	    defined $body ? (body => ref $body ? $JSON->encode($body) : $body)
	    : (),
	    headers => { 'Content-Type' => 'application/json',
	    $tok ? (Authorization => "Bearer $tok") : (),
	    %{ $o{headers} // {} } }, timeout => $o{timeout} // 60);
	return ($st, decode_json_or_undef($raw), $raw);
}

# Sync INDEX through the service; its decoded answer, dies unless 200.
sub vsd_sync {
	my ($self, $index) = @_;
	my ($st, $j, $raw) = $self->vsd("$index/sync", {});
	croak "sync $index: $st $raw" unless $st == 200;
	return $j;
}

# POST a multipart/form-data body to fashiond through nginx.  FIELDS is a
# list of [name, value] or [name, value, filename, content-type];
# returns ($status, $decoded_json, $headers, $raw).
sub multipart {
	my ($self, $path, @fields) = @_;
	my $b = 'fashiontest' . int(rand(1e9));
	my $body = '';
	for my $f (@fields) {
		my ($name, $value, $file, $ct) = @$f;
		$body .= "--$b\r\nContent-Disposition: form-data; name=\"$name\""
		    . (defined $file ? "; filename=\"$file\"" : '') . "\r\n"
		    . (defined $ct ? "Content-Type: $ct\r\n" : '') . "\r\n"
		    . $value . "\r\n";
	}
	$body .= "--$b--\r\n";
	my ($st, $h, $raw) = $self->http('POST', $path, body => $body,
	    headers => { 'Content-Type' => "multipart/form-data; boundary=$b" },
	    timeout => 30);
	return ($st, decode_json_or_undef($raw), $h, $raw);
}

# POST an invocation to fashion-clipd through nginx:
# ($status, $decoded_json, $headers, $raw_body).
sub clip_invoke {
	my ($self, $body, %o) = @_;
	my $ep = $o{endpoint} // 'fashion-clip';
	my ($st, $h, $raw) = $self->http('POST',
	    "/serving-endpoints/$ep/invocations", port => $self->{clip_http_port},
	    body => ref $body ? $JSON->encode($body) : $body,
	    headers => { 'Content-Type' => 'application/json',
	    %{ $o{headers} // {} } }, timeout => $o{timeout} // 30);
	return ($st, decode_json_or_undef($raw), $h, $raw);
}

# Wait status of the master once it exited, undef while it runs.
sub fashiond_exited {
	my ($self) = @_;
	return $self->{fashiond_status} if defined $self->{fashiond_status};
	my $pid = $self->{fashiond} or return undef;
	my $r = waitpid($pid, WNOHANG);
	if ($r == $pid) {
		$self->{fashiond_status} = $?;
		delete $self->{children}{$pid};
		return $?;
	}
	return undef;
}

# Pids whose parent is PID (default: the master), sorted, zombies excluded.
sub children_of {
	my ($ppid) = @_;
	my @k;
	opendir my $d, '/proc' or return ();
	for my $p (grep { /^\d+$/ } readdir $d) {
		my $st = slurp("/proc/$p/stat") // next;
		my $rest = substr($st, rindex($st, ')') + 2);
		my ($state, $pp) = split / /, $rest;
		push @k, $p + 0 if $pp == $ppid && $state ne 'Z';
	}
	closedir $d;
	return sort { $a <=> $b } @k;
}

sub worker_pids {
	my ($self) = @_;
	return () unless $self->{fashiond};
	return children_of($self->{fashiond});
}

# True while PID exists and is not a zombie.
sub pid_alive {
	my ($pid) = @_;
	my $st = slurp("/proc/$pid/stat") // return 0;
	my $rest = substr($st, rindex($st, ')') + 2);
	return (split / /, $rest)[0] ne 'Z';
}

# Wait until CODE returns true, polling; returns its last value.
sub wait_for {
	my ($timeout, $code, $step) = @_;
	my $until = time + $timeout;
	while (1) {
		my $v = $code->();
		return $v if $v || time > $until;
		sleep($step // 0.1);
	}
}

# Wait for N workers (config default) to be up.
sub wait_workers {
	my ($self, $n, $timeout) = @_;
	$n //= 4;
	return wait_for($timeout // 10, sub {
		my @w = $self->worker_pids;
		@w >= $n ? \@w : undef;
	});
}

sub signal_fashiond {
	my ($self, $sig) = @_;
	return kill $sig, $self->{fashiond};
}

sub hup { $_[0]->signal_fashiond('HUP') }

# TERM, wait up to TIMEOUT seconds, then KILL.  Returns the wait status
# (undef when it had to be killed).
sub stop_fashiond {
	my ($self, $timeout, $sig) = @_;
	my $pid = $self->{fashiond} or return undef;
	my $st = $self->fashiond_exited;
	if (!defined $st) {
		kill $sig // 'TERM', $pid;
		my $until = time + ($timeout // 15);
		while (time < $until) {
			last if defined($st = $self->fashiond_exited);
			sleep 0.05;
		}
		if (!defined $st) {
			my @w = $self->worker_pids;
			kill 'KILL', $pid, @w;
			waitpid($pid, 0);
			$self->{fashiond_status} = undef;
			delete $self->{children}{$pid};
			delete $self->{fashiond};
			return undef;
		}
	}
	delete $self->{fashiond};
	delete $self->{fashiond_status};
	return $st;
}

###############################################################################
# nginx

sub nginx_bin {
	return $ENV{NGINX} if $ENV{NGINX};
	for my $p ('/usr/sbin/nginx', split(/:/, $ENV{PATH} // '')) {
		my $f = -d $p ? "$p/nginx" : $p;
		return $f if -x $f && !-d $f;
	}
	return undef;
}

sub nginx_conf {
	my ($self) = @_;
	my $d = $self->{dir};
	my $images = abs_path(sample_dir() . '/images') // sample_dir() . '/images';
	my $etc = abs_path(srcdir() . '/etc/nginx');
	my $htdocs = abs_path(srcdir() . '/htdocs');
	my $user = $> == 0 ? "user root root;\n" : '';
	return <<"EOF";
# generated by FashionTest
${user}daemon off;
master_process on;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log notice;

events {
    worker_connections 256;
}

http {
    access_log $d/access.log;
    client_body_temp_path $d/client_body_temp;
    fastcgi_temp_path $d/fastcgi_temp;
    proxy_temp_path $d/proxy_temp;
    uwsgi_temp_path $d/uwsgi_temp;
    scgi_temp_path $d/scgi_temp;

    # etc/nginx's types (ES modules only run when served as JavaScript)
    # and FastCGI parameters, as in production.
    include $etc/mime.types;
    default_type application/octet-stream;

    # as etc/nginx, faster: sign-in requests per client address
    limit_req_zone \$binary_remote_addr zone=fashion_auth:1m rate=10r/s;
    limit_req_status 429;

    upstream fashiond {
        server 127.0.0.1:$self->{fcgi_port};
        keepalive 16;
    }

    upstream clipd {
        server 127.0.0.1:$self->{clip_port};
        keepalive 8;
    }

    upstream vsd {
        server 127.0.0.1:$self->{vsd_port};
        keepalive 8;
    }

    # fashion-clipd: loopback only, the Model Serving paths only.
    server {
        listen 127.0.0.1:$self->{clip_http_port};
        server_name localhost;
        client_max_body_size 16m;
        error_page 413 = \@too_large;

        location /serving-endpoints/ {
            fastcgi_pass clipd;
            fastcgi_keep_conn on;
            fastcgi_read_timeout 60s;
            include $etc/fastcgi_params;
        }
        location /api/2.0/serving-endpoints/ {
            fastcgi_pass clipd;
            fastcgi_keep_conn on;
            include $etc/fastcgi_params;
        }
        # fashion-vsd: the Vector Search paths.
        location /api/2.0/vector-search/ {
            fastcgi_pass vsd;
            fastcgi_keep_conn on;
            fastcgi_read_timeout 120s;
            include $etc/fastcgi_params;
        }
        location \@too_large {
            default_type application/json;
            return 413 '{"error_code":"BAD_REQUEST","message":"request body larger than 16 MB"}';
        }
    }

    server {
        listen 127.0.0.1:$self->{http_port};
        server_name localhost;
        client_max_body_size 12m;	# as etc/nginx: photo uploads

        location /api/v1/ {
            fastcgi_pass fashiond;
            fastcgi_keep_conn on;
            fastcgi_read_timeout 30s;
            include $etc/fastcgi_params;
        }

        location /api/v1/auth/ {
            limit_req zone=fashion_auth burst=30 nodelay;
            error_page 429 = \@too_many;
            fastcgi_pass fashiond;
            fastcgi_keep_conn on;
            include $etc/fastcgi_params;
        }

        location \@too_many {
            default_type application/json;
            add_header Retry-After 1 always;
            return 429 '{"error":{"code":"too_many_requests","message":"too many sign-in attempts from this address"}}';
        }

        location /images/ {
            alias $images/;
        }

        # The storefront (t/95-storefront.t), under etc/nginx's headers:
        # the browser tests run with the production CSP.
        location / {
            root $htdocs;
            index index.html;
            try_files \$uri \$uri/ =404;
            include $etc/security_headers;
            add_header Cache-Control "no-cache";
        }
    }
}
EOF
}

sub start_nginx {
	my ($self) = @_;
	my $bin = nginx_bin();
	Test::More::plan(skip_all => 'nginx not found') unless $bin;
	my $d = $self->{dir};
	spew("$d/nginx.conf", $self->nginx_conf);

	my $pid = fork // croak "fork: $!";
	if ($pid == 0) {
		open STDIN, '<', '/dev/null';
		open STDOUT, '>>', "$d/nginx.stderr" or _exit(127);
		open STDERR, '>>', "$d/nginx.stderr" or _exit(127);
		exec { $bin } $bin, '-p', "$d/", '-c', "$d/nginx.conf",
		    '-e', "$d/error.log" or _exit(127);
	}
	$self->{nginx} = $pid;
	$self->{children}{$pid} = 'nginx';
	unless (wait_port($self->{http_port}, 10, $pid)) {
		my $log = (slurp("$d/nginx.stderr") // '')
		    . (slurp("$d/error.log") // '');
		croak "nginx did not start:\n$log";
	}
	return $pid;
}

sub stop_nginx {
	my ($self) = @_;
	my $pid = delete $self->{nginx} or return;
	kill 'QUIT', $pid;
	my $until = time + 10;
	while (time < $until) {
		if (waitpid($pid, WNOHANG) == $pid) {
			delete $self->{children}{$pid};
			return 1;
		}
		sleep 0.05;
	}
	kill 'KILL', $pid;
	waitpid($pid, 0);
	delete $self->{children}{$pid};
	return 0;
}

###############################################################################
# HTTP client (raw socket: bytes go out exactly as given)

# http($method, $path, %opts) -> ($status, \%headers, $body, $elapsed).
# opts: body, headers => {}, timeout (default 10 s), port.  On a transport
# failure returns status 0 and the reason in $body.
sub http {
	my ($self, $method, $path, %o) = @_;
	my $t0 = time;
	my $timeout = $o{timeout} // 10;
	my $port = $o{port} // $self->{http_port};

	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $port, Proto => 'tcp', Timeout => $timeout)
	    or return (0, {}, "connect: $!", time - $t0);
	binmode $s;

	my $req = "$method $path HTTP/1.0\r\nHost: localhost\r\n";
	my %h = %{ $o{headers} // {} };
	if (defined $o{body}) {
		$h{'Content-Length'} //= length $o{body};
	}
	$req .= "$_: $h{$_}\r\n" for sort keys %h;
	$req .= "\r\n";
	$req .= $o{body} if defined $o{body};

	my $sel = IO::Select->new($s);
	my $off = 0;
	while ($off < length $req) {
		my $n = syswrite($s, $req, length($req) - $off, $off);
		if (!defined $n) {
			next if $! == EINTR;
			last;	# server may answer early (413, 414)
		}
		$off += $n;
	}

	my $resp = '';
	my $deadline = $t0 + $timeout;
	while (1) {
		my $left = $deadline - time;
		if ($left <= 0) {
			close $s;
			return (0, {}, 'timeout', time - $t0);
		}
		next unless $sel->can_read($left);
		my $n = sysread($s, my $buf, 65536);
		if (!defined $n) {
			next if $! == EINTR;
			last if length $resp;
			close $s;
			return (0, {}, "read: $!", time - $t0);
		}
		last if $n == 0;
		$resp .= $buf;
	}
	close $s;
	my $elapsed = time - $t0;

	my ($head, $body) = split /\r\n\r\n/, $resp, 2;
	return (0, {}, "bad response: $resp", $elapsed)
	    unless defined $head && $head =~ m{^HTTP/\d\.\d (\d{3})};
	my $status = $1;
	my %hdr;
	for my $l (split /\r\n/, $head) {
		next unless $l =~ /^([^:]+):\s*(.*)$/;
		my $k = lc $1;
		$hdr{$k} = exists $hdr{$k} ? "$hdr{$k}, $2" : $2;
	}
	return ($status + 0, \%hdr, $body // '', $elapsed);
}

sub http_get { my ($self, $path, %o) = @_; $self->http('GET', $path, %o) }


sub decode_json_or_undef {
	my ($text) = @_;
	my $v = eval { $JSON->decode($text) };
	return $v;
}

# json_get($path) -> ($status, $data (undef if not JSON), \%headers, $body,
# $elapsed).
sub json_get {
	my ($self, $path, %o) = @_;
	return $self->json_request('GET', $path, %o);
}

sub json_request {
	my ($self, $method, $path, %o) = @_;
	my ($st, $h, $body, $el) = $self->http($method, $path, %o);
	return ($st, decode_json_or_undef($body), $h, $body, $el);
}

# shopper_request(METHOD, PATH, BODY, %o): a JSON API request as a browser
# of the shop makes it: Origin http://localhost (the harness sends Host:
# localhost), BODY (a reference: encoded as JSON; a string: sent as is)
# with Content-Type application/json; session => TOKEN sends the session
# cookie, no_origin => 1 leaves Origin out, headers => {...} adds or
# overrides.  Returns what json_request returns.
my $SHOPPER_JSON = JSON::PP->new->utf8->canonical;
sub shopper_request {
	my ($self, $method, $path, $body, %o) = @_;
	my %h = (Origin => 'http://localhost', %{ $o{headers} // {} });
	delete $h{Origin} if $o{no_origin};
	$h{'Content-Type'} //= 'application/json' if defined $body;
	$h{Cookie} = "fashion_session=$o{session}" if $o{session};
	return $self->json_request($method, $path, headers => \%h,
	    defined $body ? (body => ref $body ? $SHOPPER_JSON->encode($body) : $body) : ());
}

# session_cookie(HEADERS): the session token a response's Set-Cookie gives.
sub session_cookie {
	my ($h) = @_;
	my ($tok) = ($h->{'set-cookie'} // '') =~ /^fashion_session=([^;]*)/;
	return $tok;
}

# URL-encode a query string from pairs.
sub query {
	my (@kv) = @_;
	my @p;
	while (my ($k, $v) = splice @kv, 0, 2) {
		push @p, uri_escape($k) . '=' . uri_escape($v);
	}
	return join '&', @p;
}

sub uri_escape {
	my ($s) = @_;
	utf8::encode($s) if utf8::is_utf8($s);
	$s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
	return $s;
}

# Test helper: a JSON error response with STATUS and, optionally, CODE.
sub is_json_error {
	my ($self, $path_or_resp, $status, $code, $name, %o) = @_;
	my ($st, $data, $h, $body) = ref $path_or_resp eq 'ARRAY'
	    ? @$path_or_resp : $self->json_get($path_or_resp, %o);
	my $tb = Test::More->builder;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $ok = $st == $status
	    && ref $data eq 'HASH' && ref $data->{error} eq 'HASH'
	    && defined $data->{error}{code} && !ref $data->{error}{code}
	    && defined $data->{error}{message} && !ref $data->{error}{message}
	    && (!defined $code || $data->{error}{code} eq $code)
	    && ($h->{'content-type'} // '') =~ m{^application/json};
	$tb->ok($ok, $name) or $tb->diag("got $st "
	    . ($h->{'content-type'} // '-') . ' ' . substr($body // '', 0, 300)
	    . "; want $status " . ($code // '*'));
	return $ok;
}

###############################################################################
# FastCGI client (straight to fashiond, no nginx)

sub fcgi_record {
	my ($type, $id, $content) = @_;
	my $len = length $content;
	my $pad = (8 - $len % 8) % 8;
	return pack('CCnnCC', 1, $type, $id, $len, $pad, 0) . $content
	    . ("\0" x $pad);
}

sub fcgi_nv_len {
	my ($n) = @_;
	return $n < 128 ? pack('C', $n) : pack('N', $n | 0x80000000);
}

# The bytes of one FastCGI request: BEGIN_REQUEST, PARAMS, STDIN.
sub fcgi_request_bytes {
	my (%o) = @_;
	my $id = $o{id} // 1;
	my %p = (
		GATEWAY_INTERFACE => 'CGI/1.1',
		SERVER_PROTOCOL => 'HTTP/1.1',
		REQUEST_METHOD => $o{method} // 'GET',
		REMOTE_ADDR => '127.0.0.1',
		SERVER_NAME => 'localhost',
		SERVER_PORT => '80',
		%{ $o{params} // {} },
	);
	if (defined $o{uri}) {
		my ($path, $qs) = split /\?/, $o{uri}, 2;
		$p{REQUEST_URI} //= $o{uri};
		$p{DOCUMENT_URI} //= $path;
		$p{SCRIPT_NAME} //= $path;
		$p{QUERY_STRING} //= $qs // '';
	}
	my $body = $o{body} // '';
	$p{CONTENT_LENGTH} //= length $body if length $body;
	my $params = '';
	for my $k (sort keys %p) {
		$params .= fcgi_nv_len(length $k) . fcgi_nv_len(length $p{$k})
		    . $k . $p{$k};
	}
	my $out = fcgi_record(1, $id, pack('nCx5', 1, $o{keep_conn} ? 1 : 0));
	while (length $params) {
		$out .= fcgi_record(4, $id, substr($params, 0, 65535, ''));
	}
	$out .= fcgi_record(4, $id, '');
	while (length $body) {
		$out .= fcgi_record(5, $id, substr($body, 0, 65535, ''));
	}
	$out .= fcgi_record(5, $id, '');
	return $out;
}

# Connect to fashiond's FastCGI port.
sub fcgi_connect {
	my ($self) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $self->{fcgi_port}, Proto => 'tcp', Timeout => 5)
	    or return undef;
	binmode $s;
	return $s;
}

# Read one response from S: ($status, \%headers, $body, $app_status), or
# status 0 and the reason when the connection ends early.
sub fcgi_read_response {
	my ($s, $timeout) = @_;
	my $sel = IO::Select->new($s);
	my $deadline = time + ($timeout // 10);
	my ($buf, $stdout, $ended, $app) = ('', '', 0, undef);
	while (!$ended) {
		my $left = $deadline - time;
		return (0, {}, 'timeout') if $left <= 0;
		next unless $sel->can_read($left);
		my $n = sysread($s, my $chunk, 65536);
		if (!defined $n) {
			next if $! == EINTR;
			return (0, {}, "read: $!");
		}
		return (0, {}, 'connection closed before END_REQUEST: '
		    . substr($stdout, 0, 200)) if $n == 0;
		$buf .= $chunk;
		while (length $buf >= 8) {
			my ($v, $type, $id, $len, $pad) = unpack 'CCnnC', $buf;
			last if length $buf < 8 + $len + $pad;
			my $content = substr($buf, 8, $len);
			substr($buf, 0, 8 + $len + $pad, '');
			if ($type == 6) {
				$stdout .= $content;
			} elsif ($type == 3) {
				$app = unpack 'N', $content;
				$ended = 1;
				last;
			}
		}
	}
	my ($head, $body) = split /\r?\n\r?\n/, $stdout, 2;
	my %h;
	for my $l (split /\r?\n/, $head // '') {
		$h{ lc $1 } = $2 if $l =~ /^([^:]+):\s*(.*)$/;
	}
	my $status = ($h{status} // '200') =~ /^(\d{3})/ ? $1 + 0 : 0;
	return ($status, \%h, $body // '', $app);
}

# One request straight to fashiond: fcgi(uri => '/api/v1/health', ...).
sub fcgi {
	my ($self, %o) = @_;
	my $s = $self->fcgi_connect or return (0, {}, "connect: $!");
	my $req = fcgi_request_bytes(%o);
	(syswrite($s, $req) // -1) == length $req or return (0, {}, "write: $!");
	my @r = fcgi_read_response($s, $o{timeout});
	close $s;
	return @r;
}

###############################################################################
# logs

# check_logs(allow => qr/.../): no [alert], [crit], [emerg], sanitizer
# report or worker crash in fashiond.log and nginx's error.log.  Lines
# matching ALLOW are ignored (a test that kills a worker on purpose).
# replay_tap(PREFIX, STDOUT, STDERR, MIN): the TAP a JS test printed (see
# t/js/tap.mjs), replayed as tests of this file named "PREFIX: name";
# comments become diag.  One more test: the script ran its whole plan of
# more than MIN tests without bailing out.
sub replay_tap {
	my ($prefix, $out, $err, $min) = @_;
	my ($plan, $seen, $bailed) = (undef, 0, 0);
	for my $line (split /\n/, $out // '') {
		if ($line =~ /^(not )?ok (\d+)(?: - (.*))?$/) {
			$seen++;
			Test::More::ok(!$1, "$prefix: " . ($3 // "test $2"));
		} elsif ($line =~ /^1\.\.(\d+)$/) {
			$plan = $1;
		} elsif ($line =~ /^#\s?(.*)$/) {
			Test::More::diag("  $1");
		} elsif ($line =~ /^Bail out!\s*(.*)$/) {
			$bailed = 1;
			Test::More::fail("$prefix: bailed out: $1");
		} elsif ($line =~ /\S/) {
			Test::More::diag("$prefix stdout: $line");
		}
	}
	Test::More::diag("$prefix stderr: $err") if ($err // '') =~ /\S/;
	return Test::More::ok(!$bailed && defined $plan && $plan == $seen && $plan > $min,
	    "$prefix: the script ran all its tests (" . ($plan // 'no plan') . ", $seen seen)");
}

sub check_logs {
	my ($self, %o) = @_;
	my $tb = Test::More->builder;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my @bad = (
		[ 'alert', qr/\[alert\]/ ],
		[ 'crit', qr/\[crit\]/ ],
		[ 'emerg', qr/\[emerg\]/ ],
		[ 'AddressSanitizer', qr/AddressSanitizer|LeakSanitizer/ ],
		[ 'UBSan', qr/runtime error:/ ],
		[ 'crash', qr/signal 11|signal 6\b|exited on signal|SIGSEGV|SIGABRT|core dumped/i ],
	);
	for my $f ([ 'fashiond.log', $self->{flog} ],
	    [ 'clipd.log', $self->{clog} ],
	    [ 'vsd.log', $self->{vlog} ],
	    [ 'nginx error.log', $self->nginx_error_log ]) {
		my ($name, $path) = @$f;
		next if $name =~ /^(clipd|vsd)\.log$/ && !-e $path;
		my @lines = split /\n/, slurp($path) // '';
		@lines = grep { $_ !~ $o{allow} } @lines if $o{allow};
		for my $b (@bad) {
			my @hit = grep { $_ =~ $b->[1] } @lines;
			$tb->ok(!@hit, "$name: no $b->[0]")
			    or $tb->diag(join "\n", @hit[0 .. ($#hit < 4 ? $#hit : 4)]);
		}
	}
}

sub log_lines {
	my ($self, $re) = @_;
	return grep { $_ =~ $re } split /\n/, slurp($self->{flog}) // '';
}

###############################################################################
# client loops

# spawn_clients(N, CODE): fork N processes each running CODE->($i) and
# exiting; returns the pids.  Children never run END blocks.
sub spawn_clients {
	my ($self, $n, $code) = @_;
	my @pids;
	for my $i (1 .. $n) {
		my $pid = fork // croak "fork: $!";
		if ($pid == 0) {
			my $rc = eval { $code->($i); 1 } ? 0 : 1;
			print STDERR "client $i: $@" if $rc;
			_exit($rc);
		}
		push @pids, $pid;
		$self->{children}{$pid} = 'client';
	}
	return @pids;
}

sub wait_clients {
	my ($self, @pids) = @_;
	my $bad = 0;
	for my $p (@pids) {
		waitpid($p, 0);
		$bad++ if $?;
		delete $self->{children}{$p};
	}
	return $bad;
}

###############################################################################
# teardown

sub teardown {
	my ($self) = @_;
	return if $self->{torn_down}++;
	return unless $$ == $self->{owner};
	for my $pid (keys %{ $self->{children} }) {
		next if $self->{children}{$pid} ne 'client';
		kill 'KILL', $pid;
		waitpid($pid, 0);
	}
	$self->stop_nginx if $self->{nginx};
	$self->stop_clipd(10) if $self->{clipd};
	$self->stop_vsd(10) if $self->{vsd};
	if ($self->{fashiond}) {
		my @w = $self->worker_pids;
		$self->stop_fashiond(10);
		kill 'KILL', grep { pid_alive($_) } @w;
	}
	$self->stop_pg('immediate') if $self->{pg_started};
	Test::More::diag("left $self->{dir}") if $ENV{LEAVE};
}

sub DESTROY { $_[0]->teardown }

END {
	my $st = $?;
	$_->teardown for reverse @LIVE;
	@LIVE = ();
	$? = $st;
}

1;
