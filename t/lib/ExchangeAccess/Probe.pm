package ExchangeAccess::Probe;

# What the proxy does while its directory misbehaves: a client that keeps
# asking (one request every 25 ms, as a member of the list), the workers'
# memory, and the error log.  Called from a test's --- exec:
#
#   perl -It/lib -MExchangeAccess::Probe -e 'ExchangeAccess::Probe::run(
#       port => 1984, user => "alice", log => "t/servroot/logs/error.log",
#       until => qr/refresh failed/, seconds => 20)'
#
# prints "found after N s" (or "not found in N s"), "answered ok" (every
# request 200), "latency ok" (none slower than latency ms, default 300),
# "memory ok" (no worker grew by more than rss MB, default 64), and with
# TEST_HOSTILE_REPORT appends "tag<TAB>peak RSS MB<TAB>longest request
# ms<TAB>seconds to the line" to that file.  A worker that grows past
# 1,500 MB is killed, so that a test cannot take the machine down.  Under
# TEST_NGINX_USE_VALGRIND or TEST_NGINX_USE_ASAN the limits of latency
# and memory are wider.

use strict;
use warnings;

use IO::Socket::INET;
use MIME::Base64 qw(encode_base64);
use Time::HiRes qw(time sleep);

sub workers {
    my $pidfile = shift;
    open my $fh, '<', $pidfile or return ();
    my $master = <$fh>;
    close $fh;
    chomp $master;
    my @w;
    for my $d (glob '/proc/[0-9]*') {
        open my $s, '<', "$d/stat" or next;
        my $st = <$s>;
        close $s;
        next unless $st && $st =~ /^(\d+) \(.*?\) \S (\d+)/;
        push @w, $1 if $2 == $master;
    }
    return @w;
}

sub status_kb {
    my ($pid, $field) = @_;
    open my $fh, '<', "/proc/$pid/status" or return 0;
    while (my $line = <$fh>) {
        return $1 if $line =~ /^$field:\s+(\d+) kB/;
    }
    return 0;
}

sub request {
    my ($port, $user, $timeout) = @_;
    my $t0 = time;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => $timeout)
        or return (0, time - $t0);
    my $auth = encode_base64("$user:pw", '');
    print $s "POST /mapi/emsmdb/ HTTP/1.1\r\nHost: localhost\r\n"
           . "Authorization: Basic $auth\r\nContent-Length: 0\r\n"
           . "Connection: close\r\n\r\n";
    my $res = '';
    my $rin = '';
    vec($rin, fileno($s), 1) = 1;
    while (time - $t0 < $timeout) {
        my $r = $rin;
        last unless select($r, undef, undef, 0.5) >= 0;
        next unless vec($r, fileno($s), 1);
        my $n = sysread($s, my $buf, 4096);
        last unless $n;
        $res .= $buf;
    }
    close $s;
    my ($code) = $res =~ m{^HTTP/1\.\d (\d+)};
    return ($code // 0, time - $t0);
}

sub run {
    my %o = @_;
    my $port = $o{port} // $ENV{TEST_NGINX_SERVER_PORT} // 1984;
    my $log = $o{log};
    my $pidfile = $o{pidfile} // ($log =~ s{error\.log$}{nginx.pid}r);
    my $latency = $o{latency} // 300;
    my $rss = $o{rss} // 64;

    # under valgrind nginx is some 20 times slower and its memory doubles
    if ($ENV{TEST_NGINX_USE_VALGRIND}) {
        $latency *= 20;
        $rss = 2 * $rss + 256;
    }

    # AddressSanitizer holds up to 256 MB of freed memory in its
    # quarantine before it reuses any, and runs some three times slower
    if ($ENV{TEST_NGINX_USE_ASAN}) {
        $latency *= 4;
        $rss += 256;
    }
    my $until = $o{until};

    my $offset = $o{offset} // (-s $log // 0);
    my @w = workers($pidfile);
    my %base = map { $_ => status_kb($_, 'VmRSS') } @w;

    my ($t0, $found, $max, $all, $n, $killed) = (time, undef, 0, 1, 0, 0);
    my ($peak, $grew) = (0, 0);

    while (time - $t0 < $o{seconds}) {
        my ($code, $dt) = request($port, $o{user} // 'alice', 120);
        $n++;
        $max = $dt if $dt > $max;
        $all = 0 if $code != ($o{code} // 200);

        for my $w (workers($pidfile)) {
            my $hwm = status_kb($w, 'VmHWM');
            $peak = $hwm if $hwm > $peak;
            my $g = $hwm - ($base{$w} // $hwm);
            $grew = $g if $g > $grew;

            if (status_kb($w, 'VmRSS') > 1_500_000) {
                kill 'KILL', $w;
                $killed = 1;
            }
        }

        if (!defined $found && defined $until && open my $fh, '<', $log) {
            seek $fh, $offset, 0;
            local $/;
            my $text = <$fh> // '';
            close $fh;
            if ($text =~ $until) {
                $found = time - $t0;
                last if !$o{after};
                $o{seconds} = $found + $o{after};
            }
        }

        sleep 0.025;
    }

    print defined $found ? sprintf("found after %.1f s\n", $found)
                         : "not found in $o{seconds} s\n";
    print $all ? "answered ok\n" : "answered not ok\n";
    print $max * 1000 <= $latency ? "latency ok\n"
                                  : sprintf("latency %d ms\n", $max * 1000);
    print $killed ? "memory over 1500 MB: worker killed\n"
          : $grew / 1024 <= $rss ? "memory ok\n"
          : sprintf("memory grew by %d MB\n", $grew / 1024);

    if (my $r = $ENV{TEST_HOSTILE_REPORT}) {
        open my $fh, '>>', $r or die "$r: $!";
        printf $fh "%s\t%d\t%d\t%d\t%s\t%d\t%s\n", $o{tag} // '-',
               $peak / 1024, $grew / 1024, $max * 1000,
               defined $found ? sprintf('%.1f', $found) : '-', $n,
               $killed ? 'killed' : '';
        close $fh;
    }
}

1;
