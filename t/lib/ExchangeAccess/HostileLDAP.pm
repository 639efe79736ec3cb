package ExchangeAccess::HostileLDAP;

# An LDAP server that answers like a small directory until told to turn
# hostile: what it does is read from DIR/mode when a connection comes in,
# so a test loads a good list first, then switches the server and watches
# what the proxy does.  Connections and requests are logged to DIR/log
# ("open PID TIME", "close PID TIME", "req PID TIME TYPE").
#
#   my $s = ExchangeAccess::HostileLDAP->start(port => 19501,
#                                              dir => "/tmp/h");
#   $s->mode('flood');
#
# The directory: group GROUP has members alice, bob and carol (uid=NAME,
# ou=people,dc=example,dc=com, with sAMAccountName and userPrincipalName
# NAME@example.com); dave is not a member.  Good modes: "good", "good-
# nobob" (bob removed).  The hostile modes are below, in serve().

use strict;
use warnings;

use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time sleep);
use Convert::ASN1 qw(asn_read);
use Net::LDAP::ASN qw(LDAPRequest LDAPResponse);
use Net::LDAP::Control::Paged;

our $Base = 'dc=example,dc=com';
our $Group = "cn=outlook-remote,ou=groups,$Base";
my $Paged = '1.2.840.113556.1.4.319';

sub start {
    my ($class, %o) = @_;

    mkdir $o{dir};
    my $self = bless { %o }, $class;
    $self->mode($o{mode} || 'good');

    my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                       LocalPort => $o{port}, Listen => 64,
                                       ReuseAddr => 1, Proto => 'tcp')
        or die "hostile LDAP cannot listen on $o{port}: $!\n";

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid) {
        close $listen;
        $self->{pid} = $pid;
        $self->{owner} = $$;
        return $self;
    }

    $SIG{CHLD} = 'IGNORE';

    while (1) {
        my $c = $listen->accept or next;
        my $child = fork;
        next if !defined $child;

        if ($child == 0) {
            close $listen;
            serve($c, $self);
            POSIX::_exit(0);
        }

        close $c;
    }
}

sub mode {
    my ($self, $mode) = @_;
    open my $fh, '>', "$self->{dir}/mode.tmp" or die $!;
    print $fh $mode;
    close $fh;
    rename "$self->{dir}/mode.tmp", "$self->{dir}/mode" or die $!;
}

sub stop {
    my $self = shift;
    local $?;
    kill 'TERM', $self->{pid} if $self->{pid};
    waitpid($self->{pid}, 0) if $self->{pid};
    $self->{pid} = undef;
}

sub DESTROY { $_[0]->stop if $_[0]->{pid} && $_[0]->{owner} == $$ }

sub logline {
    my ($dir, $line) = @_;
    open my $fh, '>>', "$dir/log" or return;
    printf $fh "%s %d %.3f\n", $line, $$, time;
    close $fh;
}

sub user_dn { "uid=$_[0],ou=people,$Base" }

sub pdu {
    my $msg = shift;
    return $LDAPResponse->encode($msg) || die $LDAPResponse->error;
}

