package ExchangeAccess::Samba;

# A private Samba Active Directory domain controller for the tests: domain
# EXAMPLE, realm EXAMPLE.TEST, provisioned into its own directory, serving
# LDAP on one loopback address only (ports 389 and 636 are fixed there).
#
#   my $dc = ExchangeAccess::Samba->start(bulk => 1200);
#   ... start(single => 1)     one process (samba -M single): every LDAP
#                              connection sees every write through LDAP
#   ... start(query_duration => 900)
#                              searches may run 900 s (the domain's query
#                              policy, MaxQueryDuration: 120 s by default,
#                              then a search fails with "Operations error")
#   ... start(dir => D, reuse => 1)
#                              a directory D that an earlier start with the
#                              same bulk and nest made complete is started
#                              as it is, not provisioned again
#
# Users alice bob carol dave erin (erin disabled), groups Outlook Remote >
# Outlook Nested > alice, Outlook Remote > carol and erin, Denied > bob, and
# with bulk => N a group "Big Group" of N users bulk00001...; with nest => K
# as well, the users are members of K groups "Big Group 1"... that are
# members of "Big Group".

use strict;
use warnings;

use Cwd qw(cwd);
use File::Path qw(make_path remove_tree);
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(sleep);

our $AdminPassword = 'Adm1nPassw0rd!';
our $Base = 'DC=example,DC=test';

sub run {
    my $cmd = shift;
    my $out = `$cmd 2>&1`;
    die "failed: $cmd\n$out" if $?;
    return $out;
}

# a daemon that a package started may hold the LDAP port: stop it
sub free_port {
    my ($ip, $port) = @_;

    for my $pidfile ('/run/slapd/slapd.pid', '/run/samba/samba.pid',
                     '/var/run/samba/samba.pid')
    {
        my $s = IO::Socket::INET->new(LocalAddr => $ip, LocalPort => $port,
                                      ReuseAddr => 1, Proto => 'tcp');
        if ($s) {
            close $s;
            return 1;
        }

        next unless open my $fh, '<', $pidfile;
        my $pid = <$fh>;
        chomp $pid if defined $pid;
        next unless $pid && $pid =~ /^\d+$/;
        kill 'TERM', $pid;
        for (1 .. 50) { last unless kill 0, $pid; sleep 0.1; }
    }

    my $s = IO::Socket::INET->new(LocalAddr => $ip, LocalPort => $port,
                                  ReuseAddr => 1, Proto => 'tcp');
    return $s ? 1 : 0;
}

sub start {
    my ($class, %o) = @_;

    my $ip = $o{ip} || '127.0.0.1';
    my $d = $o{dir}
            || ($ENV{TEST_NGINX_SCRATCH} || cwd() . '/t') . '/servroot-samba';
    my $self = bless { dir => $d, ip => $ip, single => $o{single} }, $class;

    $self->stop;

    free_port($ip, 389) && free_port($ip, 636)
        or die "ports 389 and 636 of $ip are in use\n";

    my $made = sprintf("bulk %d nest %d query %d\n", $o{bulk} || 0,
                       $o{nest} || 0, $o{query_duration} || 0);

    $self->{conf} = "$d/etc/smb.conf";

    if ($o{reuse} && open my $fh, '<', "$d/complete") {
        my $was = <$fh> // '';
        close $fh;
        $self->{reused} = $was eq $made;
    }

    $self->provision(\%o) unless $self->{reused};
    $self->launch;

    unless ($self->{reused}) {
        $self->seed;

        open my $done, '>', "$d/complete" or die "$d/complete: $!";
        print $done $made;
        close $done;
    }

    $ENV{TEST_NGINX_AD_IP} = $ip;
    $ENV{TEST_NGINX_AD_CA} = "$d/tls/cert.pem";

    return $self;
}

# a new domain in the directory, with the users of bulk, not running
sub provision {
    my ($self, $o) = @_;
    my ($d, $ip) = @$self{qw(dir ip)};

    remove_tree($d);
    make_path($d);

    run("samba-tool domain provision --realm=EXAMPLE.TEST --domain=EXAMPLE"
        . " --server-role=dc --dns-backend=NONE --use-rfc2307"
        . " --adminpass='$AdminPassword' --host-name=DC1 --targetdir=$d"
        . " --option='interfaces=$ip' --option='bind interfaces only=yes'");

    make_path("$d/tls", "$d/run");
    run("openssl req -x509 -newkey rsa:2048 -nodes -days 2"
        . " -subj /CN=dc1.example.test"
        . " -addext 'subjectAltName=IP:$ip,DNS:dc1.example.test'"
        . " -keyout $d/tls/key.pem -out $d/tls/cert.pem");
    chmod 0600, "$d/tls/key.pem";

    my $conf = $self->{conf};
    open my $fh, '<', $conf or die "$conf: $!";
    local $/;
    my $c = <$fh>;
    close $fh;

    $c =~ s/\tserver services = [^\n]*\n/\tserver services = ldap, cldap, kdc, rpc\n/;
    $c =~ s/\tlog file = [^\n]*\n/\tlog file = $d\/log.%m\n/;
    $c =~ s{\tpath = /var/lib/samba/printers\n}{\tpath = $d/printers\n};
    $c =~ s/\[global\]\n/[global]\n\tldap server require strong auth = no\n\tdisable netbios = yes\n\tsmb ports = 1445\n\ttls enabled = yes\n\ttls keyfile = $d\/tls\/key.pem\n\ttls certfile = $d\/tls\/cert.pem\n\ttls cafile = \n\tpid directory = $d\/run\n/;

    open $fh, '>', $conf or die "$conf: $!";
    print $fh $c;
    close $fh;

    if ($o->{bulk}) {
        $self->bulk($o->{bulk}, $o->{nest});
    }

    if ($o->{query_duration}) {
        $self->query_duration($o->{query_duration});
    }
}

