# The C sources follow nginx's code style where a machine can tell: no tabs,
# no trailing blanks, lines of at most 80 columns, only /* */ comments; and
# the shape the code keeps: short functions and files, no cycles between
# files.

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

# No function longer than about 120 lines, no file longer than about 1,200.
# The ones below are known to be longer and are split next; the list only
# shrinks.

my %longer = (
    'ngx_exa_classify' => 1,
);

for my $f (@files) {
    open my $fh, '<', $f or die "$f: $!";
    my @lines = <$fh>;
    close $fh;

    (my $base = $f) =~ s{.*/}{};
    my @long;

    push @long, scalar(@lines) . " lines"
        if @lines > 1200 && !$longer{$base};

    my ($name, $start);

    for my $i (0 .. $#lines) {
        if ($lines[$i] =~ /^([a-z_][a-z0-9_]*)\(/ && $i > 0
            && $lines[$i - 1] =~ /^\S/)
        {
            ($name, $start) = ($1, $i);
        }

        if ($lines[$i] =~ /^}/ && defined $name) {
            my $n = $i - $start + 1;
            push @long, "$name() has $n lines" if $n > 120 && !$longer{$name};
            undef $name;
        }
    }

    is(scalar @long, 0, "$f has no file or function too long")
        or diag(join "\n", @long);
}


# No cycle between files: in the #include graph of the headers, and in
# the calls between the object files of a build (run "make module" first).

my %inc;

for my $f (@files) {
    open my $fh, '<', $f or die "$f: $!";
    (my $base = $f) =~ s{.*/}{};
    while (<$fh>) {
        push @{ $inc{$base} }, $1 if /^#include "([^"]+)"/;
    }
    close $fh;
}

sub cycle {
    my ($graph) = @_;
    my (%state, @path);
    my $found;

    my $visit;
    $visit = sub {
        my $n = shift;
        return if $found;
        $state{$n} = 1;
        push @path, $n;
        for my $m (@{ $graph->{$n} || [] }) {
            next if $m eq $n;
            if (($state{$m} // 0) == 1) {
                $found = join ' -> ', @path, $m;
                return;
            }
            $visit->($m) unless $state{$m};
            return if $found;
        }
        pop @path;
        $state{$n} = 2;
    };

    $visit->($_) for sort keys %$graph;
    return $found;
}

my $c = cycle(\%inc);
ok(!$c, 'no #include cycle') or diag($c);

my $objs = 'build/nginx/objs/addon/ngx_exchange_access_module';

SKIP: {
    my @o = glob("$objs/*.o");
    skip 'no build to look at', 1 unless @o;

    my (%defined, %undefined, %calls);

    for my $o (@o) {
        (my $base = $o) =~ s{.*/}{};
        for (`nm -P $o`) {
            my ($sym, $type) = split;
            $defined{$sym} = $base if $type eq 'T';
            push @{ $undefined{$base} }, $sym if $type eq 'U';
        }
    }

    for my $from (keys %undefined) {
        my %to;
        for my $sym (@{ $undefined{$from} }) {
            $to{ $defined{$sym} } = 1 if $defined{$sym};
        }
        $calls{$from} = [sort keys %to];
    }

    $c = cycle(\%calls);
    ok(!$c, 'no call cycle between files') or diag($c);
}

done_testing();