sub result {
    my ($op, $id, $code, $text, $controls) = @_;
    my $m = { messageID => $id,
              protocolOp => { $op => { resultCode => $code, matchedDN => '',
                                       errorMessage => $text // '' } } };
    $m->{controls} = $controls if $controls;
    return pdu($m);
}

sub entry {
    my ($id, $dn, @attrs) = @_;
    return pdu({ messageID => $id,
                 protocolOp => { searchResEntry => { objectName => $dn,
                                                     attributes => [@attrs] } } });
}

sub user {
    my ($id, $name, $sam, $upn) = @_;
    my @a = ({ type => 'sAMAccountName', vals => [$sam // $name] });
    push @a, { type => 'userPrincipalName', vals => [$upn] } if defined $upn;
    return entry($id, user_dn($name), @a);
}

sub paged_done {
    my ($id, $cookie, $code, $text) = @_;
    my $ctl = Net::LDAP::Control::Paged->new(size => 0, cookie => $cookie);
    return result('searchResDone', $id, $code // 0, $text,
                  [{ type => $Paged, value => $ctl->value }]);
}

# BER by hand, for what Net::LDAP::ASN will not write
sub ber_len {
    my $n = shift;
    return chr($n) if $n < 0x80;
    my $b = '';
    while ($n) { $b = chr($n & 0xff) . $b; $n >>= 8; }
    return chr(0x80 | length $b) . $b;
}

sub ber { my ($tag, $v) = @_; return chr($tag) . ber_len(length $v) . $v }

sub ber_int {
    my $n = shift;
    my $b = pack('N', $n & 0xffffffff);
    $b =~ s/^\x00+(?=[\x00-\x7f])//;
    $b =~ s/^\xff+(?=[\x80-\xff])//;
    return ber(0x02, $b);
}

sub send_raw {
    my ($c, $data) = @_;
    local $SIG{PIPE} = 'IGNORE';
    my $off = 0;
    while ($off < length $data) {
        my $n = syswrite($c, $data, length($data) - $off, $off);
        return 0 unless $n;
        $off += $n;
    }
    return 1;
}

sub members {
    my $mode = shift;
    my @m = qw(alice bob carol);
    @m = qw(alice carol) if $mode =~ /nobob|references/;
    return @m;
}

sub serve {
    my ($c, $self) = @_;
    my $dir = $self->{dir};

    binmode $c;
    $c->autoflush(1);

    my $mode = 'good';
    if (open my $fh, '<', "$dir/mode") { $mode = <$fh> // 'good'; }
    chomp $mode;

    logline($dir, "open $mode");

    # silent: reads and never answers, until the client goes
    if ($mode eq 'silent') {
        my $pdu;
        1 while asn_read($c, $pdu);
        logline($dir, 'close');
        close $c;
        return;
    }

    while (1) {
        my $pdu;
        last unless asn_read($c, $pdu);
        my $req = $LDAPRequest->decode($pdu) or last;
        my $id = $req->{messageID};

        if ($req->{unbindRequest}) {
            last;
        }

        if ($req->{abandonRequest}) {
            next;
        }

        if ($req->{bindRequest}) {
            logline($dir, "req bind");
            send_raw($c, result('bindResponse', $id, 0));
            next;
        }

        # starttls-inject: StartTLS accepted, and in the same write a
        # message that would pass for one sent through TLS
        if ($req->{extendedReq} && $mode eq 'starttls-inject') {
            logline($dir, "req starttls");
            send_raw($c, pdu({ messageID => $id,
                               protocolOp => { extendedResp => {
                                   resultCode => 0, matchedDN => '',
                                   errorMessage => '',
                                   responseName => '1.3.6.1.4.1.1466.20037' } } })
                         . result('bindResponse', $id + 1, 0));
            my $x;
            1 while sysread($c, $x, 4096);
            last;
        }

        my $s = $req->{searchRequest} or do {
            send_raw($c, pdu({ messageID => $id,
                               protocolOp => { extendedResp => {
                                   resultCode => 2, matchedDN => '',
                                   errorMessage => 'not here' } } }));
            next;
        };

        my $attrs = join ' ', @{ $s->{attributes} || [] };
        my $kind = $s->{scope} == 0 && $s->{baseObject} eq '' ? 'rootdse'
                 : $s->{scope} == 0 ? 'group'
                 : $attrs eq '1.1' ? 'groups' : 'users';
        my $range = $attrs =~ /member;range=(\d+)-/i ? $1 : 0;

        logline($dir, "req $kind $range");

        my $go = __PACKAGE__->can('hostile_' . ($mode =~ s/-/_/gr));
        my $rc = $go ? $go->($c, $id, $kind, $range, $req, $self, $mode) : 0;

        last if $rc && $rc eq 'close';
        next if $rc;

        send_raw($c, good($id, $kind, $range, $req, $mode));
    }

    logline($dir, 'close');
    close $c;
}

# the answers of the good directory
sub good {
    my ($id, $kind, $range, $req, $mode) = @_;
    my @m = members($mode);

    # the root DSE of a directory that is no Active Directory
    if ($kind eq 'rootdse') {
        return entry($id, '') . result('searchResDone', $id, 0);
    }

    if ($kind eq 'group') {
        my $dn = lc $req->{searchRequest}{baseObject};
        return result('searchResDone', $id, 32, 'no such object')
            unless $dn eq lc $Group;
        return entry($id, $Group,
                     { type => 'member', vals => [map { user_dn($_) } @m] },
                     { type => 'primaryGroupToken', vals => ['1105'] })
             . result('searchResDone', $id, 0);
    }

    if ($kind eq 'groups') {
        return entry($id, $Group) . paged_done($id, '');
    }

    # in-chain: the server finds the members; otherwise everybody
    my @who = in_chain($req->{searchRequest}{filter}) ? @m : (@m, 'dave');
    my $out = '';

    for my $u (@who) {
        $out .= user($id, $u, $u, "$u\@example.com");
    }

    return $out . paged_done($id, '');
}

sub in_chain {
    my $f = shift;
    return 0 unless ref $f;
    if (ref $f eq 'HASH') {
        for my $k (keys %$f) {
            return 1 if $k eq 'matchingRule'
                        && $f->{$k} eq '1.2.840.113556.1.4.1941';
            return 1 if in_chain($f->{$k});
        }
    } elsif (ref $f eq 'ARRAY') {
        for (@$f) { return 1 if in_chain($_) }
    }
    return 0;
}

# 1: the group's entry carries primaryGroupToken on every range, and there
# is always one more range of one value (ranges that do move forward)
sub hostile_token_ranges {
    my ($c, $id, $kind, $range) = @_;
    return 0 unless $kind eq 'group';
    send_raw($c, entry($id, $Group,
                       { type => "member;range=$range-$range",
                         vals => [user_dn("u$range")] },
                       { type => 'primaryGroupToken', vals => ['1105'] })
                 . result('searchResDone', $id, 0));
    return 1;
}

# 1: a group entry with 10,000 primaryGroupToken attributes (300 KB)
sub hostile_token_entry {
    my ($c, $id, $kind) = @_;
    return 0 unless $kind eq 'group';
    my @a = ({ type => 'member', vals => [map { user_dn($_) } qw(alice)] });
    push @a, { type => 'primaryGroupToken', vals => [1000 + $_] }
        for 1 .. 10000;
    send_raw($c, entry($id, $Group, @a) . result('searchResDone', $id, 0));
    return 1;
}

# 2: member with 10,000 values, then 30,000 empty member attributes
sub hostile_empty_attrs {
    my ($c, $id, $kind) = @_;
    return 0 unless $kind eq 'group';
    my @a = ({ type => 'member',
               vals => [map { user_dn("u$_") } 1 .. 10000] });
    push @a, { type => 'member', vals => [] } for 1 .. 30000;
    send_raw($c, entry($id, $Group, @a) . result('searchResDone', $id, 0));
    return 1;
}

# 3a: the users' search never ends: a continuation reference every 2 s
sub hostile_references {
    my ($c, $id, $kind, $range, $req, $self, $mode) = @_;
    return 0 unless $kind eq 'users';
    my $ref = pdu({ messageID => $id,
                    protocolOp => { searchResRef =>
                                    ['ldap://elsewhere/dc=example,dc=com'] } });
    for (1 .. 600) {
        send_raw($c, $ref) or return 'close';
        sleep 2;
    }
    return 'close';
}

# 3b: whatever range is asked, the first range comes back
sub hostile_range_loop {
    my ($c, $id, $kind, $range) = @_;
    return 0 unless $kind eq 'group';
    send_raw($c, entry($id, $Group,
                       { type => 'member;range=0-1499',
                         vals => [map { user_dn("u$_") } 0 .. 1499] })
                 . result('searchResDone', $id, 0));
    return 1;
}

# 4: users without end, each with a new name, in one search
sub hostile_flood {
    my ($c, $id, $kind) = @_;
    return 0 unless $kind eq 'users';
    for my $i (1 .. 5_000_000) {
        send_raw($c, user($id, "flood$i", sprintf('flood%07d', $i),
                          sprintf('flood%07d@example.com', $i)))
            or return 'close';
    }
    return 'close';
}

# 5: a message that announces 1 GiB, and comes as fast as it can
sub hostile_huge {
    my ($c, $id, $kind) = @_;
    return 0 unless $kind eq 'group';
    send_raw($c, "\x30\x84\x40\x00\x00\x00" . ber_int($id)
                 . "\x64\x84\x3f\xff\xff\xf0") or return 'close';
    my $chunk = "\x04\x00" x 32768;
    for (1 .. 16384) {
        send_raw($c, $chunk) or return 'close';
    }
    return 'close';
}

# 6: the group's base read succeeds and returns no entry
sub hostile_no_entry {
    my ($c, $id, $kind) = @_;
    return 0 unless $kind eq 'group';
    send_raw($c, result('searchResDone', $id, 0));
    return 1;
}

# 7: values that are not what their attribute is
sub hostile_evil_values {
    my ($c, $id, $kind, $range, $req, $self, $mode) = @_;
    return 0 unless $kind eq 'users';
    send_raw($c, user($id, 'alice', 'alice', 'alice@example.com')
                 . user($id, 'bob', 'EVIL\\admin', 'root')
                 . user($id, 'carol', 'carol', 'DOM\\boss')
                 . user($id, 'dave', 'dave', 'dave@example.com')
                 . paged_done($id, ''));
    return 1;
}

# 8: a name that starts with "#"
sub hostile_hash_name {
    my ($c, $id, $kind) = @_;
    return 0 unless $kind eq 'users';
    send_raw($c, user($id, 'alice', '#alice', 'alice@example.com')
                 . user($id, 'bob', 'bob')
                 . user($id, 'carol', 'carol')
                 . paged_done($id, ''));
    return 1;
}

# 9: a message with an ID nobody asked for, and the answer behind it in
# the same segment
sub hostile_stray_ids {
    my ($c, $id, $kind, $range, $req, $self, $mode) = @_;
    my $stray = ber(0x30, ber_int(999) . ber(0x65, ber(0x0a, "\x00")
                                              . ber(0x04, '') . ber(0x04, '')))
              . ber(0x30, ber_int(-5) . ber(0x65, ber(0x0a, "\x00")
                                             . ber(0x04, '') . ber(0x04, '')))
              . ber(0x30, ber_int(0) . ber(0x64, ber(0x04, 'x') . ber(0x30, '')));
    send_raw($c, $stray . good($id, $kind, $range, $req, 'good'));
    return 1;
}

# 10: busy in the middle of the users' search (after one page)
sub hostile_busy {
    my ($c, $id, $kind, $range, $req) = @_;
    return 0 unless $kind eq 'users';
    my $cookie = '';
    for my $ctl (@{ $req->{controls} || [] }) {
        next unless $ctl->{type} eq $Paged;
        $cookie = Net::LDAP::Control::Paged->new(value => $ctl->{value})->cookie;
    }
    if (!$cookie) {
        send_raw($c, user($id, 'alice', 'alice') . paged_done($id, 'page2'));
    } else {
        send_raw($c, result('searchResDone', $id, 51, 'busy'));
    }
    return 1;
}

# a paged results control without a value (libldap reads it through NULL)
sub hostile_empty_control {
    my ($c, $id, $kind) = @_;
    return 0 unless $kind eq 'users';
    send_raw($c, result('searchResDone', $id, 0, '',
                        [{ type => $Paged, value => '' }]));
    return 1;
}

# 12: the users' search finds nobody, though the group has members
sub hostile_nobody {
    my ($c, $id, $kind) = @_;
    return 0 unless $kind eq 'users';
    send_raw($c, paged_done($id, ''));
    return 1;
}

# 12: a bind refused with a diagnostic message that is a log line, and a
# byte that is not UTF-8
sub hostile_forge {
    my ($c, $id, $kind) = @_;
    return 0 unless $kind eq 'group';
    send_raw($c, result('searchResDone', $id, 50,
                        "denied\n2026/01/01 00:00:00 [notice] 1#1: forged \xff"));
    return 1;
}

# 13: a continuation reference to another server that answers (the second
# hostile server) among the users found
sub hostile_references_here {
    my ($c, $id, $kind, $range, $req, $self, $mode) = @_;
    return 0 unless $kind eq 'users';
    my $url = "ldap://127.0.0.1:$ENV{TEST_NGINX_HOSTILE2_PORT}/$Base";
    send_raw($c, pdu({ messageID => $id,
                       protocolOp => { searchResRef => [$url] } })
                 . good($id, $kind, $range, $req, $mode));
    return 1;
}

# 13: the users' search ends in a referral to that server
sub hostile_referral_here {
    my ($c, $id, $kind) = @_;
    return 0 unless $kind eq 'users';
    my $url = "ldap://127.0.0.1:$ENV{TEST_NGINX_HOSTILE2_PORT}/$Base";
    send_raw($c, pdu({ messageID => $id,
                       protocolOp => { searchResDone => {
                           resultCode => 10, matchedDN => '',
                           errorMessage => 'ask elsewhere',
                           referral => [$url] } } }));
    return 1;
}

1;
