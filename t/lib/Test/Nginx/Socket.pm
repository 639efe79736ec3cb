package Test::Nginx::Socket;

# A small runner for data-driven nginx tests, compatible with the block
# format of CPAN's Test::Nginx::Socket for the sections this project uses:
#
#   === TEST n: title
#   --- main_config --- http_config --- config --- user_files --- init
#   --- request --- raw_request --- pipelined_requests --- more_headers
#   --- error_code --- response_body --- response_body_like
#   --- response_body_unlike
#   --- response_headers --- response_headers_like
#   --- error_log --- no_error_log --- access_log --- no_access_log
#   --- must_die --- wait --- timeout --- log_level --- workers
#   --- SKIP --- ONLY
#
# plus one section of its own:
#
#   --- wait_for        a regex (or lines, each a substring) that the error
#                       log must show before the requests are sent; up to
#                       30 seconds
#   --- exec            a shell command run while nginx is up; its stdout
#                       is checked by --- exec_stdout / --- exec_stdout_like
#                       and its exit status by --- exec_exit (default 0)
#   --- worker_exit_signal
#                       a signal number: workers that exit on it (the block
#                       kills one) are no failure; any other signal is
#
# A section written "--- name eval" holds Perl code whose value is used;
# "--- name chomp" drops the final newline.  $TEST_NGINX_* environment
# variables are expanded in configuration, request and exec sections.
#
# Environment: TEST_NGINX_BINARY (nginx), TEST_NGINX_LOAD_MODULES (.so
# files to load), TEST_NGINX_SERVER_PORT (1984), TEST_NGINX_SERVROOT
# (TEST_NGINX_SCRATCH/servroot; TEST_NGINX_SCRATCH, where every suite and
# fixture works, is t/ unless util/test.sh moves it), TEST_NGINX_USE_HUP (reload instead of restart between
# blocks), TEST_NGINX_USE_VALGRIND (run nginx under valgrind memcheck),
# TEST_NGINX_USE_ASAN (nginx was built with AddressSanitizer and
# UndefinedBehaviorSanitizer: their reports go to a folder per block under
# t/servroot-sanitizer, and a block fails when any nginx process reported
# an error there).

use strict;
use warnings;

use Cwd qw(cwd);
use File::Path qw(make_path remove_tree);
use IO::Socket::INET;
use IO::Select;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use Test::More import => [qw(!plan)];

our @EXPORT = qw(
    run_tests blocks repeat_each workers master_on master_off no_shuffle
    log_level add_block_preprocessor no_long_string no_root_location
    plan is isnt ok like unlike is_deeply diag note done_testing
    server_port servroot nginx_send http_request
    sanitizer_begin sanitizer_check sanitizer_options
);

use Exporter ();
our @ISA = ('Exporter');

my $RepeatEach   = 1;
my $Workers      = 1;
my $LogLevel     = 'debug';
my @Preprocessors;
my $Blocks;
my $Planned      = 0;

our $ServerPort = $ENV{TEST_NGINX_SERVER_PORT} ||= 1984;
our $ServRoot   = $ENV{TEST_NGINX_SERVROOT}
                  ||= ($ENV{TEST_NGINX_SCRATCH} || cwd() . '/t') . '/servroot';
our $Binary     = $ENV{TEST_NGINX_BINARY} || 'nginx';

$ENV{TEST_NGINX_HTML_DIR} = "$ServRoot/html";
$ENV{TEST_NGINX_CONF_DIR} = "$ServRoot/conf";
$ENV{TEST_NGINX_LOG_DIR}  = "$ServRoot/logs";

my $Running = 0;     # a master is up, for HUP mode
my $ErrLogOffset = 0;
my $AccLogOffset = 0;

sub import {
    my ($class, @args) = @_;

    for my $a (@args) {
        if ($a eq 'no_plan') {
            $Planned = -1;
        }
    }

    __PACKAGE__->export_to_level(1, $class, @EXPORT);
}

