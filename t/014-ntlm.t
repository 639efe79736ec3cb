# NTLM and Negotiate through nginx to a real NTLM server (Apache httpd with
# mod_auth_gssapi and gss-ntlmssp, connection-bound like IIS), with
# exchange_access_ntlm pinning an upstream connection to each client
# connection: handshakes over HTTP and HTTPS, many clients at once, the
# balancers, closes and timeouts, what the module decides on the identity
# the backend accepted, and sessions ended when a user leaves the list.

use lib 't/lib';
use Test::Nginx::Socket;
use ExchangeAccess::Fixture;
use ExchangeAccess::NtlmBackend;
use ExchangeAccess::Slapd;

repeat_each(1);

$ENV{TEST_NGINX_NTLM_PORT} ||= 23800;
$ENV{TEST_NGINX_NTLMS_PORT} ||= 23801;
$ENV{TEST_NGINX_NTLM2_PORT} ||= 23802;
$ENV{TEST_NGINX_NTLM_SHORT_PORT} ||= 23803;
$ENV{TEST_NGINX_H2_PORT} ||= 1986;

our @Backends = (
    ExchangeAccess::NtlmBackend->start(name => 'ntlm',
                                       port => $ENV{TEST_NGINX_NTLM_PORT}),
    ExchangeAccess::NtlmBackend->start(name => 'ntlms', tls => 1,
                                       port => $ENV{TEST_NGINX_NTLMS_PORT}),
    ExchangeAccess::NtlmBackend->start(name => 'ntlm2',
                                       port => $ENV{TEST_NGINX_NTLM2_PORT}),
    ExchangeAccess::NtlmBackend->start(name => 'ntlm-short',
                                    port => $ENV{TEST_NGINX_NTLM_SHORT_PORT},
                                    keepalive_timeout => 1),
);

$ENV{TEST_NGINX_NTLM_DIR} = $Backends[0]->dir;

# a directory for the LDAP group of the revocation test
our $Slapd = ExchangeAccess::Slapd->start(base => 1);
$Slapd->{owner} = $$;
$ENV{TEST_NGINX_NTLMS_CERT} = $Backends[1]->cert;

our ($Minor, $Patch) = `$ENV{TEST_NGINX_BINARY} -v 2>&1` =~ m{nginx/1\.(\d+)\.(\d+)};
sub since { my ($m, $p) = @_; $Minor > $m || ($Minor == $m && $Patch >= $p) }

# HTTP/2 over TLS (curl 7.88 does not reuse a prior-knowledge h2c
# connection): "listen ... http2" before 1.25.1, "http2 on" since
our $H2Listen = since(25, 1)
                ? "listen 127.0.0.1:$ENV{TEST_NGINX_H2_PORT} ssl;\n    http2 on;"
                : "listen 127.0.0.1:$ENV{TEST_NGINX_H2_PORT} ssl http2;";

sub h2_cert {
    my $d = $ENV{TEST_NGINX_HTML_DIR};
    system("openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
           . "-subj /CN=127.0.0.1 -keyout $d/h2.key -out $d/h2.pem "
           . "2>/dev/null") == 0 or die "openssl failed";
}

# since 1.29.7 nginx keeps upstream connections in a cache shared by all
# clients by default, and speaks HTTP/1.1 to upstreams
our $Stock = since(29, 7)
    ? "alice: 200 EXAMPLE\\alice\nanother client, no credential: 200 EXAMPLE\\alice\n"
    : "alice: 401 \nanother client, no credential: 401 \n";

our $Http = <<'CONF';
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
        refresh 1s;
    }

    upstream ntlm {
        server 127.0.0.1:$TEST_NGINX_NTLM_PORT;
        exchange_access_ntlm;
    }
CONF

our $Location = <<'CONF';
    proxy_http_version 1.1;
    proxy_set_header Connection "";

    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://ntlm;
    }
CONF

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('user_files', ">>> remote.txt\nalice\ncarol\ndave\n")
        unless defined $block->user_files;
    $block->set_value('http_config', $block->http_config . $Http)
        unless $block->has('no_ntlm_http');
    $block->set_value('config', $Location) unless defined $block->config;
    $block->set_value('no_error_log', "[warn]\n[error]\n[crit]\n[alert]\n")
        unless defined $block->no_error_log;
});

run_tests();

__DATA__

=== TEST 1: curl --ntlm: a member's handshake ends in 200, and the next request on the connection is served as the member on the same backend connection
--- exec
curl -s -d '' --ntlm -u 'EXAMPLE\alice:Passw0rd!' -w '%{http_code} %{num_connects}\n' \
     http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mapi/emsmdb/ \
     http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mapi/nspi/
