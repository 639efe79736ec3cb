#!/usr/bin/perl

# A bounded load for the fault tests: CONNS client processes, each on its
# own keep-alive connection, send GET PATH with Basic credentials of the
# allowed and the denied users in turn, for SECONDS or until MAX requests
# in all, and check every answer: an allowed user must get 200, a denied
# one 403, never anything else.
#
# Keep-alive is handled as HTTP/1.1 lets a client (RFC 9112, 9.3.1): a
# server may close an idle keep-alive connection at any moment (nginx does
# on a graceful reload), so when a request on a connection that already
# carried one gets no byte of an answer, it is sent once more on a new
# connection and counted as "retried".  With --retry-fresh the same holds
# on a new connection too (a worker killed with the connection open).
# Anything else is a failure: no answer after the retry, a connection cut
# in the middle of an answer, a wrong status, a 5xx.
#
# It prints one line,
#   requests=N allowed=N denied=N wrong=N 5xx=N failed=N retried=N
# and the first few problems on stderr; the exit status is 0 if wrong, 5xx
# and failed are all 0.
#
# usage: load.pl --port P [--host 127.0.0.1] [--path /mapi/emsmdb/]
#                [--allow alice,carol] [--deny bob,dave] [--conns 4]
#                [--seconds 5] [--max 20000] [--retry-fresh]

use strict;
use warnings;

use Getopt::Long;
use IO::Select;
use IO::Socket::INET;
use MIME::Base64 qw(encode_base64);
use Time::HiRes qw(time);

my %o = (host => '127.0.0.1', path => '/mapi/emsmdb/', allow => 'alice,carol',
         deny => 'bob,dave', conns => 4, seconds => 5, max => 20000);

GetOptions(\%o, 'host=s', 'port=i', 'path=s', 'allow=s', 'deny=s',
           'conns=i', 'seconds=f', 'max=i', 'retry-fresh')
    or die "bad arguments\n";
die "--port is needed\n" unless $o{port};
die "--seconds is at most 60 and --max at most 200000\n"
    if $o{seconds} > 60 || $o{max} > 200000;

my @users = ((map { [$_, 200] } split /,/, $o{allow}),
             (map { [$_, 403] } split /,/, $o{deny}));

$SIG{PIPE} = 'IGNORE';

sub connect_server {
    return IO::Socket::INET->new(PeerAddr => $o{host}, PeerPort => $o{port},
                                 Proto => 'tcp', Timeout => 5);
}

# one answer: (status, keep-alive) or (undef, error, bytes seen)
sub read_response {
    my $s = shift;
    my $sel = IO::Select->new($s);
    my $buf = '';
    my $seen = 0;

    my $fill = sub {
        return 0 unless $sel->can_read(5);
        my $n = sysread($s, $buf, 65536, length $buf);
        return 0 unless $n;
        $seen += $n;
        return 1;
    };

    while (index($buf, "\r\n\r\n") < 0) {
        $fill->() or return (undef, $! ? "$!" : 'closed', $seen);
    }

    my $end = index($buf, "\r\n\r\n");
    my $head = substr($buf, 0, $end);
    $buf = substr($buf, $end + 4);

    my ($status) = $head =~ m{^HTTP/1\.[01] (\d{3})}
        or return (undef, 'not HTTP', $seen);
    my $close = $head =~ /^Connection:\s*close/mi;

    if ($head =~ /^Transfer-Encoding:\s*chunked/mi) {
        while (1) {
            while ($buf !~ /\r\n/) {
                $fill->() or return (undef, 'cut in a chunk', $seen);
            }
            $buf =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n//
                or return (undef, 'bad chunk', $seen);
            my $size = hex $1;
            while (length $buf < $size + 2) {
                $fill->() or return (undef, 'cut in a chunk', $seen);
            }
            $buf = substr($buf, $size + 2);
            last if $size == 0;
        }

    } elsif ($head =~ /^Content-Length:\s*(\d+)/mi) {
        my $len = $1;
        while (length $buf < $len) {
            $fill->() or return (undef, 'cut in the body', $seen);
        }

    } else {
        1 while $fill->();
        $close = 1;
    }

    return ($status, !$close);
}

sub client {
    my ($id, $deadline, $quota, $out) = @_;
    my %n = map { $_ => 0 } qw(requests allowed denied wrong 5xx failed
                                retried);
    my @problems;
    my $s;
    my $used = 0;       # requests the current connection carried
    my $i = $id;

    my $problem = sub {
        $n{failed}++;
        push @problems, sprintf('%.3f %s', time, shift) if @problems < 5;
    };

    while (time < $deadline && $n{requests} < $quota) {
        my ($user, $want) = @{ $users[$i++ % @users] };
        my $req = "GET $o{path} HTTP/1.1\r\nHost: localhost\r\n"
                . 'Authorization: Basic '
                . encode_base64("$user:Passw0rd!", '') . "\r\n\r\n";
        my ($status, $keep, $seen);

        for my $try (1, 2) {
            if (!$s) {
                $s = connect_server();
                $used = 0;
                if (!$s) {
                    $status = undef;
                    $keep = "connect: $!";
                    $seen = 0;
                    last;
                }
            }

            my $sent = syswrite($s, $req);
            if (defined $sent && $sent == length $req) {
                ($status, $keep, $seen) = read_response($s);
            } else {
                ($status, $keep, $seen) = (undef, "write: $!", 0);
            }

            last if defined $status;

            # nothing came back: the server closed the connection
            my $reused = $used > 0;
            close $s;
            $s = undef;

            last if $seen;
            last unless $try == 1 && ($reused || $o{'retry-fresh'});
            $n{retried}++;
        }

        $n{requests}++;

        if (!defined $status) {
            $problem->("$user: no answer ($keep, $seen bytes)");
            next;
        }

        $used++;

        if ($status >= 500) {
            $n{'5xx'}++;
            push @problems, sprintf('%.3f %s got %s', time, $user, $status)
                if @problems < 5;
        } elsif ($status != $want) {
            $n{wrong}++;
            push @problems, sprintf('%.3f %s got %s, not %s', time, $user,
                                    $status, $want)
                if @problems < 5;
        } else {
            $n{$want == 200 ? 'allowed' : 'denied'}++;
        }

        if (!$keep) {
            close $s;
            $s = undef;
        }
    }

    print $out join(' ', map { "$_=$n{$_}" } sort keys %n), "\n";
    print $out "problem $_\n" for @problems;
}

my $deadline = time + $o{seconds};
my $quota = int($o{max} / $o{conns}) || 1;
my @pids;

pipe(my $r, my $w) or die "pipe: $!";

for my $id (0 .. $o{conns} - 1) {
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        close $r;
        client($id, $deadline, $quota, $w);
        close $w;
        exit 0;
    }
    push @pids, $pid;
}

close $w;

my %sum;
my @problems;

while (my $line = <$r>) {
    if ($line =~ /^problem (.*)/) {
        push @problems, $1;
        next;
    }
    for my $kv (split ' ', $line) {
        my ($k, $v) = split /=/, $kv;
        $sum{$k} += $v;
    }
}

waitpid($_, 0) for @pids;

printf "requests=%d allowed=%d denied=%d wrong=%d 5xx=%d failed=%d "
       . "retried=%d\n", map { $sum{$_} // 0 }
       qw(requests allowed denied wrong 5xx failed retried);
print STDERR "$_\n" for @problems;

exit(($sum{wrong} || $sum{'5xx'} || $sum{failed}) ? 1 : 0);
