#!/usr/bin/perl
# The machine's own stalls: a loop that does nothing but read the clock,
# and tells the longest time between two readings.  A process alone on a
# CPU should see a few microseconds; what is longer is the CPU taken away
# from it (an interrupt, a kernel thread, the hypervisor), and a request
# on that CPU can wait as long whatever nginx does.
#
# usage: bench/floor.pl SECONDS
#   prints "max MS over1ms N over2ms N in S s"

use strict;
use warnings;

use Time::HiRes qw(time);

my $secs = shift or die "usage: floor.pl SECONDS\n";

my $t0 = time;
my $prev = $t0;
my ($max, $over1, $over2) = (0, 0, 0);

for (;;) {
    my $t = time;
    my $gap = $t - $prev;

    $max = $gap if $gap > $max;

    if ($gap > 0.001) {
        $over1++;
        $over2++ if $gap > 0.002;
    }

    $prev = $t;
    last if $t - $t0 >= $secs;
}

printf "max %.3f over1ms %d over2ms %d in %d s\n", $max * 1000, $over1,
       $over2, $secs;
