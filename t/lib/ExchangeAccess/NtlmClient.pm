package ExchangeAccess::NtlmClient;

# One keep-alive HTTP/1.1 client connection to the nginx under test that
# runs real NTLM handshakes (Authen::NTLM, NTLMv1) against the backend
# behind it, sends requests one at a time or pipelined, and forges
# credentials for the tests that try to fool the module.
#
#   my $c = ExchangeAccess::NtlmClient->new;
#   my ($r1, $r3) = $c->handshake('POST /mapi/emsmdb/', 'alice');
#   my $r = $c->request('POST /mapi/emsmdb/');      # no Authorization
#   my @r = $c->pipeline(['GET /a'], ['GET /b']);
#   $r->{code}, $r->{h}{'x-backend-user'}, $r->{body}

use strict;
use warnings;

use Authen::NTLM ();
use ExchangeAccess::NtlmBackend ();
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);
use Test::Nginx::Socket ();

our $Password = 'Passw0rd!';

# a connection the other end closed is a failed answer, not a dead test
$SIG{PIPE} = 'IGNORE';

sub new {
    my ($class, %o) = @_;

    my $sock = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1',
        PeerPort => $o{port} || $ENV{TEST_NGINX_SERVER_PORT},
        Proto => 'tcp', Timeout => 5)
        or die "connect: $!\n";

    binmode $sock;

    return bless { sock => $sock, timeout => $o{timeout} || 10 }, $class;
}

sub sock { $_[0]{sock} }

sub close {
    my $self = shift;
    close $self->{sock} if $self->{sock};
    delete $self->{sock};
}

sub raw {
    my ($self, $req, @headers) = @_;
    return Test::Nginx::Socket::build_request($req, join("\n", @headers), 1);
}

sub send {
    my ($self, $data) = @_;
    Test::Nginx::Socket::send_all($self->{sock}, $data);
}

# reads one answer; what the server sent beyond it (the next answers of
# pipelined requests) stays for the next call
sub response {
    my $self = shift;
    my $sock = $self->{sock} or return { error => 'closed' };
    my $sel = IO::Select->new($sock);
    my $deadline = time + $self->{timeout};
    my $buf = \$self->{buf};
    $$buf //= '';

    my $fill = sub {
        my $left = $deadline - time;
        return 0 if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($sock, $$buf, 65536, length $$buf);
        return $n ? 1 : 0;
    };

    while ($$buf !~ /\r\n\r\n/) {
        $fill->() or return { error => 'no answer' };
    }

    $$buf =~ s/^(.*?)\r\n\r\n//s;
    my ($status_line, @lines) = split /\r\n/, $1;
    my ($code) = $status_line =~ m{^HTTP/\d\.\d\s+(\d+)};
    my @headers = map { /^([^:]+):\s*(.*)$/ ? [$1, $2] : () } @lines;
    my %h = map { lc($_->[0]) => $_->[1] } @headers;
    my $body = '';

    if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
        for (;;) {
            while ($$buf !~ /\r\n/) {
                $fill->() or return { error => 'truncated chunk' };
            }
            $$buf =~ s/^([0-9a-fA-F]+)[^\r]*\r\n//
                or return { error => 'bad chunk' };
            my $size = hex $1;
            while (length $$buf < $size + 2) {
                $fill->() or return { error => 'truncated chunk' };
            }
            $body .= substr($$buf, 0, $size);
            substr($$buf, 0, $size + 2) = '';
            last if $size == 0;
        }

    } else {
        my $len = $h{'content-length'} // 0;
        while (length $$buf < $len) {
            $fill->() or return { error => 'truncated body' };
        }
        $body = substr($$buf, 0, $len);
        substr($$buf, 0, $len) = '';
    }

    return { code => $code, headers => \@headers, h => \%h, body => $body };
}


# "METHOD /path[\nbody]", then header lines
sub request {
    my ($self, $req, @headers) = @_;
    $self->send($self->raw($req, @headers));
    return $self->response;
}

# all requests written at once, then the answers read in order
sub pipeline {
    my ($self, @reqs) = @_;
    $self->send(join '', map { $self->raw(@$_) } @reqs);
    return map { $self->response } @reqs;
}

sub type1 {
    Authen::NTLM::ntlm_reset();
    Authen::NTLM::ntlm_user('x');
    Authen::NTLM::ntlm_domain('EXAMPLE');
    Authen::NTLM::ntlm_password('x');
    Authen::NTLM::ntlmv2(0);
    return Authen::NTLM::ntlm();
}