sub repeat_each { $RepeatEach = shift if @_; $RepeatEach }
sub workers { $Workers = shift if @_; $Workers }
sub master_on { }
sub master_off { }
sub no_shuffle { }
sub no_long_string { }
sub no_root_location { }
sub log_level { $LogLevel = shift if @_; $LogLevel }
sub add_block_preprocessor { push @Preprocessors, shift }
sub server_port { $ServerPort }
sub servroot { $ServRoot }

sub plan {
    $Planned = 1;
    Test::More::plan(@_);
}

# ---------------------------------------------------------------- blocks

package Test::Nginx::Socket::Block;

our $AUTOLOAD;

sub new { my ($c, %a) = @_; bless { %a, v => {} }, $c }
sub name { $_[0]{name} }
sub set_value { $_[0]{v}{$_[1]} = $_[2] }
sub has { exists $_[0]{v}{$_[1]} }
sub value { $_[0]{v}{$_[1]} }

sub AUTOLOAD {
    my $self = shift;
    (my $n = $AUTOLOAD) =~ s/.*:://;
    return if $n eq 'DESTROY';
    return $self->{v}{$n};
}

package Test::Nginx::Socket;

sub parse_blocks {
    my $fh = do { no strict 'refs'; \*{"main::DATA"} };
    local $/;
    my $text = <$fh>;
    defined $text or die "no __DATA__ section\n";

    my @blocks;
    my @chunks = split /^===\s+/m, $text;
    shift @chunks;

    for my $chunk (@chunks) {
        $chunk =~ s/^(.*)\n// or next;
        my $name = $1;
        my $b = Test::Nginx::Socket::Block->new(name => $name);

        my @parts = split /^---\s+/m, $chunk;
        shift @parts;

        for my $part (@parts) {
            $part =~ s/^(\w+)([^\n]*)\n?//
                or die "bad section in block '$name': $part\n";
            my ($sec, $rest) = ($1, $2);
            my ($val, $filters);

            if ($rest =~ /^:\s*(.*?)\s*$/) {
                ($val, $filters) = ($1, '');

            } else {
                ($val, $filters) = ($part, $rest);

                # like Test::Base: no blank lines around a section's text
                $val =~ s/\A(?:[ \t]*\n)+//;
                $val =~ s/\n\s*\z/\n/;
            }

            for my $f (split ' ', $filters) {
                if ($f eq 'chomp') {
                    chomp $val;
                } elsif ($f eq 'eval') {
                    my $code = $val;
                    $val = eval "package main;\n#line 1 \"$sec\"\n$code";
                    die "eval of section '$sec' in block '$name' failed: $@"
                        if $@;
                }
            }

            $b->set_value($sec, $val);
        }

        push @blocks, $b;
    }

    return \@blocks;
}

sub blocks {
    $Blocks ||= parse_blocks();
    return @$Blocks;
}

sub expand_env {
    my $s = shift;
    return $s unless defined $s && !ref $s;
    $s =~ s/\$(TEST_NGINX_[A-Z0-9_]+)/
        defined $ENV{$1} ? $ENV{$1} : die "undefined environment variable $1\n"/ge;
    return $s;
}

# ---------------------------------------------------------------- nginx

sub write_file {
    my ($path, $content) = @_;
    open my $fh, '>', $path or die "cannot write $path: $!\n";
    binmode $fh;
    print $fh $content;
    close $fh;
}

sub read_file {
    my ($path, $offset) = @_;
    open my $fh, '<', $path or return '';
    binmode $fh;
    local $/;
    seek $fh, $offset || 0, 0;
    my $s = <$fh>;
    return defined $s ? $s : '';
}

# ---------------------------------------------------------------- sanitizers

# With TEST_NGINX_USE_ASAN, every process started from here on (nginx, its
# workers, "nginx -t", exec sections) writes its AddressSanitizer, LeakSanitizer
# and UndefinedBehaviorSanitizer reports into a folder of the block,
# t/servroot-sanitizer/<file>/<block>/san.<pid>; the options may be extended
# with ASAN_OPTIONS, LSAN_OPTIONS and UBSAN_OPTIONS.  t/sanitizer/ holds
# the few reports that nginx itself causes, each with the reason.
#
# Leaks are looked for in the server: the master, its workers, and the
# process that started them, which all exit through nginx's own exit
# paths that free the configuration.  One-shot commands ("nginx -t",
# "nginx -s reload", a start that must fail) end by returning from main()
# with their configuration still allocated, by nginx's design, so they run
# without leak detection (every other check stays on).

