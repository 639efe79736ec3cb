# example-nginx.conf is a working configuration: with its paths and ports
# moved to a private prefix (util/localize.pl, as the demo does), it passes
# "nginx -t" with the module loaded, and it proxies and denies as it says.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use ExchangeAccess::Fixture ();
use Time::HiRes qw(sleep);

my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';
my $so = $ENV{TEST_NGINX_LOAD_MODULES} || '-';    # -: compiled in
my $p = ($ENV{TEST_NGINX_SCRATCH} || "$ENV{PWD}/t") . '/servroot-example';
my $port = $ENV{TEST_NGINX_SERVER_PORT} || 1984;
my ($https, $http, $backend) = ($port + 10, $port + 11, $port + 12);

system("rm -rf $p; mkdir -p $p/conf/ssl $p/logs $p/tmp") == 0 or die;

system("openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
       . "-subj /CN=mail.example.com -addext "
       . "'subjectAltName=DNS:mail.example.com,DNS:exchange.corp.example.com' "
       . "-keyout $p/conf/ssl/mail.example.com.key "
       . "-out $p/conf/ssl/mail.example.com.pem 2>/dev/null") == 0
    or die "openssl failed";
system("cp $p/conf/ssl/mail.example.com.pem $p/conf/ssl/exchange-ca.pem");
system("cp /etc/nginx/mime.types $p/conf/mime.types") == 0 or die;

open my $fh, '>', "$p/conf/outlook_remote.txt" or die;
print $fh "alice\n";
close $fh;

open $fh, '>', "$p/conf/backend.conf" or die;
print $fh <<"CONF";
server {
    listen 127.0.0.1:$backend ssl;
    ssl_certificate $p/conf/ssl/mail.example.com.pem;
    ssl_certificate_key $p/conf/ssl/mail.example.com.key;
    location / {
        return 200 "backend: \$request_method \$request_uri\\n";
    }
    location = /owa/headers {
        return 200 "be=[\$http_x_beresource] logon=[\$http_x_owa_explicitlogonuser] cat=[\$http_x_rps_cat]\\n";
    }
}
CONF
close $fh;

my $conf = `perl util/localize.pl $p $so $https $http $backend < example-nginx.conf`;
is($?, 0, 'localize.pl found every line it rewrites');

open $fh, '>', "$p/conf/nginx.conf" or die;
print $fh $conf;
close $fh;

# in the sanitizer mode (TEST_NGINX_USE_ASAN) reports go to a folder of
# their own, checked after nginx stopped
Test::Nginx::Socket::sanitizer_begin('example');

# output into a file, not a pipe that a process nginx starts could hold
sub nginx {
    my $args = shift;

    # sanitized: leaks are looked for in the server, not in "nginx -t";
    # a full unwind names the upstream TLS session nginx keeps at exit
    # (t/sanitizer/lsan.supp)
    local $ENV{ASAN_OPTIONS} = Test::Nginx::Socket::sanitizer_options(1)
                               . ':fast_unwind_on_malloc=0'
        if $ENV{TEST_NGINX_USE_ASAN} && $args eq '';

    system("$nginx -p $p -c $p/conf/nginx.conf $args > $p/logs/out 2>&1");
    my $rc = $?;
    return ($rc, scalar `cat $p/logs/out`);
}

my ($rc, $out) = nginx('-t');
is($rc, 0, 'example-nginx.conf passes nginx -t') or diag($out);
like($out, qr/syntax is ok/, 'nginx says the syntax is ok');

($rc, $out) = nginx('');
is($rc, 0, 'nginx starts with example-nginx.conf') or diag($out);

for (1 .. 50) {
    last if `curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$http/` eq '301';
    sleep 0.1;
}

my $c = "curl -s -o /dev/null -w '%{http_code}' --cacert $p/conf/ssl/exchange-ca.pem "
      . "--resolve mail.example.com:$https:127.0.0.1";
my $u = "https://mail.example.com:$https";

is(`$c -u 'EXAMPLE\\alice:pw' -X POST $u/mapi/emsmdb/`, '200',
   'a member reaches /mapi/ through TLS to the backend');
is(`$c -u 'EXAMPLE\\bob:pw' -X POST $u/mapi/emsmdb/`, '403',
   'a non-member is denied /mapi/');
is(`$c -u 'OTHER\\alice:pw' -X POST $u/mapi/emsmdb/`, '403',
   'a name of another domain is denied (exchange_access_domain)');
is(`$c -u 'EXAMPLE\\bob:pw' -X RPC_IN_DATA '$u/rpc/rpcproxy.dll?x:6001'`, '403',
   'a non-member is denied /rpc/');
is(`$c --interface 127.0.0.2 -u 'EXAMPLE\\bob:pw' -X POST $u/mapi/emsmdb/`, '200',
   'an internal client is not restricted');
is(`$c -u 'EXAMPLE\\bob:pw' $u/owa/`, '200', 'OWA is not restricted');
is(`$c -u 'EXAMPLE\\alice:pw' $u/PowerShell/`, '403',
   'remote PowerShell is closed from outside');

# the routing headers of ProxyLogon and OWASSRF: refused from outside,
# removed before Exchange from inside
is(`$c -u 'EXAMPLE\\bob:pw' -H 'X-BEResource: localhost/owa/auth/logon.aspx?~3' $u/owa/`,
   '403', 'X-BEResource from outside is refused');
is(`$c -u 'EXAMPLE\\bob:pw' -H 'X-OWA-ExplicitLogonUser: owa/x\@y.com' $u/owa/x\@y.commapi/emsmdb/`,
   '403', 'OWASSRF by X-OWA-ExplicitLogonUser is refused');
(my $cb = $c) =~ s/-o \/dev\/null -w '%\{http_code\}' //;
is(`$cb --interface 127.0.0.2 -H 'X-BEResource: x' -H 'X-OWA-ExplicitLogonUser: a\@b.c' -H 'X-Rps-CAT: y' $u/owa/headers`,
   "be=[] logon=[] cat=[]\n", 'the example removes them before Exchange');

my $status = `curl -s --cacert $p/conf/ssl/exchange-ca.pem --resolve mail.example.com:$https:127.0.0.1 $u/exchange-access-status`;
like($status, qr/"outlook_remote":\{"source":"file","loaded_from":"file","state":"ok","entries":1,.*"mapi":\{"pass":\d+,"allow":1,"deny":2,/,
     'the status page answers from 127.0.0.1');

my $log = do { local (@ARGV, $/) = "$p/logs/exchange.log"; <> };
like($log, qr/protocol=mapi user=bob access=deny reason=not_member/,
     'the access log says who was denied and why');

my $pid = `cat $p/logs/nginx.pid`;
chomp $pid;
if ($pid) {
    kill 'QUIT', $pid;
    for (1 .. 100) {
        last unless kill 0, $pid;
        last if `cat /proc/$pid/stat 2>/dev/null` =~ /^\d+ \(.*\) [ZX] /s;
        sleep 0.05;
    }
}

Test::Nginx::Socket::sanitizer_check('example-nginx.conf')
    if $ENV{TEST_NGINX_USE_ASAN};

done_testing();