# many users at once, offline: ldbadd into the database before samba runs;
# in ldb's batch mode the adds share one transaction and its index cache
# (without it every add copies the index lists, and 10,000 users take
# minutes)
sub bulk {
    my ($self, $n, $nest) = @_;
    my $d = $self->{dir};
    my $l = '';
    my @top;

    for my $i (1 .. $n) {
        my $u = sprintf('bulk%05d', $i);
        $l .= "dn: CN=$u,CN=Users,$Base\nobjectClass: user\n"
            . "sAMAccountName: $u\nuserPrincipalName: $u\@example.test\n\n";
    }

    my @users = map { sprintf("CN=bulk%05d,CN=Users,$Base", $_) } 1 .. $n;

    if ($nest) {
        for my $g (1 .. $nest) {
            my $cn = "Big Group $g";
            $l .= "dn: CN=$cn,CN=Users,$Base\nobjectClass: group\n"
                . "sAMAccountName: $cn\n"
                . join('', map { "member: $users[$_]\n" }
                           grep { $_ % $nest == $g - 1 } 0 .. $#users)
                . "\n";
            push @top, "CN=$cn,CN=Users,$Base";
        }

    } else {
        @top = @users;
    }

    $l .= "dn: CN=Big Group,CN=Users,$Base\nobjectClass: group\n"
        . "sAMAccountName: Big Group\n"
        . join('', map { "member: $_\n" } @top)
        . "\n";

    open my $fh, '>', "$d/bulk.ldif" or die;
    print $fh $l;
    close $fh;

    run("ldbadd -H $d/private/sam.ldb $d/bulk.ldif --nosync -o batch_mode:true");
}

# offline, the default query policy's MaxQueryDuration (provisioned as 120)
sub query_duration {
    my ($self, $secs) = @_;
    my $d = $self->{dir};

    open my $fh, '>', "$d/policy.ldif" or die;
    print $fh "dn: CN=Default Query Policy,CN=Query-Policies,"
        . "CN=Directory Service,CN=Windows NT,CN=Services,CN=Configuration,"
        . "$Base\nchangetype: modify\ndelete: lDAPAdminLimits\n"
        . "lDAPAdminLimits: MaxQueryDuration=120\n-\nadd: lDAPAdminLimits\n"
        . "lDAPAdminLimits: MaxQueryDuration=$secs\n-\n";
    close $fh;

    run("ldbmodify -H $d/private/sam.ldb $d/policy.ldif");
}

sub launch {
    my $self = shift;
    my ($d, $ip) = @$self{qw(dir ip)};

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        POSIX::setsid();
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', "$d/samba.out";
        open STDERR, '>&', \*STDOUT;
        my @model = $self->{single} ? ('-M', 'single') : ();
        { exec "samba", "-i", @model, "-s", $self->{conf}, "--debug-stdout",
               "-d1" };
        POSIX::_exit(127);
    }

    $self->{pid} = $pid;
    $self->{owner} = $$;

    for (1 .. 150) {
        return if system("ldapsearch -x -H ldap://$ip -s base -b ''"
                         . " dnsHostName >/dev/null 2>&1") == 0;
        sleep 0.2;
    }

    die "samba did not start\n";
}

sub tool {
    my ($self, $args) = @_;
    run("samba-tool $args -s $self->{conf}");
}

sub seed {
    my $self = shift;

    for my $u (qw(alice bob carol dave erin svc-nginx)) {
        $self->tool("user create $u 'Passw0rd!'");
    }

    $self->tool("user disable erin");
    $self->tool("group add 'Outlook Remote'");
    $self->tool("group add 'Outlook Nested'");
    $self->tool("group add Denied");
    $self->tool("group add Nobody");
    $self->tool("group addmembers 'Outlook Nested' alice");
    $self->tool("group addmembers 'Outlook Remote' 'Outlook Nested',carol,erin");
    $self->tool("group addmembers Denied bob");
}

sub stop {
    my $self = shift;
    local $?;
    my $pid = $self->{pid} or return;
    kill 'TERM', $pid;

    for (1 .. 100) {
        last if waitpid($pid, POSIX::WNOHANG()) == $pid;
        sleep 0.1;
    }

    kill 'KILL', -$pid;
    $self->{pid} = undef;
}

sub DESTROY {
    my $self = shift;
    $self->stop if $self->{owner} && $self->{owner} == $$;
}

1;
