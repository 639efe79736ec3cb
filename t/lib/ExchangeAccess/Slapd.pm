package ExchangeAccess::Slapd;

# A private OpenLDAP slapd for the tests: its own directory, cn=config
# built with slapadd, the memberof and refint overlays, a CA and a server
# certificate made with openssl at test time, listening on 127.0.0.1 and
# 127.0.0.2 only.  Nothing under /etc/ldap or /var/lib/ldap is touched.
#
#   my $d = ExchangeAccess::Slapd->start(base => 1);
#   ... start(acl => 'to dn.exact="..." by users search')   one more rule
#   ... start(syncprov => 1)     the syncprov overlay (contextCSN)
#   ... start(log => 1)          loglevel stats into $d->{dir}/slapd.log
#   $d->modify($ldif);            # ldapmodify as the admin
#   $d->stop;
#
# Environment it sets for the test configurations:
#   TEST_NGINX_LDAP_PORT, TEST_NGINX_LDAPS_PORT, TEST_NGINX_LDAP_CA,
#   TEST_NGINX_LDAP_OTHER_CA, TEST_NGINX_LDAP_DIR

use strict;
use warnings;

use Cwd qw(cwd);
use File::Path qw(make_path remove_tree);
use Time::HiRes qw(sleep);

our $Base = 'dc=example,dc=com';
our $Admin = "cn=admin,$Base";
our $AdminPassword = 'secret';

sub run {
    my @cmd = @_;
    my $out = `@cmd 2>&1`;
    die "failed: @cmd\n$out" if $?;
    return $out;
}

sub write_file {
    my ($path, $content) = @_;
    open my $fh, '>', $path or die "$path: $!";
    print $fh $content;
    close $fh;
}

sub new_tls {
    my $d = shift;
    my $t = "$d/tls";
    make_path($t);

    run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca"
        . " -keyout $t/ca.key -out $t/ca.pem");
    run("openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1"
        . " -keyout $t/server.key -out $t/server.csr");
    write_file("$t/ext.cnf",
               "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    run("openssl x509 -req -in $t/server.csr -CA $t/ca.pem -CAkey $t/ca.key"
        . " -CAcreateserial -days 2 -extfile $t/ext.cnf -out $t/server.pem");
    run("openssl req -x509 -newkey rsa:2048 -nodes -days 2"
        . " -subj /CN=other-ca -keyout $t/other.key -out $t/other.pem");
    chmod 0644, "$t/server.key";
}

sub config_ldif {
    my ($d, $acl, $syncprov) = @_;

    # an access rule of the test's before the one that lets users read
    my $access = $acl ? "olcAccess: {1}$acl\nolcAccess: {2}"
                      : "olcAccess: {1}";

    # syncprov keeps contextCSN on the suffix entry
    my $load = $syncprov ? "olcModuleLoad: syncprov\n" : '';
    my $overlay = $syncprov
        ? "\ndn: olcOverlay={2}syncprov,olcDatabase={1}mdb,cn=config\n"
          . "objectClass: olcOverlayConfig\n"
          . "objectClass: olcSyncProvConfig\nolcOverlay: {2}syncprov\n"
        : '';

    return <<"LDIF";
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $d/slapd.pid
olcArgsFile: $d/slapd.args
olcLogLevel: none
olcTLSCACertificateFile: $d/tls/ca.pem
olcTLSCertificateFile: $d/tls/server.pem
olcTLSCertificateKeyFile: $d/tls/server.key

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: memberof
olcModuleLoad: refint
${load}
dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif
include: file://$d/adlite.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: unlimited

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: $Base
olcRootDN: $Admin
olcRootPW: $AdminPassword
olcDbDirectory: $d/data
olcDbMaxSize: 4294967296
olcDbNoSync: TRUE
olcDbIndex: objectClass eq
olcDbIndex: uid,cn,sAMAccountName,userPrincipalName eq
olcDbIndex: member,memberOf eq
olcSizeLimit: unlimited
olcLimits: * size=unlimited time=unlimited
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
${access}to * by users read by * none

dn: olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: {0}memberof
olcMemberOfRefInt: TRUE
olcMemberOfGroupOC: groupOfNames
olcMemberOfMemberAD: member
olcMemberOfMemberOfAD: memberOf
olcMemberOfDangling: ignore

dn: olcOverlay={1}refint,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcRefintConfig
olcOverlay: {1}refint
olcRefintAttribute: member
${overlay}
LDIF
}

