package ExchangeAccess::NtlmBackend;

# A real NTLM server behind nginx: Apache httpd with mod_auth_gssapi and
# gss-ntlmssp, connection-bound like IIS (ntlm-backend.sh in this folder).
# It checks the password, needs all three legs on one TCP connection,
# serves later requests of that connection as the user, and answers with
# the user and the port of the connection it came on:
#
#   user=EXAMPLE\alice port=51630 method=GET uri=/mapi/ mech=NTLM/NTLM body=0
#   X-Backend-Peer: 127.0.0.1:51630    X-Backend-User: EXAMPLE\alice
#
# "stream=N" in the query string streams a line a second for N seconds.
#
#   my $b = ExchangeAccess::NtlmBackend->start(name => 'ntlm', port => 23800);
#   my $b = ExchangeAccess::NtlmBackend->start(name => 'ntlms', port => 23801,
#                                              tls => 1);
#   $b->connections;      # TCP connections from nginx to it, established
#   ExchangeAccess::NtlmBackend::wait_connections($port, 0);
#   $b->access_log;       # one line a request: peer port, user, NTLM leg
#   $b->stop;

use strict;
use warnings;

use Cwd qw(cwd);
use Time::HiRes qw(sleep);

my $Script = cwd() . '/t/lib/ExchangeAccess/ntlm-backend.sh';

our @Users = map { "EXAMPLE\\$_" } qw(alice bob carol dave);

sub start {
    my ($class, %o) = @_;

    my $d = ($ENV{TEST_NGINX_SCRATCH} || cwd() . '/t') . '/servroot-'
            . ($o{name} || 'ntlm');
    my $port = $o{port} || 23800;

    my $self = bless { dir => $d, port => $port, owner => $$ }, $class;

    $self->stop;

    local $ENV{KEEPALIVE_TIMEOUT} = $o{keepalive_timeout}
        if $o{keepalive_timeout};

    my $cmd = "bash $Script start $d $port" . ($o{tls} ? ' --tls' : '')
              . join('', map { " '$_'" } @{ $o{users} || \@Users });
    my $out = `$cmd 2>&1`;
    die "the NTLM backend did not start:\n$out" if $?;

    return $self;
}

sub stop {
    my $self = shift;
    local $?;
    system("bash $Script stop $self->{dir} >/dev/null 2>&1")
        if -e "$self->{dir}/run/httpd.pid";
}

sub port { $_[0]{port} }
sub dir { $_[0]{dir} }
sub cert { "$_[0]{dir}/tls/cert.pem" }

# TCP connections from nginx (or anyone) to the backend that nginx has not
# closed: established, or closed by the backend only (CLOSE-WAIT);
# $b->connections or ExchangeAccess::NtlmBackend::connections($port)
sub connections {
    my $port = ref $_[0] ? $_[0]{port} : $_[0];
    my $filter = "'( dport = :$port )'";
    my @l = grep { /\S/ }
            `ss -Htn state established state close-wait $filter`;
    return scalar @l;
}

# waits up to 5 seconds for the count to become $want; returns the count
sub wait_connections {
    my ($port, $want) = @_;
    my $n;

    for (1 .. 100) {
        $n = connections($port);
        return $n if $n == $want;
        sleep 0.05;
    }

    return $n;
}

sub access_log {
    my $self = shift;
    open my $fh, '<', "$self->{dir}/logs/access.log" or return '';
    local $/;
    return scalar <$fh>;
}

sub DESTROY {
    my $self = shift;
    $self->stop if $self->{owner} && $$ == $self->{owner};
}

1;