--- exec_stdout_like eval
qr{^user=EXAMPLE\\alice port=(\d+) method=POST uri=/mapi/emsmdb/ mech=NTLM/NTLM body=0
200 1
user=EXAMPLE\\alice port=\1 method=POST uri=/mapi/nspi/ mech=NTLM/NTLM body=0
200 0
$}



=== TEST 2: curl --ntlm to an HTTPS backend (SNI, verified certificate)
--- config
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_ssl_server_name on;
    proxy_ssl_name localhost;
    proxy_ssl_verify on;
    proxy_ssl_trusted_certificate $TEST_NGINX_NTLMS_CERT;
    exchange_access on;
    exchange_access_require mapi rpc list=remote;

    location / {
        proxy_pass https://ntlms;
    }
--- http_config
    upstream ntlms {
        server 127.0.0.1:$TEST_NGINX_NTLMS_PORT;
        exchange_access_ntlm timeout=10s;
    }
--- exec
curl -s -d '' --ntlm -u 'EXAMPLE\carol:Passw0rd!' -w '%{http_code}\n' \
     http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mapi/emsmdb/ \
     http://127.0.0.1:$TEST_NGINX_SERVER_PORT/ews/exchange.asmx
--- exec_stdout_like eval
qr{^user=EXAMPLE\\carol port=(\d+) method=POST uri=/mapi/emsmdb/ mech=NTLM/NTLM body=0
200
user=EXAMPLE\\carol port=\1 method=POST uri=/ews/exchange.asmx mech=NTLM/NTLM body=0
200
$}



=== TEST 3: an HTTPS backend whose certificate does not verify is never used
--- config
    proxy_http_version 1.1;
    proxy_set_header Connection "";

    location / {
        proxy_ssl_server_name on;
        proxy_ssl_name exchange.example.com;
        proxy_ssl_verify on;
        proxy_ssl_trusted_certificate $TEST_NGINX_NTLMS_CERT;
        proxy_pass https://ntlms;
    }
--- http_config
    upstream ntlms {
        server 127.0.0.1:$TEST_NGINX_NTLMS_PORT;
        exchange_access_ntlm;
    }
--- exec
curl -s -o /dev/null --ntlm -u 'EXAMPLE\carol:Passw0rd!' -w '%{http_code}\n' \
     http://127.0.0.1:$TEST_NGINX_SERVER_PORT/owa/
--- exec_stdout
502
--- error_log
upstream SSL certificate does not match "exchange.example.com"
--- no_error_log
[alert]
[crit]



=== TEST 4: curl --negotiate (SPNEGO carrying NTLM, gss-ntlmssp): a member gets 200 from the backend, a non-member 403 from nginx
--- exec
cd $TEST_NGINX_HTML_DIR
for u in alice bob; do
  echo "EXAMPLE:$u:Passw0rd!" > ntlm_user_file
  NTLM_USER_FILE=$PWD/ntlm_user_file curl -s -o out -d '' --negotiate -u : \
      -w "$u %{http_code} " http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mapi/emsmdb/
  sed -n 's/^user=\([^ ]*\) .* \(mech=[^ ]*\) .*/\1 \2/p; s/^403 .*/refused by nginx/p' out
done
--- exec_stdout
alice 200 EXAMPLE\alice mech=Negotiate/NTLM
bob 403 refused by nginx
--- error_log
exchange access denied user "bob" (not_member), protocol mapi



=== TEST 5: a non-member's Type 3 never reaches the backend
--- exec
log=$TEST_NGINX_NTLM_DIR/logs/access.log
before=$(grep -c 'step=NTLM-type3' $log)
curl -s -o /dev/null -d '' --ntlm -u 'EXAMPLE\bob:Passw0rd!' -w '%{http_code}\n' \
     http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mapi/emsmdb/
sleep 0.2
echo "type 3 forwarded: $(( $(grep -c 'step=NTLM-type3' $log) - before ))"
--- exec_stdout
403
type 3 forwarded: 0
--- error_log
exchange access denied user "bob" (not_member), protocol mapi



=== TEST 6: a wrong password gets the backend's 401, and nothing else
--- exec
curl -s -o /dev/null -d '' --ntlm -u 'EXAMPLE\alice:WrongPassw0rd' \
     -w '%{http_code} %{num_connects}\n' \
     http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mapi/emsmdb/
--- exec_stdout
401 1
--- no_error_log
exchange access denied
[warn]
[error]



=== TEST 7: 64 connections of four users, interleaved, kept alive and pipelined: each only ever sees its own user on its own backend connection
--- exec
perl -It/lib -MExchangeAccess::NtlmClient - <<'PERL'
my @users = qw(alice carol dave bob);
my (@c, %port, %bad);