# sAMAccountName and userPrincipalName with Active Directory's OIDs
my $adlite = <<'LDIF';
dn: cn=adlite,cn=schema,cn=config
objectClass: olcSchemaConfig
cn: adlite
olcAttributeTypes: ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcAttributeTypes: ( 1.2.840.113556.1.4.656 NAME 'userPrincipalName' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
olcAttributeTypes: ( 1.2.840.113556.1.4.8 NAME 'userAccountControl' EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
olcObjectClasses: ( 1.3.6.1.4.1.99999.2.1 NAME 'adUser' SUP top AUXILIARY MAY ( sAMAccountName $ userPrincipalName $ userAccountControl ) )
LDIF

sub user_ldif {
    my ($uid, %o) = @_;
    my $l = "dn: uid=$uid,ou=people,$Base\nobjectClass: inetOrgPerson\n"
          . "objectClass: adUser\nuid: $uid\ncn: $uid\nsn: $uid\n"
          . "sAMAccountName: $uid\nuserPrincipalName: $uid\@EXAMPLE.TEST\n"
          . "userPassword: Passw0rd!\n";
    $l .= "userAccountControl: $o{uac}\n" if defined $o{uac};
    $l .= "memberOf: $_\n" for @{ $o{memberof} || [] };
    return "$l\n";
}

sub group_ldif {
    my ($cn, @members) = @_;
    my $l = "dn: cn=$cn,ou=groups,$Base\nobjectClass: groupOfNames\ncn: $cn\n";
    $l .= "member: $_\n" for @members;
    return "$l\n";
}

sub u { "uid=$_[0],ou=people,$Base" }
sub g { "cn=$_[0],ou=groups,$Base" }

# the tree the LDAP tests share
sub base_ldif {
    my $l = "dn: $Base\nobjectClass: dcObject\nobjectClass: organization\n"
          . "dc: example\no: Example\n\n"
          . "dn: ou=people,$Base\nobjectClass: organizationalUnit\nou: people\n\n"
          . "dn: ou=groups,$Base\nobjectClass: organizationalUnit\nou: groups\n\n"
          . "dn: ou=service,$Base\nobjectClass: organizationalUnit\nou: service\n\n"
          . "dn: uid=svc-nginx,ou=service,$Base\nobjectClass: account\n"
          . "objectClass: simpleSecurityObject\nuid: svc-nginx\n"
          . "userPassword: Svc-Passw0rd\n\n";

    $l .= user_ldif($_) for qw(alice bob carol dave erin frank gina);
    $l .= user_ldif('hank', uac => 514);

    # outlook-remote: carol directly, alice through two levels, hank (disabled)
    $l .= group_ldif('level3', u('alice'));
    $l .= group_ldif('level2', g('level3'));
    $l .= group_ldif('outlook-remote', g('level2'), u('carol'), u('hank'));
    $l .= group_ldif('denied', u('bob'));
    $l .= group_ldif('empty-ish', u('dave'));

    # a cycle: cycle-a -> cycle-b -> cycle-a, with erin and frank
    $l .= group_ldif('cycle-a', u('erin'));
    $l .= group_ldif('cycle-b', g('cycle-a'), u('frank'));
    return $l;
}

# a directory of USERS users (user000001 ...), the first MEMBERS of them
# in cn=big-group
sub big_ldif {
    my ($users, $members) = @_;
    my $b = $Base;
    my @l = ("dn: $b\nobjectClass: dcObject\nobjectClass: organization\n"
             . "dc: example\no: Example\n\n",
             "dn: ou=people,$b\nobjectClass: organizationalUnit\nou: people\n\n",
             "dn: ou=groups,$b\nobjectClass: organizationalUnit\nou: groups\n\n",
             "dn: ou=service,$b\nobjectClass: organizationalUnit\nou: service\n\n",
             "dn: uid=svc-nginx,ou=service,$b\nobjectClass: account\n"
             . "objectClass: simpleSecurityObject\nuid: svc-nginx\n"
             . "userPassword: Svc-Passw0rd\n\n");

    for my $i (1 .. $users) {
        my $u = sprintf('user%06d', $i);
        push @l, "dn: uid=$u,ou=people,$b\nobjectClass: inetOrgPerson\n"
               . "objectClass: adUser\nuid: $u\ncn: $u\nsn: $u\n"
               . "sAMAccountName: $u\nuserPrincipalName: $u\@EXAMPLE.TEST\n\n";
    }

    push @l, "dn: cn=big-group,ou=groups,$b\nobjectClass: groupOfNames\n"
           . "cn: big-group\n"
           . join('', map { sprintf("member: uid=user%06d,ou=people,$b\n", $_) }
                      1 .. $members)
           . "\n";

    return join '', @l;
}

sub start {
    my ($class, %o) = @_;

    my $d = $o{dir}
            || ($ENV{TEST_NGINX_SCRATCH} || cwd() . '/t') . '/servroot-slapd';
    my $port = $ENV{TEST_NGINX_LDAP_PORT} ||= 19389;
    my $sport = $ENV{TEST_NGINX_LDAPS_PORT} ||= 19636;

    my $self = bless { dir => $d, port => $port, sport => $sport,
                       log => $o{log} }, $class;

    $self->stop_pidfile;
    remove_tree($d);
    make_path("$d/config", "$d/data");

    new_tls($d);
    write_file("$d/adlite.ldif", $adlite);
    write_file("$d/config.ldif", config_ldif($d, $o{acl}, $o{syncprov}));
    run("slapadd -n0 -F $d/config -l $d/config.ldif");

    if ($o{ldif}) {
        write_file("$d/data.ldif", $o{ldif});
        run("slapadd -q -n1 -F $d/config -l $d/data.ldif");
    }

    $self->launch;

    if ($o{base}) {
        $self->add(base_ldif());

        # close the cycle: cycle-a -> cycle-b -> cycle-a
        $self->modify("dn: " . g('cycle-a') . "\nchangetype: modify\n"
                      . "add: member\nmember: " . g('cycle-b') . "\n");
    }

    $ENV{TEST_NGINX_LDAP_CA} = "$d/tls/ca.pem";
    $ENV{TEST_NGINX_LDAP_OTHER_CA} = "$d/tls/other.pem";
    $ENV{TEST_NGINX_LDAP_DIR} = $d;
    $ENV{LDAPTLS_CACERT} = "$d/tls/ca.pem";

    return $self;
}

sub launch {
    my $self = shift;
    my ($d, $port, $sport) = @$self{qw(dir port sport)};

    my $pid = $self->pid;
    return if $pid && kill 0, $pid;

    my $urls = "'ldap://127.0.0.1:$port/ ldaps://127.0.0.1:$sport/ "
             . "ldaps://127.0.0.2:$sport/'";

    if ($self->{log}) {
        # in the foreground, its stats log to a file, in the background
        system("slapd -F $d/config -h $urls -d stats "
               . ">>$d/slapd.log 2>&1 &");
    } else {
        run("slapd -F $d/config -h $urls");
    }

    for (1 .. 100) {
        return if system("ldapsearch -x -H ldap://127.0.0.1:$port -s base "
                         . "-b '' namingContexts >/dev/null 2>&1") == 0;
        sleep 0.05;
    }

    die "slapd did not start\n";
}

sub pid {
    my $self = shift;
    open my $fh, '<', "$self->{dir}/slapd.pid" or return undef;
    my $pid = <$fh>;
    chomp $pid if defined $pid;
    return $pid;
}

sub stop_pidfile {
    my $self = shift;
    local $?;
    my $pid = $self->pid or return;
    kill 'TERM', $pid;

    for (1 .. 100) {
        last unless kill 0, $pid;
        sleep 0.05;
    }

    unlink "$self->{dir}/slapd.pid";
}

sub stop { $_[0]->stop_pidfile }

# the server stops answering: stopped, not killed, so it keeps its port
sub pause { kill 'STOP', $_[0]->pid }
sub resume { kill 'CONT', $_[0]->pid }

sub ldap_cmd {
    my ($self, $tool, $ldif) = @_;
    my $f = "$self->{dir}/change.ldif";
    write_file($f, $ldif);
    run("$tool -x -c -H ldap://127.0.0.1:$self->{port} -D '$Admin'"
        . " -w $AdminPassword -f $f");
}

sub add { $_[0]->ldap_cmd('ldapadd', $_[1]) }
sub modify { $_[0]->ldap_cmd('ldapmodify', $_[1]) }

sub DESTROY {
    my $self = shift;
    $self->stop_pidfile if $self->{owner} && $$ == $self->{owner};
}

1;
