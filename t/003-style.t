# The C sources follow nginx's code style where a machine can tell: no tabs,
# no trailing blanks, lines of at most 80 columns, only /* */ comments.

use strict;
use warnings;
use Test::More;

my @files = glob('ngx_exchange_access_module/*.[ch]');
ok(@files > 0, 'sources found');

for my $f (@files) {
    open my $fh, '<', $f or die "$f: $!";
    my @bad;

    while (my $line = <$fh>) {
        chomp $line;
        push @bad, "$.: tab" if $line =~ /\t/;
        push @bad, "$.: trailing blank" if $line =~ /[ \t]$/;
        push @bad, "$.: longer than 80 columns" if length($line) > 80;
        push @bad, "$.: // comment" if $line =~ m{^\s*//|;\s*//};
    }

    close $fh;
    is(scalar @bad, 0, "$f follows the style") or diag(join "\n", @bad);
}

done_testing();