our $SanRoot = ($ENV{TEST_NGINX_SERVROOT} =~ s{/+$}{}r) . '-sanitizer';
my %SanSeen;         # report file => bytes already checked
my $SanStarted = 0;
my $SanUserAsan = $ENV{ASAN_OPTIONS} // '';
my $SanUserUbsan = $ENV{UBSAN_OPTIONS} // '';
my $SanUserLsan = $ENV{LSAN_OPTIONS} // '';
my $SanAsan = '';

sub sanitizer_begin {
    my $tag = shift;

    return unless $ENV{TEST_NGINX_USE_ASAN};

    my $file = $0 =~ s{.*/}{}r =~ s{\.t$}{}r;
    $tag =~ s/^TEST (\d+):.*/$1/s;
    $tag =~ s/[^\w.-]+/_/g;

    # the first block of a file: old reports of this file go, and those
    # of other files are not this file's failures
    if (!$SanStarted++) {
        remove_tree("$SanRoot/$file");
        sanitizer_reports();
    }

    # the workers (nobody, when the tests run as root) write here too
    my $dir = "$SanRoot/$file/$tag";
    remove_tree($dir);
    make_path($dir);
    chmod 01777, $SanRoot, "$SanRoot/$file", $dir;

    my $supp = cwd() . '/t/sanitizer';
    my $common = "log_path=$dir/san:log_exe_name=0:print_summary=1";

    # llvm-14 installs its symbolizer under its versioned name only
    for my $d (split /:/, $ENV{PATH}) {
        for my $n ('llvm-symbolizer', 'llvm-symbolizer-14') {
            next unless -x "$d/$n";
            $common .= ":external_symbolizer_path=$d/$n";
            last;
        }
        last if $common =~ /external_symbolizer_path/;
    }

    $SanAsan = "$common:detect_stack_use_after_return=1";
    $ENV{ASAN_OPTIONS} = sanitizer_options(0);
    $ENV{LSAN_OPTIONS} = join ':', grep { length }
        "suppressions=$supp/lsan.supp", 'print_suppressions=0',
        $SanUserLsan;
    $ENV{UBSAN_OPTIONS} = join ':', grep { length }
        $common, 'print_stacktrace=1', 'report_error_type=1',
        $SanUserUbsan;
}

# ASAN_OPTIONS for a server (1) or a one-shot command (0)
sub sanitizer_options {
    my $leaks = shift;
    return join ':', grep { length } $SanAsan, "detect_leaks=$leaks",
                                      $SanUserAsan;
}

# whether a block's server proxies to an upstream over TLS
sub upstream_tls {
    my $block = shift;
    my $conf = join "\n", grep { defined } $block->config,
                                            $block->http_config,
                                            $block->main_config;
    return $conf =~ /\bproxy_pass\s+https:|\bproxy_ssl_/;
}

