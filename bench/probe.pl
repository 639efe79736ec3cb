#!/usr/bin/perl
# A client that asks nginx for a small page every millisecond on one
# keep-alive connection and tells how long the answers took: how long the
# event loop kept a request waiting.
#
# usage: bench/probe.pl PORT SECONDS [STOPFILE]
#   runs SECONDS at most, or until STOPFILE exists; prints
#   "requests N p50 MS p99 MS max MS over2ms N at S" (S: seconds from the
#   start to the worst answer)

use strict;
use warnings;

use IO::Socket::INET;
use Time::HiRes qw(time sleep);

my ($port, $secs, $stop) = @ARGV;
die "usage: probe.pl PORT SECONDS [STOPFILE]\n" unless $port && $secs;

my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Proto => 'tcp')
    or die "connect: $!\n";
$s->autoflush(1);

my $req = "GET /probe HTTP/1.1\r\nHost: b\r\n\r\n";
my $t0 = time;
my $next = $t0;
my (@lat, $worst, $worst_at);

$worst = 0;
$worst_at = 0;

while (time - $t0 < $secs) {
    last if $stop && @lat % 100 == 0 && -e $stop;

    my $t = time;
    syswrite($s, $req) == length($req) or die "write: $!\n";

    my $r = '';
    while ($r !~ /\r\n\r\n/) {
        my $n = sysread($s, $r, 4096, length $r);
        die "read: connection closed\n" unless $n;
    }

    my $l = (time - $t) * 1000;
    push @lat, $l;

    printf STDERR "late %.3f %.3f\n", $t, $l if $ENV{PROBE_LATE} && $l > $ENV{PROBE_LATE};

    if ($l > $worst) {
        $worst = $l;
        $worst_at = $t - $t0;
    }

    # the next request on the next millisecond, not a queue of late ones
    $next += 0.001;
    my $now = time;
    $next = $now if $next < $now;
    sleep($next - $now) if $next > $now;
}

@lat = sort { $a <=> $b } @lat;
my $n = @lat;
die "no answers\n" unless $n;

printf "requests %d p50 %.3f p99 %.3f max %.3f over2ms %d at %.3f\n",
       $n, $lat[int($n * 0.5)], $lat[int($n * 0.99)], $worst,
       scalar(grep { $_ > 2 } @lat), $worst_at;