for my $i (0 .. 63) {
    my $u = $users[$i % 4];
    my $path = $u eq 'bob' ? '/owa/' : '/mapi/emsmdb/';
    my $c = ExchangeAccess::NtlmClient->new;
    $c->send($c->raw("POST $path", 'Authorization: NTLM '
                     . ExchangeAccess::NtlmClient::type1()));
    push @c, { c => $c, u => $u, path => $path };
}

# the challenges, then the Type 3s, one connection after the other
for my $x (@c) {
    my $r = $x->{c}->response;
    $x->{t2} = ExchangeAccess::NtlmClient::challenge($r);
    $bad{"no challenge for $x->{u}"}++ unless $x->{t2};
}

for my $x (@c) {
    $x->{c}->send($x->{c}->raw("POST $x->{path}", 'Authorization: NTLM '
                  . ExchangeAccess::NtlmClient::type3($x->{u}, $x->{t2})));
}

for my $round (1 .. 3) {
    for my $x (@c) {
        my @r = $round == 1 ? ($x->{c}->response)
              : $x->{c}->pipeline(map { ["POST $x->{path}"] } 1 .. $round);

        for my $r (@r) {
            my $p = ExchangeAccess::NtlmClient::peer_port($r);
            $bad{"status $r->{code}"}++ if ($r->{code} // 0) != 200;
            $bad{"user $r->{h}{'x-backend-user'} for $x->{u}"}++
                if ($r->{h}{'x-backend-user'} // '') ne "EXAMPLE\\$x->{u}";
            $x->{port} //= $p;
            $bad{"port changed"}++ if $p ne $x->{port};
        }
    }
}

$port{$_->{port}}++ for @c;
print "connections ", scalar(@c), ", backend ports ", scalar(keys %port),
      "\n";
print "bad: $_ x $bad{$_}\n" for sort keys %bad;
PERL
--- exec_stdout
connections 64, backend ports 64
--- timeout: 30
--- log_level: info



=== TEST 8: a client that closes in the middle of a handshake leaves no upstream connection behind
--- exec
perl -It/lib -MExchangeAccess::NtlmClient -MExchangeAccess::NtlmBackend - <<'PERL'
my $port = $ENV{TEST_NGINX_NTLM_PORT};
my $c = ExchangeAccess::NtlmClient->new;
my $r = $c->request('POST /mapi/emsmdb/',
                    'Authorization: NTLM ' . ExchangeAccess::NtlmClient::type1());
print "type 1: $r->{code}, kept: ",
      ExchangeAccess::NtlmBackend::wait_connections($port, 1), "\n";
$c->close;
print "closed: ", ExchangeAccess::NtlmBackend::wait_connections($port, 0),
      "\n";
PERL
--- exec_stdout
type 1: 401, kept: 1
closed: 0



=== TEST 9: an upstream that closes the kept connection: closed at once, and the next request gets a new one that the backend challenges
--- http_config
    upstream short {
        server 127.0.0.1:$TEST_NGINX_NTLM_SHORT_PORT;
        exchange_access_ntlm;
    }
--- config
    proxy_http_version 1.1;
    proxy_set_header Connection "";

    location / {
        proxy_pass http://short;
    }
--- exec
perl -It/lib -MExchangeAccess::NtlmClient -MExchangeAccess::NtlmBackend - <<'PERL'
my $port = $ENV{TEST_NGINX_NTLM_SHORT_PORT};
my $c = ExchangeAccess::NtlmClient->new;
my ($r1, $r3) = $c->handshake('GET /owa/', 'dave');
print "handshake: $r1->{code} $r3->{code} $r3->{h}{'x-backend-user'}\n";

# the backend closes idle connections after a second
sleep 2;
print "after the backend closed: ",
      ExchangeAccess::NtlmBackend::wait_connections($port, 0), "\n";

my $r = $c->request('GET /owa/');
print "next request: $r->{code}\n";
($r1, $r3) = $c->handshake('GET /owa/', 'dave');
print "new handshake: $r1->{code} $r3->{code} $r3->{h}{'x-backend-user'}\n";
PERL
--- exec_stdout
handshake: 401 200 EXAMPLE\dave
after the backend closed: 0
next request: 401
new handshake: 401 200 EXAMPLE\dave



=== TEST 10: the idle timeout closes a kept connection while its client connection stays
--- http_config
    upstream quick {
        server 127.0.0.1:$TEST_NGINX_NTLM_PORT;
        exchange_access_ntlm timeout=1s;
    }
--- config
    proxy_http_version 1.1;
    proxy_set_header Connection "";

    location / {
        proxy_pass http://quick;
    }
--- exec
perl -It/lib -MExchangeAccess::NtlmClient -MExchangeAccess::NtlmBackend - <<'PERL'
my $port = $ENV{TEST_NGINX_NTLM_PORT};
my $c = ExchangeAccess::NtlmClient->new;
my ($r1, $r3) = $c->handshake('GET /owa/', 'alice');
my $p = ExchangeAccess::NtlmClient::peer_port($r3);
print "handshake: $r3->{code}, kept: ", ExchangeAccess::NtlmBackend::connections($port), "\n";
my $r = $c->request('GET /owa/');
print "within the timeout: $r->{code} ",
      ExchangeAccess::NtlmClient::peer_port($r) eq $p ? "same" : "other", "\n";
sleep 1.5;
print "after the timeout: ", ExchangeAccess::NtlmBackend::connections($port), "\n";
$r = $c->request('GET /owa/');
print "next request: $r->{code} ",
      ExchangeAccess::NtlmClient::peer_port($r) eq $p ? "same" : "other", "\n";
PERL
--- exec_stdout
handshake: 200, kept: 1
within the timeout: 200 same
after the timeout: 0
next request: 401 other



=== TEST 11: "keepalive" after exchange_access_ntlm is refused with the reason
--- http_config
    upstream exchange {
        server 127.0.0.1:$TEST_NGINX_NTLM_PORT;
        exchange_access_ntlm;
        keepalive 16;
    }
--- must_die
--- error_log
"keepalive" cannot be used with "exchange_access_ntlm" in the same upstream block: a cached connection would carry one client's NTLM authentication to another client



=== TEST 12: "keepalive" before exchange_access_ntlm is refused with the reason
--- http_config
    upstream exchange {
        server 127.0.0.1:$TEST_NGINX_NTLM_PORT;
        keepalive 16;
        exchange_access_ntlm timeout=30s;
    }
--- must_die
--- error_log
"exchange_access_ntlm" cannot be used with "keepalive" in the same upstream block



=== TEST 13: bad parameters
--- http_config
    upstream exchange {
        server 127.0.0.1:$TEST_NGINX_NTLM_PORT;
        exchange_access_ntlm timeout=never;
    }
--- must_die
--- error_log
invalid timeout "timeout=never"



=== TEST 14: without exchange_access_ntlm nothing changes: before 1.29.7 a new upstream connection per request (NTLM cannot complete), since then a cache that gives alice's connection to another client
--- http_config
    upstream plain {
        server 127.0.0.1:$TEST_NGINX_NTLM_PORT;
    }
--- config
    location / {
        proxy_pass http://plain;
    }
--- exec
curl -s -o /dev/null --ntlm -u 'EXAMPLE\alice:Passw0rd!' \
     -w 'alice: %{http_code} %header{x-backend-user}\n' \
     http://127.0.0.1:$TEST_NGINX_SERVER_PORT/owa/ | tr -d '\r'
curl -s -o /dev/null -w 'another client, no credential: %{http_code} %header{x-backend-user}\n' \
     http://127.0.0.1:$TEST_NGINX_SERVER_PORT/owa/ | tr -d '\r'
--- exec_stdout eval
$main::Stock
--- no_error_log
[error]
[crit]
[alert]



=== TEST 15: proxy_pass through a variable that names the upstream block
--- config
    proxy_http_version 1.1;
    proxy_set_header Connection "";

    location / {
        set $exchange ntlm;
        proxy_pass http://$exchange;
    }
--- exec
curl -s --ntlm -u 'EXAMPLE\alice:Passw0rd!' -w '%{http_code}\n' \
     http://127.0.0.1:$TEST_NGINX_SERVER_PORT/owa/a \
     http://127.0.0.1:$TEST_NGINX_SERVER_PORT/owa/b
--- exec_stdout_like eval
qr{^user=EXAMPLE\\alice port=(\d+) method=GET uri=/owa/a mech=NTLM/NTLM body=0
200
user=EXAMPLE\\alice port=\1 method=GET uri=/owa/b mech=NTLM/NTLM body=0
200
$}



=== TEST 16: round robin, least_conn, hash and ip_hash over two servers: the server is chosen once per client connection
--- http_config
    upstream rr {
        server 127.0.0.1:$TEST_NGINX_NTLM_PORT;
        server 127.0.0.1:$TEST_NGINX_NTLM2_PORT;
        exchange_access_ntlm;
    }
    upstream lc {
        least_conn;
        server 127.0.0.1:$TEST_NGINX_NTLM_PORT;
        server 127.0.0.1:$TEST_NGINX_NTLM2_PORT;
        exchange_access_ntlm;
    }
    upstream hash {
        exchange_access_ntlm;
        hash $request_id;
        server 127.0.0.1:$TEST_NGINX_NTLM_PORT;
        server 127.0.0.1:$TEST_NGINX_NTLM2_PORT;
    }
    upstream iphash {
        ip_hash;
        server 127.0.0.1:$TEST_NGINX_NTLM_PORT;
        server 127.0.0.1:$TEST_NGINX_NTLM2_PORT;
        exchange_access_ntlm;
    }
--- config
    proxy_http_version 1.1;
    proxy_set_header Connection "";

    location /rr/ { proxy_pass http://rr; }
    location /lc/ { proxy_pass http://lc; }
    location /hash/ { proxy_pass http://hash; }
    location /iphash/ { proxy_pass http://iphash; }
--- exec
for b in rr lc hash iphash; do
  for i in 1 2 3; do
    curl -s -o /dev/null -o /dev/null --ntlm -u 'EXAMPLE\alice:Passw0rd!' \
         -w "$b %{http_code} " \
         http://127.0.0.1:$TEST_NGINX_SERVER_PORT/$b/1 \
         http://127.0.0.1:$TEST_NGINX_SERVER_PORT/$b/2
  done
  echo
done
--- exec_stdout
rr 200 rr 200 rr 200 rr 200 rr 200 rr 200 
lc 200 lc 200 lc 200 lc 200 lc 200 lc 200 
hash 200 hash 200 hash 200 hash 200 hash 200 hash 200 
iphash 200 iphash 200 iphash 200 iphash 200 iphash 200 iphash 200 



=== TEST 17: a server that is down: proxy_next_upstream before any response, and max_fails counts it once
--- http_config
    upstream flaky {
        server 127.0.0.1:9 max_fails=1 fail_timeout=30s;
        server 127.0.0.1:$TEST_NGINX_NTLM_PORT;
        exchange_access_ntlm;
    }
--- config
    proxy_http_version 1.1;
    proxy_set_header Connection "";

    location / {
        proxy_pass http://flaky;
    }
--- exec
for i in 1 2 3; do
  curl -s -o /dev/null --ntlm -u 'EXAMPLE\alice:Passw0rd!' -w '%{http_code} ' \
       http://127.0.0.1:$TEST_NGINX_SERVER_PORT/owa/
done
echo
echo "connect failures: $(grep -c 'connect() failed' $TEST_NGINX_LOG_DIR/error.log)"
--- exec_stdout
200 200 200 
connect failures: 1
--- no_error_log
[alert]
[crit]



=== TEST 18: Outlook Anywhere: an RPC_IN_DATA body and an RPC_OUT_DATA stream, unbuffered, over the pinned connection
--- config
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_request_buffering off;
    proxy_buffering off;

    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://ntlm;
    }
--- exec
cd $TEST_NGINX_HTML_DIR
head -c 3000000 /dev/zero > body
curl -s --ntlm -u 'EXAMPLE\alice:Passw0rd!' -X RPC_IN_DATA --data-binary @body \
     -w '%{http_code}\n' \
     "http://127.0.0.1:$TEST_NGINX_SERVER_PORT/rpc/rpcproxy.dll?exch:6001"
curl -s --ntlm -u 'EXAMPLE\alice:Passw0rd!' -X RPC_OUT_DATA -H 'Content-Length: 0' \
     -w '%{http_code}\n' \
     "http://127.0.0.1:$TEST_NGINX_SERVER_PORT/rpc/rpcproxy.dll?exch:6001&stream=2"
--- exec_stdout_like eval
qr{^user=EXAMPLE\\alice port=\d+ method=RPC_IN_DATA uri=/rpc/rpcproxy.dll\?exch:6001 mech=NTLM/NTLM body=3000000
200
user=EXAMPLE\\alice port=\d+ method=RPC_OUT_DATA uri=/rpc/rpcproxy.dll\?exch:6001&stream=2 mech=NTLM/NTLM body=0
tick 1 user=EXAMPLE\\alice
tick 2 user=EXAMPLE\\alice
200
$}
--- timeout: 15



=== TEST 19: HTTP/2 clients: nothing is kept, the upstream connection closes after each request, so NTLM cannot complete
--- config eval
"    proxy_http_version 1.1;
    proxy_set_header Connection \"\";

    location / {
        proxy_pass http://ntlm;
    }
}

server {
    $main::H2Listen
    ssl_certificate $ENV{TEST_NGINX_HTML_DIR}/h2.pem;
    ssl_certificate_key $ENV{TEST_NGINX_HTML_DIR}/h2.key;

    location / {
        proxy_http_version 1.1;
        proxy_set_header Connection \"\";
        proxy_pass http://ntlm;
    }
"
--- init
main::h2_cert();
--- exec
perl -It/lib -MExchangeAccess::NtlmClient -MExchangeAccess::NtlmBackend - <<'PERL'
my $t1 = ExchangeAccess::NtlmClient::type1();
my $u = "https://127.0.0.1:$ENV{TEST_NGINX_H2_PORT}/owa";
my $c = "-sk -o /dev/null -D - --http2 -H 'Authorization: NTLM $t1'";
my $out = `curl $c $u/a --next $c $u/b`;
my @status = $out =~ m{^HTTP/(\S+) (\d+)}mg;
my @peers = $out =~ m{^x-backend-peer: \S+:(\d+)}mgi;
print "@status\n";
print "backend connections: ", scalar(@peers), ", ",
      ($peers[0] // '') ne ($peers[1] // '') ? "different" : "the same", "\n";
print "kept: ", ExchangeAccess::NtlmBackend::wait_connections(
                    $ENV{TEST_NGINX_NTLM_PORT}, 0), "\n";
PERL
--- exec_stdout
2 401 2 401
backend connections: 2, different
kept: 0



=== TEST 20: upstream requests in HTTP/1.0 (nginx's default before 1.29.7) cannot keep the connection: a warning says why the handshake fails
--- config
    location / {
        proxy_http_version 1.0;
        proxy_pass http://ntlm;
    }
--- exec
curl -s -o /dev/null --ntlm -u 'EXAMPLE\alice:Passw0rd!' -w '%{http_code}\n' \
     http://127.0.0.1:$TEST_NGINX_SERVER_PORT/owa/
--- exec_stdout
401
--- error_log
exchange_access_ntlm: the connection to 127.0.0.1:23800 that sent an authentication challenge could not be kept, the handshake cannot complete
--- no_error_log
[error]
[crit]
[alert]



=== TEST 21: identity follows the backend: a non-member's real handshake (unrestricted path, or a location where exchange_access is off), a forged Type 3 naming a member that nginx answers itself, then MAPI without a header: refused
--- config
    proxy_http_version 1.1;
    proxy_set_header Connection "";

    location /off/ {
        exchange_access off;
        proxy_pass http://ntlm/;
    }

    location = /answered-by-nginx {
        exchange_access on;
        exchange_access_require mapi rpc other list=remote;
        empty_gif;
    }

    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://ntlm;
    }
--- exec
perl -It/lib -MExchangeAccess::NtlmClient - <<'PERL'
for my $where ('/owa/', '/off/owa/') {
    my $c = ExchangeAccess::NtlmClient->new;
    my ($r1, $r3) = $c->handshake("GET $where", 'bob');
    print "bob on $where: $r3->{code} $r3->{h}{'x-backend-user'}\n";

    # a Type 3 naming alice, answering a challenge of another connection
    my $d = ExchangeAccess::NtlmClient->new;
    my $t2 = ExchangeAccess::NtlmClient::challenge(
        $d->request('GET /owa/', 'Authorization: NTLM '
                    . ExchangeAccess::NtlmClient::type1()));
    my $r = $c->request('GET /answered-by-nginx', 'Authorization: NTLM '
                        . ExchangeAccess::NtlmClient::type3('alice', $t2));
    print "forged Type 3 for alice: $r->{code}\n";

    $r = $c->request('POST /mapi/emsmdb/');
    print "MAPI without a header: $r->{code}\n";
}

# and a member's connection is decided and served as the member
my $c = ExchangeAccess::NtlmClient->new;
my ($r1, $r3) = $c->handshake('GET /owa/', 'alice');
my $r = $c->request('POST /mapi/emsmdb/');
print "alice, MAPI without a header: $r->{code} $r->{h}{'x-backend-user'}\n";
PERL
--- exec_stdout
bob on /owa/: 200 EXAMPLE\bob
forged Type 3 for alice: 200
MAPI without a header: 403
bob on /off/owa/: 200 EXAMPLE\bob
forged Type 3 for alice: 200
MAPI without a header: 403
alice, MAPI without a header: 200 EXAMPLE\alice
--- error_log
exchange access denied user "bob" (not_member), protocol mapi
exchange access: decided on the ntlm identity of the connection



=== TEST 22: revocation from the list file: alice's streaming RPC_OUT_DATA ends within one refresh interval and her idle NTLM connection is refused and closed, while carol's channel stays up
--- config
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_buffering off;
    proxy_request_buffering off;

    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://ntlm;
    }

    location = /status {
        exchange_access_status;
    }
--- exec
perl -It/lib -MExchangeAccess::NtlmClient - <<'PERL'
my $f = "$ENV{TEST_NGINX_HTML_DIR}/remote.txt";
ExchangeAccess::NtlmClient::revocation(
    "printf 'carol\\ndave\\n' > $f.new && touch -d '+2 seconds' $f.new"
    . " && mv $f.new $f", 1);
PERL
curl -s http://127.0.0.1:$TEST_NGINX_SERVER_PORT/status | grep -o '"sessions_ended":{[^}]*}'
--- exec_stdout
alice channel: match
carol channel: match
alice idle connection: 200
backend connections: 3
alice channel: closed within one refresh interval and a second
carol channel: match
backend connections: 1
alice idle connection, next request: 403, then closed
"sessions_ended":{"requests":1,"connections":1}
--- error_log eval
[qr/\[warn\] .*exchange access ended the request of user "alice": not on list "remote" any more, protocol rpc, after \d+ s\b.*, client: 127\.0\.0\.1/,
 qr/\[warn\] .*exchange access ended the NTLM connection of user "alice": not on list "remote" any more, protocol mapi, after \d+ s\b.*, client: 127\.0\.0\.1/,
 qr/exchange access denied user "alice" \(revoked\), protocol mapi, list "remote"/]
--- no_error_log eval
[qr/ended the .* of user "carol"/, qr/(ended the request of user "alice".*){2}/s, '[error]', '[crit]', '[alert]']
--- timeout: 30



=== TEST 23: revocation from an LDAP group: the same, within one refresh interval of the group change (names looked up with their NetBIOS domain)
--- http_config
    exchange_access_list directory {
        zone 1m;
        ldap_url ldap://127.0.0.1:$TEST_NGINX_LDAP_PORT;
        ldap_bind_dn "uid=svc-nginx,ou=service,dc=example,dc=com";
        ldap_bind_password_file $TEST_NGINX_HTML_DIR/ldap.secret;
        ldap_base "dc=example,dc=com";
        ldap_group "cn=outlook-remote,ou=groups,dc=example,dc=com";
        ldap_nested walk;
        ldap_timeout 2s;
        refresh 1s;
    }
--- user_files
>>> remote.txt
dave
>>> ldap.secret
Svc-Passw0rd
>>> remove.ldif
dn: cn=outlook-remote,ou=groups,dc=example,dc=com
changetype: modify
delete: member
member: cn=level2,ou=groups,dc=example,dc=com
--- config
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_buffering off;

    location / {
        exchange_access on;
        exchange_access_domain EXAMPLE example.test;
        exchange_access_require mapi rpc list=directory;
        proxy_pass http://ntlm;
    }
--- wait_for
exchange_access_list "directory": 6 names loaded
--- exec
perl -It/lib -MExchangeAccess::NtlmClient - <<'PERL'
ExchangeAccess::NtlmClient::revocation(
    "ldapmodify -x -H ldap://127.0.0.1:$ENV{TEST_NGINX_LDAP_PORT}"
    . " -D cn=admin,dc=example,dc=com -w secret"
    . " -f $ENV{TEST_NGINX_HTML_DIR}/remove.ldif >/dev/null", 1);
PERL
--- exec_stdout
alice channel: match
carol channel: match
alice idle connection: 200
backend connections: 3
alice channel: closed within one refresh interval and a second
carol channel: match
backend connections: 1
alice idle connection, next request: 403, then closed
--- error_log eval
[qr/exchange access ended the request of user "alice": not on list "directory" any more, protocol rpc/,
 qr/exchange access ended the NTLM connection of user "alice": not on list "directory" any more, protocol mapi/]
--- no_error_log eval
[qr/ended the .* of user "carol"/, '[error]', '[crit]', '[alert]']
--- timeout: 30



=== TEST 24: audit mode: the sessions of a user who left the list are logged, not ended
--- config
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_buffering off;

    location / {
        exchange_access audit;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://ntlm;
    }
--- exec
perl -It/lib -MExchangeAccess::NtlmClient - <<'PERL'
my $rpc = 'RPC_OUT_DATA /rpc/rpcproxy.dll?exch:6001&stream=6';
my $c = ExchangeAccess::NtlmClient->new;
my $r1 = $c->request($rpc, 'Content-Length: 0',
                     'Authorization: NTLM ' . ExchangeAccess::NtlmClient::type1());
$c->send($c->raw($rpc, 'Content-Length: 0', 'Authorization: NTLM '
                 . ExchangeAccess::NtlmClient::type3('alice',
                       ExchangeAccess::NtlmClient::challenge($r1))));
print "alice channel: ", $c->wait_for(qr/tick 1 /, 5), "\n";
my $f = "$ENV{TEST_NGINX_HTML_DIR}/remote.txt";
system("printf 'carol\\n' > $f.new && touch -d '+2 seconds' $f.new && mv $f.new $f");
print "alice channel: ", $c->wait_for(qr/tick 6 /, 10), "\n";
PERL
--- exec_stdout
alice channel: match
alice channel: match
--- error_log
exchange access audit: would end the request of user "alice": not on list "remote" any more, protocol rpc
--- no_error_log
exchange access ended
[error]
--- timeout: 20



=== TEST 25: an upstream connection is never handed to another client: after alice's client connection closes, a new client without a credential gets a new upstream connection, and the backend's challenge
--- exec
perl -It/lib -MExchangeAccess::NtlmClient -MExchangeAccess::NtlmBackend - <<'PERL'
my $a = ExchangeAccess::NtlmClient->new;
my ($r1, $r3) = $a->handshake('GET /owa/', 'alice');
my $p = ExchangeAccess::NtlmClient::peer_port($r3);
print "alice: $r3->{code} $r3->{h}{'x-backend-user'}\n";

# a second client while alice's connection is kept, then after it closed
for my $when ('while kept', 'after close') {
    $a->close if $when eq 'after close';
    ExchangeAccess::NtlmBackend::wait_connections($ENV{TEST_NGINX_NTLM_PORT}, 0)
        if $when eq 'after close';
    my $b = ExchangeAccess::NtlmClient->new;
    my $r = $b->request('GET /owa/');
    print "another client $when: $r->{code} '$r->{h}{'x-backend-user'}' ",
          ExchangeAccess::NtlmClient::peer_port($r) eq $p ? "alice's" : "new",
          " connection\n";
}
PERL
--- exec_stdout
alice: 200 EXAMPLE\alice
another client while kept: 401 '' new connection
another client after close: 401 '' new connection



=== TEST 26: a valid Type 3 replayed on another client connection is refused by the backend: nginx never carries it to the connection that saw the Type 1 (impacket, NTLMv2)
--- exec
/usr/bin/python3 t/lib/ExchangeAccess/ntlm_replay_check.py \
    http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mapi/emsmdb/ 'EXAMPLE\alice' 'Passw0rd!' \
    | sed -n 's/^\([^:]*\): \([0-9]*\) .*/\1: \2/p; /^RESULT/p'
--- exec_stdout
A type1: 401
B type3 replayed on a new connection: 401
A type3 on its own connection: 200
A no Authorization (connection-bound): 200
B no Authorization: 401
C type3 replayed after success: 401
RESULT PASS



=== TEST 27: the key a connection's identity resolved to is read again when the identity changes: a backend that accepts any Type 3 accepts alice's, then bob's on the same connection; MAPI without a header is alice's, then bob's, refused
--- http_config
    upstream accepts {
        server 127.0.0.1:23809;
        exchange_access_ntlm;
    }

    server {
        listen 127.0.0.1:23809;
        location / { return 200 "accepted\n"; }
    }
--- config
    proxy_http_version 1.1;
    proxy_set_header Connection "";

    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://accepts;
    }
--- exec
perl -It/lib -MExchangeAccess::NtlmClient - <<'PERL'
my $t2 = 'TlRMTVNTUAACAAAADgAOADgAAAA1goniASNFZ4mrze8AAAAAAAAAAGwAbABGAAAACgB8TwAAAA9FAFgAQQBNAFAATABFAAIADgBFAFgAQQBNAFAATABFAAEADABFAFgAQwBIADAAMQAEABgAZQB4AGEAbQBwAGwAZQAuAHQAZQBzAHQAAwAmAGUAeABjAGgAMAAxAC4AZQB4AGEAbQBwAGwAZQAuAHQAZQBzAHQAAAAAAA==';
my $c = ExchangeAccess::NtlmClient->new;

for my $user ('alice', 'bob') {
    my $r = $c->request('GET /owa/', 'Authorization: NTLM '
                        . ExchangeAccess::NtlmClient::type3($user, $t2));
    print "$user: $r->{code}\n";

    for (1 .. 2) {
        $r = $c->request('POST /mapi/emsmdb/');
        print "MAPI without a header: $r->{code}\n";
    }
}
PERL
--- exec_stdout
alice: 200
MAPI without a header: 200
MAPI without a header: 200
bob: 200
MAPI without a header: 403
MAPI without a header: 403
--- error_log
exchange access denied user "bob" (not_member), protocol mapi
