# Runs the unit tests of the pure parsers (t/unit), built without nginx.

use strict;
use warnings;
use Test::More;

my $out = `make -s -C t/unit clean all 2>&1`;
is($?, 0, 'unit tests build and pass') or diag($out);
note($out);

done_testing();
