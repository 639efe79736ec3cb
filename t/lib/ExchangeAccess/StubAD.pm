package ExchangeAccess::StubAD;

# An LDAP server that answers the way Active Directory does where Samba and
# OpenLDAP do not: it returns "member" of a large group in ranges of 1500
# values ("member;range=0-1499", ..., "member;range=3000-*") whatever is
# asked, and stops an unpaged search at 1000 entries with sizeLimitExceeded
# (MaxValRange and MaxPageSize).  Enough of LDAP for the module's refresh:
# bind, base and subtree searches, the paged results control.
#
#   my $s = ExchangeAccess::StubAD->start(port => 19401, members => 4000,
#                                         users => 5000, paging => 1);

use strict;
use warnings;

use IO::Socket::INET;
use POSIX ();
use Convert::ASN1 qw(asn_read);
use Net::LDAP::ASN qw(LDAPRequest LDAPResponse);
use Net::LDAP::Control::Paged;

my $Base = 'dc=example,dc=com';
my $Group = "cn=big-group,ou=groups,$Base";
my $Paged = '1.2.840.113556.1.4.319';

sub start {
    my ($class, %o) = @_;

    my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                       LocalPort => $o{port}, Listen => 16,
                                       ReuseAddr => 1, Proto => 'tcp')
        or die "stub AD cannot listen on $o{port}: $!\n";

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid) {
        close $listen;
        return bless { pid => $pid, %o }, $class;
    }

    $SIG{CHLD} = 'IGNORE';

    while (my $c = $listen->accept) {
        my $child = fork;
        next if !defined $child;

        if ($child == 0) {
            close $listen;
            serve($c, \%o);
            POSIX::_exit(0);
        }

        close $c;
    }

    POSIX::_exit(0);
}

sub stop {
    my $self = shift;
    local $?;    # called at exit: keep the test's own status
    kill 'TERM', $self->{pid} if $self->{pid};
    waitpid($self->{pid}, 0) if $self->{pid};
    $self->{pid} = undef;
}

sub DESTROY { $_[0]->stop if $_[0]->{pid} && $_[0]->{owner} && $_[0]->{owner} == $$ }

sub user_dn { sprintf("uid=user%06d,ou=people,$Base", $_[0]) }

sub send_msg {
    my ($c, $msg) = @_;
    my $pdu = $LDAPResponse->encode($msg) or die $LDAPResponse->error;
    print $c $pdu;
}

sub done {
    my ($c, $id, $code, $text, $controls) = @_;
    my $m = { messageID => $id,
              protocolOp => { searchResDone => { resultCode => $code,
                                                 matchedDN => '',
                                                 errorMessage => $text } } };
    $m->{controls} = $controls if $controls;
    send_msg($c, $m);
}

sub entry {
    my ($c, $id, $dn, @attrs) = @_;
    send_msg($c, { messageID => $id,
                   protocolOp => { searchResEntry => { objectName => $dn,
                                                       attributes => [@attrs] } } });
}

sub serve {
    my ($c, $o) = @_;
    binmode $c;
    $c->autoflush(1);

    while (1) {
        my $pdu;
        asn_read($c, $pdu) or return;
        my $req = $LDAPRequest->decode($pdu) or return;
        my $id = $req->{messageID};
        my $op = $req;   # the request CHOICE is at the top level

        if ($op->{unbindRequest}) {
            return;
        }

        if ($op->{bindRequest}) {
            send_msg($c, { messageID => $id,
                           protocolOp => { bindResponse => { resultCode => 0,
                                                             matchedDN => '',
                                                             errorMessage => '' } } });
            next;
        }

        my $s = $op->{searchRequest} or do {
            send_msg($c, { messageID => $id,
                           protocolOp => { extendedResp => { resultCode => 2,
                                                             matchedDN => '',
                                                             errorMessage => 'no' } } });
            next;
        };

        my $attrs = join ' ', @{ $s->{attributes} || [] };

        if ($s->{scope} == 0 && $s->{baseObject} eq '') {
            # the root DSE: no configuration naming context here
            entry($c, $id, '');
            done($c, $id, 0, '');
            next;
        }

        if ($s->{scope} == 0 && lc $s->{baseObject} eq lc $Group) {

            # MaxValRange: 1500 values at a time, whatever was asked
            my $from = $attrs =~ /member;range=(\d+)-/i ? $1 : 0;
            my $to = $from + 1499;
            my $last = $to >= $o->{members} - 1;
            $to = $o->{members} - 1 if $last;
            my $name = 'member;range=' . $from . '-' . ($last ? '*' : $to);

            entry($c, $id, $Group,
                  { type => $name,
                    vals => [map { user_dn($_ + 1) } $from .. $to] });
            done($c, $id, 0, '');
            next;
        }

        if ($s->{scope} == 0) {
            done($c, $id, 32, 'no such object');
            next;
        }

        if ($attrs eq '1.1') {
            entry($c, $id, $Group);
            done($c, $id, 0, '');
            next;
        }

        # the users, paged if asked for and if this server pages
        my ($size, $cookie);

        for my $ctl (@{ $req->{controls} || [] }) {
            next unless $ctl->{type} eq $Paged;
            my $p = Net::LDAP::Control::Paged->new(value => $ctl->{value});
            ($size, $cookie) = ($p->size, $p->cookie);
        }

        if (!$o->{paging} || !defined $size) {
            for my $i (1 .. 1000) {
                entry($c, $id, user_dn($i),
                      { type => 'sAMAccountName', vals => [sprintf('user%06d', $i)] });
            }

            done($c, $id, 4, 'size limit exceeded');
            next;
        }

        $size = 1000 if !$size || $size > 1000;
        my $start = $cookie ? $cookie + 0 : 1;
        my $end = $start + $size - 1;
        $end = $o->{users} if $end > $o->{users};

        for my $i ($start .. $end) {
            entry($c, $id, user_dn($i),
                  { type => 'sAMAccountName', vals => [sprintf('user%06d', $i)] });
        }

        my $next = $end < $o->{users} ? $end + 1 : '';
        my $ctl = Net::LDAP::Control::Paged->new(size => $o->{users},
                                                 cookie => "$next");
        done($c, $id, 0, '', [{ type => $Paged, value => $ctl->value }]);
    }
}

1;
