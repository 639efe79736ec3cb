# A short libFuzzer run of every parser harness under ASan and UBSan
# (fuzz/Makefile); longer runs: make -C fuzz run SECONDS=600.

use strict;
use warnings;
use Test::More;

my $seconds = $ENV{TEST_FUZZ_SECONDS} || 10;

system('command -v clang >/dev/null 2>&1') == 0
    or plan skip_all => 'clang is not installed';

my $out = `make -s -C fuzz all 2>&1`;
is($?, 0, 'fuzz harnesses build') or diag($out);

for my $h (sort glob('fuzz/fuzz_*.c')) {
    (my $name = $h) =~ s{fuzz/fuzz_(\w+)\.c}{$1};
    system("rm -rf fuzz/out/$name; mkdir -p fuzz/out/$name");
    my $log = `cd fuzz && ./fuzz_$name -max_total_time=$seconds -max_len=8192 -print_final_stats=1 out/$name corpus/$name 2>&1`;
    my $rc = $?;
    my ($runs) = $log =~ /stat::number_of_executed_runs:\s*(\d+)/;
    ok($rc == 0 && $log !~ /ERROR: (Address|Undefined|libFuzzer)/,
       "fuzz_$name ran clean for ${seconds}s (" . ($runs // 0) . " runs)")
        or diag(substr($log, -4000));
}

done_testing();