# the reports written since the last check, from any process of any block
sub sanitizer_reports {
    my @files;
    my $find;

    $find = sub {
        my $d = shift;
        opendir my $dh, $d or return;
        for my $e (sort readdir $dh) {
            next if $e eq '.' || $e eq '..';
            if (-d "$d/$e") {
                $find->("$d/$e");
            } elsif ($e =~ /^san\.\d+$/) {
                push @files, "$d/$e";
            }
        }
    };

    $find->($SanRoot);

    my $text = '';

    for my $f (@files) {
        my $new = read_file($f, $SanSeen{$f} // 0);
        next unless length $new;
        $SanSeen{$f} = ($SanSeen{$f} // 0) + length $new;
        $text .= "---- $f\n$new\n";
    }

    return $text;
}

sub sanitizer_check {
    my $name = shift;

    return 1 unless $ENV{TEST_NGINX_USE_ASAN};

    my $text = sanitizer_reports();

    if ($text =~ /ERROR: (?:Address|Leak)Sanitizer|runtime error:/) {
        $text = substr($text, 0, 20000) . "\n...\n" if length $text > 20000;
        fail("$name - no sanitizer reports");
        diag($text);
        return 0;
    }

    return ok(1, "$name - no sanitizer reports");
}

sub nginx_conf {
    my $block = shift;

    my $workers = $block->workers // $Workers;
    my $level = $block->log_level // $LogLevel;
    chomp $level;
    my $modules = '';

    for my $m (split ' ', $ENV{TEST_NGINX_LOAD_MODULES} // '') {
        $modules .= "load_module $m;\n";
    }

    my $main = expand_env($block->main_config // '');
    my $http = expand_env($block->http_config // '');
    my $config = expand_env($block->config // '');
    my $daemon = $ENV{TEST_NGINX_USE_VALGRIND} ? 'off' : 'on';

    return <<"CONF";
$modules
daemon $daemon;
master_process on;
worker_processes $workers;
pid logs/nginx.pid;
error_log logs/error.log $level;

$main

events {
    accept_mutex off;
    worker_connections 1024;
}

http {
    access_log logs/access.log;
    client_body_temp_path tmp/client_body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    default_type text/plain;
    keepalive_timeout 68;

$http

    server {
        listen 127.0.0.1:$ServerPort;
        server_name localhost;
        client_max_body_size 30M;

$config
    }
}
CONF
}

sub master_pid {
    my $pid = read_file("$ServRoot/logs/nginx.pid");
    chomp $pid;
    return $pid =~ /^\d+$/ ? $pid : undef;
}

sub port_open {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $ServerPort,
                                  Proto => 'tcp', Timeout => 1);
    return 0 unless $s;
    close $s;
    return 1;
}

# a daemonised master that exited stays a zombie until init reaps it
sub alive {
    my $pid = shift;
    return 0 unless kill 0, $pid;
    my $stat = read_file("/proc/$pid/stat");
    return $stat !~ /^\d+ \(.*\) [ZX] /s;
}

sub stop_nginx {
    my $pid = master_pid();
    $Running = 0;
    return unless $pid;

    kill 'QUIT', $pid;

    for (1 .. 100) {
        waitpid($pid, WNOHANG);
        return unless alive($pid);
        sleep 0.05;
    }

    kill 'KILL', $pid;
    waitpid($pid, 0);
}

sub prepare_servroot {
    my ($block, $keep_logs) = @_;

    if (!$keep_logs) {
        remove_tree($ServRoot);
    }

    make_path("$ServRoot/conf", "$ServRoot/logs", "$ServRoot/html",
              "$ServRoot/tmp");

    my $files = $block->user_files;

    if (defined $files) {
        if (ref $files eq 'ARRAY') {
            for my $f (@$files) {
                write_file("$ServRoot/html/$f->[0]", $f->[1]);
            }
        } else {
            for my $f (split /^>>> /m, $files) {
                next unless length $f;
                $f =~ s/^(\S+)[^\n]*\n// or next;
                write_file("$ServRoot/html/$1", $f);
            }
        }
    }
}

# starts nginx (or reloads it in HUP mode); returns (ok, startup output)
sub start_nginx {
    my $block = shift;
    my $conf = "$ServRoot/conf/nginx.conf";

    if ($ENV{TEST_NGINX_USE_HUP} && $Running && master_pid()) {
        my $outfile = "$ServRoot/logs/startup.out";
        system("$Binary -p $ServRoot/ -c conf/nginx.conf -t > $outfile 2>&1");
        return (0, read_file($outfile)) if $?;

        my $log = "$ServRoot/logs/error.log";
        my $before = -s $log || 0;
        kill 'HUP', master_pid();

        for (1 .. 100) {
            my $new = read_file($log, $before);
            last if $new =~ /start worker process/ && $new =~ /reconfiguring/;
            sleep 0.05;
        }

        sleep 0.2;
        return (1, '');
    }

    stop_nginx() if master_pid();

    my $out;

    if ($ENV{TEST_NGINX_USE_VALGRIND}) {
        my $pid = fork;
        die "fork: $!" unless defined $pid;

        if ($pid == 0) {
            open STDOUT, '>', "$ServRoot/logs/valgrind.log";
            open STDERR, '>&', \*STDOUT;
            exec 'valgrind', '-q', '--error-exitcode=99',
                 '--leak-check=no', '--trace-children=yes',
                 $Binary, '-p', "$ServRoot/", '-c', 'conf/nginx.conf';
            exit 127;
        }

        for (1 .. 600) {
            last if port_open();
            if (waitpid($pid, WNOHANG) == $pid) {
                return (0, read_file("$ServRoot/logs/valgrind.log"));
            }
            sleep 0.05;
        }

        $Running = 1;
        return (1, '');
    }

    # the output goes to a file, not a pipe: a process that nginx starts
    # before it forks (a sanitizer's symbolizer) would keep a pipe open
    my $outfile = "$ServRoot/logs/startup.out";
    # a server that proxies over TLS keeps the upstream's last TLS session
    # at exit (t/sanitizer/lsan.supp): a full unwind names it, since
    # OpenSSL has no frame pointers
    local $ENV{ASAN_OPTIONS} = sanitizer_options(1)
        . (upstream_tls($block) ? ':fast_unwind_on_malloc=0' : '')
        if $ENV{TEST_NGINX_USE_ASAN} && !$block->has('must_die');
    system("$Binary -p $ServRoot/ -c conf/nginx.conf > $outfile 2>&1");
    my $rc = $?;
    $out = read_file($outfile);

    if ($rc != 0) {
        return (0, $out);
    }

    for (1 .. 100) {
        last if port_open();
        sleep 0.05;
    }

    $Running = 1;
    return (1, $out);
}

# ---------------------------------------------------------------- HTTP

sub build_request {
    my ($req, $more, $keepalive) = @_;

    $req =~ s/^\s*#[^\n]*\n//mg;
    $req =~ s/^\s+//;
    my ($line, $body) = split /\n/, $req, 2;
    $body //= '';
    $line =~ s/\s+$//;
    $line .= ' HTTP/1.1' unless $line =~ m{ HTTP/\d\.\d$};

    my %have;
    my $hdrs = '';

    for my $h (split /\n/, $more // '') {
        next unless $h =~ /\S/;
        my ($n) = $h =~ /^([^:]+):/;
        $have{lc $n} = 1 if defined $n;
        $hdrs .= "$h\r\n";
    }

    my $r = "$line\r\n";
    $r .= "Host: localhost\r\n" unless $have{host};
    $r .= ($keepalive ? "Connection: keep-alive\r\n" : "Connection: close\r\n")
        unless $have{connection};
    $r .= $hdrs;
    $r .= "Content-Length: " . length($body) . "\r\n"
        if length $body && !$have{'content-length'}
           && !$have{'transfer-encoding'};
    $r .= "\r\n$body";

    return $r;
}

sub read_response {
    my ($sock, $timeout) = @_;
    my $buf = '';
    my $sel = IO::Select->new($sock);
    my $deadline = time + $timeout;

    my $fill = sub {
        my $left = $deadline - time;
        return 0 if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($sock, $buf, 65536, length $buf);
        return $n ? 1 : 0;
    };

    while ($buf !~ /\r\n\r\n/) {
        $fill->() or return { error => length $buf ? 'truncated head'
                                                   : 'no response',
                              raw => $buf };
    }

    my ($head, $rest) = split /\r\n\r\n/, $buf, 2;
    my ($status_line, @lines) = split /\r\n/, $head;
    my ($code) = $status_line =~ m{^HTTP/\d\.\d\s+(\d+)};
    my @headers;

    for (@lines) {
        push @headers, [$1, $2] if /^([^:]+):\s*(.*)$/;
    }

    my %h = map { lc($_->[0]) => $_->[1] } @headers;
    my $body = '';
    $buf = $rest;

    if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
        for (;;) {
            while ($buf !~ /\r\n/) {
                $fill->() or return { error => 'truncated chunk' };
            }
            $buf =~ s/^([0-9a-fA-F]+)[^\r]*\r\n// or
                return { error => 'bad chunk' };
            my $size = hex $1;
            if ($size == 0) {
                while ($buf !~ /\r\n/) { $fill->() or last; }
                last;
            }
            while (length $buf < $size + 2) {
                $fill->() or return { error => 'truncated chunk' };
            }
            $body .= substr($buf, 0, $size);
            $buf = substr($buf, $size + 2);
        }

    } elsif (defined $h{'content-length'}) {
        while (length $buf < $h{'content-length'}) {
            $fill->() or return { error => 'truncated body' };
        }
        $body = substr($buf, 0, $h{'content-length'});

    } elsif ($code && $code !~ /^(1|204|304)/) {
        while ($fill->()) { }
        $body = $buf;
    }

    return { code => $code, headers => \@headers, h => \%h, body => $body,
             status_line => $status_line };
}

sub connect_server {
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $ServerPort,
                                     Proto => 'tcp', Timeout => 3)
        or return undef;
    binmode $sock;
    return $sock;
}

sub send_all {
    my ($sock, $data) = @_;
    while (length $data) {
        my $n = syswrite($sock, $data);
        return 0 unless defined $n;
        substr($data, 0, $n) = '';
    }
    return 1;
}

# a single request on a new connection, for use in Perl code
sub http_request {
    my ($raw, $timeout) = @_;
    my $sock = connect_server() or return { error => "connect: $!" };
    send_all($sock, $raw);
    my $res = read_response($sock, $timeout || 5);
    close $sock;
    return $res;
}

sub nginx_send { http_request(@_) }

# ---------------------------------------------------------------- checks

sub pick {
    my ($v, $i) = @_;
    return ref $v eq 'ARRAY' ? $v->[$i] : $v;
}

sub check_response {
    my ($block, $res, $i, $name) = @_;

    if ($res->{error}) {
        fail("$name - response: $res->{error}");
        return 0;
    }

    my $ok = 1;

    if (defined(my $code = pick($block->error_code, $i))) {
        chomp $code;
        $ok &= is($res->{code}, $code, "$name - status code");
    }

    if (defined(my $body = pick($block->response_body, $i))) {
        $ok &= is($res->{body}, expand_env($body), "$name - response body");
    }

    if (defined(my $like = pick($block->response_body_like, $i))) {
        my $re = ref $like eq 'Regexp' ? $like : qr/$like/s;
        $ok &= like($res->{body}, $re, "$name - response body like");
    }

    if (defined(my $unlike = pick($block->response_body_unlike, $i))) {
        my $re = ref $unlike eq 'Regexp' ? $unlike : qr/$unlike/s;
        $ok &= unlike($res->{body}, $re, "$name - response body unlike");
    }

    if (defined(my $hs = pick($block->response_headers, $i))) {
        for my $line (split /\n/, $hs) {
            next unless $line =~ /\S/;

            if ($line =~ /^!\s*(\S+)/) {
                $ok &= ok(!exists $res->{h}{lc $1},
                          "$name - header $1 absent");
                next;
            }

            my ($n, $v) = $line =~ /^([^:]+):\s*(.*)$/ or next;
            $ok &= is($res->{h}{lc $n}, expand_env($v), "$name - header $n");
        }
    }

    if (defined(my $hs = pick($block->response_headers_like, $i))) {
        for my $line (split /\n/, $hs) {
            my ($n, $v) = $line =~ /^([^:]+):\s*(.*)$/ or next;
            $ok &= like($res->{h}{lc $n} // '', qr/$v/,
                        "$name - header $n like");
        }
    }

    return $ok;
}

sub log_patterns {
    my $v = shift;
    return () unless defined $v;
    return map { ref $_ ? $_ : ($_) } @$v if ref $v eq 'ARRAY';
    return ($v) if ref $v eq 'Regexp';
    return grep { /\S/ } map { expand_env($_) } split /\n/, $v;
}

sub check_log {
    my ($what, $text, $want, $unwanted, $name) = @_;
    my $ok = 1;

    for my $p (log_patterns($want)) {
        if (ref $p eq 'Regexp') {
            $ok &= like($text, $p, "$name - $what matches $p");
        } else {
            $ok &= ok(index($text, $p) >= 0, "$name - $what has \"$p\"");
        }
    }

    for my $p (log_patterns($unwanted)) {
        if (ref $p eq 'Regexp') {
            $ok &= unlike($text, $p, "$name - $what does not match $p");
        } else {
            $ok &= ok(index($text, $p) < 0,
                      "$name - $what has no \"$p\"");
        }
    }

    return $ok;
}

sub report_failure {
    my ($block, $startup) = @_;
    my $conf = read_file("$ServRoot/conf/nginx.conf");
    my $log = read_file("$ServRoot/logs/error.log", $ErrLogOffset);
    $log = substr($log, -6000) if length $log > 6000;

    diag("---- generated nginx.conf for '" . $block->name . "':\n$conf");
    diag("---- nginx output:\n$startup") if defined $startup && length $startup;
    diag("---- error.log:\n$log");
}

sub run_exec {
    my ($block, $name) = @_;
    my $cmd = expand_env($block->exec);
    my $out = `$cmd`;
    my $status = $? >> 8;
    my $ok = 1;

    note("exec output of $name:\n$out");

    my $want_exit = $block->exec_exit // 0;
    chomp $want_exit;
    $ok &= is($status, $want_exit, "$name - exec exit status")
        or diag("exec output:\n$out");

    if (defined(my $want = $block->exec_stdout)) {
        $ok &= is($out, expand_env($want), "$name - exec stdout");
    }

    if (defined(my $like = $block->exec_stdout_like)) {
        my $re = ref $like eq 'Regexp' ? $like : qr/$like/s;
        $ok &= like($out, $re, "$name - exec stdout like");
    }

    return $ok;
}

sub run_block {
    my $block = shift;
    my $name = $block->name;
    my $ok = 1;

    my $hup = $ENV{TEST_NGINX_USE_HUP} && $Running;
    prepare_servroot($block, $hup);

    $ErrLogOffset = $hup ? (-s "$ServRoot/logs/error.log" || 0) : 0;
    $AccLogOffset = $hup ? (-s "$ServRoot/logs/access.log" || 0) : 0;

    write_file("$ServRoot/conf/nginx.conf", nginx_conf($block));

    sanitizer_begin($name);

    if (defined(my $init = $block->init)) {
        eval "package main; $init";
        die "init of '$name' failed: $@" if $@;
    }

    my ($started, $out) = start_nginx($block);

    if ($block->has('must_die')) {
        $ok &= ok(!$started, "$name - nginx refused to start");
        my $text = $out . read_file("$ServRoot/logs/error.log", $ErrLogOffset);
        $ok &= check_log('error output', $text, $block->error_log,
                         $block->no_error_log, $name);
        report_failure($block, $out) unless $ok;
        $Running = 0 if $hup;
        sanitizer_check($name);
        return;
    }

    if (!$started) {
        fail("$name - nginx started");
        report_failure($block, $out);
        sanitizer_check($name);
        return;
    }

    my $timeout = $block->timeout // 5;
    chomp $timeout;
    $timeout =~ s/s$//;

    if (defined(my $w = $block->wait_for)) {
        my @want = log_patterns($w);
        my $t0 = time;
        my $text = '';

        while (time - $t0 < 30) {
            $text = read_file("$ServRoot/logs/error.log", $ErrLogOffset);
            last unless grep { ref $_ ? $text !~ $_ : index($text, $_) < 0 }
                        @want;
            sleep 0.05;
        }

        for my $p (@want) {
            $ok &= ok(ref $p ? $text =~ $p : index($text, $p) >= 0,
                      "$name - the error log showed \"$p\" in time");
        }
    }

    for my $rep (1 .. $RepeatEach) {
        my $tag = $RepeatEach > 1 ? "$name (repeat $rep)" : $name;

        if (defined(my $raw = $block->raw_request)) {
            my $res = http_request(expand_env($raw), $timeout);
            $ok &= check_response($block, $res, 0, $tag);

        } elsif (defined(my $pipe = $block->pipelined_requests)) {
            my $sock = connect_server();
            if (!$sock) {
                $ok &= fail("$tag - connect: $!");
                next;
            }

            for my $i (0 .. $#$pipe) {
                my $raw = build_request(expand_env($pipe->[$i]),
                                        expand_env(pick($block->more_headers,
                                                        $i)),
                                        $i < $#$pipe);
                send_all($sock, $raw);
                my $res = read_response($sock, $timeout);
                $ok &= check_response($block, $res, $i, "$tag #" . ($i + 1));
            }

            close $sock;

        } elsif (defined(my $req = $block->request)) {
            my @reqs = ref $req eq 'ARRAY' ? @$req : ($req);

            for my $i (0 .. $#reqs) {
                my $raw = build_request(expand_env($reqs[$i]),
                                     expand_env(pick($block->more_headers,
                                                     $i)),
                                     0);
                my $res = http_request($raw, $timeout);
                $ok &= check_response($block, $res, $i,
                                      @reqs > 1 ? "$tag #" . ($i + 1) : $tag);
            }
        }

        if (defined $block->exec) {
            $ok &= run_exec($block, $tag);
        }
    }

    if (defined(my $wait = $block->wait)) {
        chomp $wait;
        sleep $wait;
    } else {
        sleep 0.05;
    }

    my $errlog = read_file("$ServRoot/logs/error.log", $ErrLogOffset);
    $ok &= check_log('error.log', $errlog, $block->error_log,
                     $block->no_error_log, $name);

    if (defined $block->access_log || defined $block->no_access_log) {
        my $acc = read_file("$ServRoot/logs/access.log", $AccLogOffset);
        $ok &= check_log('access.log', $acc, $block->access_log,
                         $block->no_access_log, $name);
    }

    # a worker that crashed is always a failure, unless the block itself
    # killed it with the signal its worker_exit_signal section names
    my $killed = $block->worker_exit_signal;
    chomp $killed if defined $killed;

    while ($errlog =~ /(worker process \d+ exited on signal (\d+)[^\n]*)/g) {
        next if defined $killed && $2 == $killed;
        $ok &= fail("$name - $1");
    }

    report_failure($block) unless $ok;

    stop_nginx() unless $ENV{TEST_NGINX_USE_HUP};

    if ($ENV{TEST_NGINX_USE_VALGRIND}) {
        my $v = read_file("$ServRoot/logs/valgrind.log");
        ok($v !~ /==\d+==\s+(Invalid|Conditional|Use of uninit|Mismatched)/,
           "$name - valgrind found no memory errors")
            or diag($v);
    }

    sanitizer_check($name);
}

sub run_tests {
    my @blocks = blocks();

    # a master that an interrupted run left behind would hold the ports
    if (my $pid = master_pid()) {
        stop_nginx() if read_file("/proc/$pid/cmdline") =~ /nginx/;
    }

    for my $b (@blocks) {
        $_->($b) for @Preprocessors;
    }

    my @only = grep { $_->has('ONLY') } @blocks;
    @blocks = @only if @only;

    # TEST_NGINX_BLOCK=7 runs "=== TEST 7: ..." alone
    if (my $want = $ENV{TEST_NGINX_BLOCK}) {
        @blocks = grep { $_->name =~ /^TEST \Q$want\E:/ } @blocks;
    }

    for my $b (@blocks) {
        if ($b->has('SKIP')) {
            SKIP: { skip($b->name . ': ' . ($b->SKIP // 'skipped'), 1) }
            next;
        }

        run_block($b);
    }

    if ($Running) {
        stop_nginx();
        sanitizer_check('after the last block');
    }

    done_testing() if $Planned <= 0;
}

END {
    stop_nginx() if $Running;
}

1;