# a Type 3 answering $challenge (base64) for EXAMPLE\user
sub type3 {
    my ($user, $challenge, $password) = @_;
    Authen::NTLM::ntlm_reset();
    Authen::NTLM::ntlm_user($user);
    Authen::NTLM::ntlm_domain('EXAMPLE');
    Authen::NTLM::ntlm_password($password // $Password);
    Authen::NTLM::ntlmv2(0);
    Authen::NTLM::ntlm();
    return Authen::NTLM::ntlm($challenge);
}

sub challenge {
    my $r = shift;

    for my $h (@{ $r->{headers} || [] }) {
        return $1 if lc $h->[0] eq 'www-authenticate'
                     && $h->[1] =~ /^(?:NTLM|Negotiate)\s+(\S+)/;
    }

    return undef;
}

# Type 1 and Type 3 on this connection; returns both answers
sub handshake {
    my ($self, $req, $user, %o) = @_;
    my $scheme = $o{scheme} || 'NTLM';

    my $r1 = $self->request($req, "Authorization: $scheme " . type1(),
                            @{ $o{headers} || [] });
    my $c = challenge($r1);

    return ($r1, undef) unless defined $c;

    my $r3 = $self->request($o{req3} || $req,
                            "Authorization: $scheme "
                            . type3($user, $c, $o{password}),
                            @{ $o{headers} || [] });
    return ($r1, $r3);
}

# raw bytes as they come, until the bytes read match $re or $secs pass;
# returns 'match', 'closed' (the other end closed) or 'timeout'
sub wait_for {
    my ($self, $re, $secs) = @_;
    my $sock = $self->{sock} or return 'closed';
    my $sel = IO::Select->new($sock);
    my $deadline = time + $secs;
    $self->{buf} //= '';

    for (;;) {
        return 'match' if $self->{buf} =~ $re;

        my $left = $deadline - time;
        return 'timeout' if $left <= 0 || !$sel->can_read($left);

        my $n = sysread($sock, $self->{buf}, 65536, length $self->{buf});
        return 'closed' unless $n;
    }
}

# Revocation: alice and carol each stream an RPC_OUT_DATA channel, alice
# also has an idle connection the backend accepted her on; $remove (a
# shell command) takes alice off the list.  Prints what happened.
sub revocation {
    my ($remove, $refresh) = @_;
    my $rpc = 'RPC_OUT_DATA /rpc/rpcproxy.dll?exch:6001&stream=30';
    my %stream;

    for my $u (qw(alice carol)) {
        my $c = ExchangeAccess::NtlmClient->new;
        my $r1 = $c->request($rpc, 'Content-Length: 0',
                             'Authorization: NTLM ' . type1());
        $c->send($c->raw($rpc, 'Content-Length: 0', 'Authorization: NTLM '
                         . type3($u, challenge($r1))));
        print "$u channel: ", $c->wait_for(qr/tick 1 user=EXAMPLE\\$u/, 5),
              "\n";
        $stream{$u} = $c;
    }

    my $idle = ExchangeAccess::NtlmClient->new;
    my ($r1, $r3) = $idle->handshake('POST /mapi/emsmdb/', 'alice');
    print "alice idle connection: $r3->{code}\n";

    my $port = $ENV{TEST_NGINX_NTLM_PORT};
    print "backend connections: ",
          ExchangeAccess::NtlmBackend::connections($port), "\n";

    my $t0 = time;
    system($remove) == 0 or print "the removal failed\n";

    my $alice = $stream{alice}->wait_for(qr/tick 30 /, $refresh + 3);
    my $took = time - $t0;
    print "alice channel: $alice ",
          ($took <= $refresh + 2 ? "within" : "after"),
          " one refresh interval and a second\n";

    # carol's channel goes on: two more ticks than it had when alice's ended
    my $carol = $stream{carol};
    $carol->wait_for(qr/^\z.\A/, 0.2);
    my ($last) = $carol->{buf} =~ /.*tick (\d+) /s;
    my $next = ($last // 0) + 2;
    print "carol channel: ", $carol->wait_for(qr/tick $next user=/, 4),
          "\n";

    print "backend connections: ",
          ExchangeAccess::NtlmBackend::wait_connections($port, 1), "\n";

    my $r = $idle->request('POST /mapi/emsmdb/');
    print "alice idle connection, next request: $r->{code}, then ",
          $idle->wait_for(qr/^\z.\A/, 2), "\n";
}


# the backend's port for the connection that served $r
sub peer_port {
    my $r = shift;
    my $p = $r->{h}{'x-backend-peer'} // '';
    return $p =~ /:(\d+)$/ ? $1 : '';
}

sub DESTROY { $_[0]->close }

1;
