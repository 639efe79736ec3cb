# Runs the unit tests of the pure parsers (t/unit), built without nginx,
# then again under AddressSanitizer and UndefinedBehaviorSanitizer.

use strict;
use warnings;
use Test::More;

my $out = `make -s -C t/unit clean all 2>&1`;
is($?, 0, 'unit tests build and pass') or diag($out);
note($out);

SKIP: {
    skip 'clang is not installed', 1
        if system('command -v clang >/dev/null 2>&1') != 0;

    $out = `make -s -C t/unit asan 2>&1`;
    is($?, 0, 'unit tests pass under ASan and UBSan') or diag($out);
    note($out);
}

done_testing();
