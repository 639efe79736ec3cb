#!/usr/bin/perl
# Which of the probe's slow answers a refresh step was running during:
# the probe's late answers (bench/probe.pl with PROBE_LATE: "late START
# MS"), against the steps nginx logged at "info" for keeping the event
# loop 2 ms or more ("... kept the event loop W us, C us of it on the
# CPU, until END").  A slow answer during a step whose CPU time was short
# waited for the CPU the machine took away, not for the refresh's work; a
# slow answer during no such step was not kept waiting 2 ms by the refresh.
#
# usage: bench/late.pl PROBE_LATE_FILE ERROR_LOG
#   prints "late N in_steps N (step wall max MS cpu max MS) outside N"

use strict;
use warnings;

my ($late_file, $log_file) = @ARGV;
die "usage: late.pl PROBE_LATE_FILE ERROR_LOG\n" unless $log_file;

my @steps;
open my $log, '<', $log_file or die "$log_file: $!\n";
while (<$log>) {
    next unless /kept the event loop (\d+) us, (-?\d+) us of it on the CPU, until (\d+\.\d+)/;
    push @steps, [$3 - $1 / 1e6, $3, $1 / 1000, $2 / 1000];
}
close $log;

my ($n, $in, $out, $wall, $cpu) = (0, 0, 0, 0, 0);
open my $late, '<', $late_file or die "$late_file: $!\n";
while (<$late>) {
    next unless /^late (\d+\.\d+) (\d+\.\d+)/;
    my ($t0, $t1) = ($1, $1 + $2 / 1000);
    $n++;

    my @hit = grep { $_->[0] < $t1 && $_->[1] > $t0 } @steps;
    if (!@hit) {
        $out++;
        next;
    }

    $in++;
    for my $s (@hit) {
        $wall = $s->[2] if $s->[2] > $wall;
        $cpu = $s->[3] if $s->[3] > $cpu;
    }
}
close $late;

printf "late %d in_steps %d (step wall max %.3f cpu max %.3f) outside %d\n",
       $n, $in, $wall, $cpu, $out;
