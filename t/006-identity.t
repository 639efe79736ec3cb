# The user from every credential Outlook sends: Basic, NTLM, Negotiate
# (raw NTLM and SPNEGO), Bearer; the connection's NTLM identity; the
# unidentified policy; domains.  Tokens come from real clients: curl
# --ntlm, curl --negotiate with gss-ntlmssp, Perl's Authen::NTLM.
#
# The stand-in backend is reached through an upstream block with
# exchange_access_ntlm, so that a client connection keeps its upstream
# connection and the identity the backend accepted on it decides the
# requests without a header (t/014-ntlm.t does it with a real NTLM server).

use lib 't/lib';
use Test::Nginx::Socket;
use ExchangeAccess::Fixture;
use Authen::NTLM ();
use MIME::Base64 qw(encode_base64);

repeat_each(1);

$ENV{TEST_NGINX_H2_PORT} ||= $ENV{TEST_NGINX_SERVER_PORT} + 3;

our $Http = <<'CONF';
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }

    upstream exchange_pinned {
        server 127.0.0.1:$TEST_NGINX_BACKEND_PORT;
        exchange_access_ntlm;
    }

    proxy_http_version 1.1;
    proxy_set_header Connection "";
CONF

our $Location = <<'CONF';
    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_pinned;
    }
CONF

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('user_files',
                      ">>> remote.txt\nalice\ncarol\nerin\@example.com\n")
        unless defined $block->user_files;
    $block->set_value('http_config', $block->http_config . $Http);
    $block->set_value('config', $Location) unless defined $block->config;
});

# a Type 3 from Authen::NTLM, answering the stand-in's challenge
sub ntlm3 {
    my ($user, $domain, $v2) = @_;
    Authen::NTLM::ntlm_reset();
    Authen::NTLM::ntlm_user($user);
    Authen::NTLM::ntlm_domain($domain // '');
    Authen::NTLM::ntlm_password('Passw0rd!');
    Authen::NTLM::ntlmv2($v2 // 1);
    Authen::NTLM::ntlm();
    return Authen::NTLM::ntlm(ntlm_type2());
}

# a certificate for the HTTP/2 (TLS, ALPN h2) server of a block
sub h2_cert {
    my $d = $ENV{TEST_NGINX_HTML_DIR};
    system("openssl req -x509 -newkey rsa:2048 -nodes -days 2 "
           . "-subj /CN=127.0.0.1 -keyout $d/h2.key -out $d/h2.pem "
           . "2>/dev/null") == 0 or die "openssl failed";
}

# a Type 3 written field by field (Unicode names; Authen::NTLM sends a
# domain of odd length in 8 bits)
sub ntlm3u {
    require ExchangeAccess::Responsive;
    return encode_base64(ExchangeAccess::Responsive::ntlm3(@_), '');
}

sub ntlm1 {
    Authen::NTLM::ntlm_reset();
    Authen::NTLM::ntlm_user('x');
    Authen::NTLM::ntlm_domain('');
    Authen::NTLM::ntlm_password('x');
    return Authen::NTLM::ntlm();
}

sub b64url {
    my $s = encode_base64(shift, '');
    $s =~ tr{+/}{-_};
    $s =~ s/=+$//;
    return $s;
}

sub jwt {
    my $payload = shift;
    return 'Bearer ' . b64url('{"alg":"RS256","typ":"JWT"}') . '.'
           . b64url($payload) . '.' . b64url('signature');
}

# the MS-NLMP 4.2.4.3 Type 3 (user "User"), wrapped in SPNEGO NegTokenResp
our $SpnegoType3 = 'oYG1MIGyooGvBIGsTlRMTVNTUAADAAAAGAAYAGwAAAAYABgAhAAAAAwADABIAAAACAAIAFQAAAAQABAAXAAAABAAEACcAAAANYKA4gUBKAoAAAAPRABvAG0AYQBpAG4AVQBzAGUAcgBDAE8ATQBQAFUAVABFAFIAmN73uH+Iql2v4t93loihct7xHH1cze8TZ8QwEfMCmKKtNezmTxYzHES9vtknhB+UUYgisbPzUMiVhoLsuz48tw==';

# a GSS Kerberos AP-REQ: names nobody
our $Kerberos = encode_base64(pack('H*', '6011060' . '92a864886f71201020201006e023000'), '');

run_tests();

__DATA__

=== TEST 1: NTLM Type 3 from Authen::NTLM: a member is forwarded, a non-member denied
--- request eval
[('POST /mapi/emsmdb/') x 4]
--- more_headers eval
['Authorization: NTLM ' . main::ntlm3('alice'),
 'Authorization: NTLM ' . main::ntlm3('bob'),
 'Authorization: NTLM ' . main::ntlm3('carol', '', 0),
 'Authorization: NTLM ' . main::ntlm3('EXAMPLE\carol', '', 0)]
--- error_code eval
[200, 403, 200, 403]
--- response_body_like eval
[qr/^backend: POST \/mapi\/emsmdb\/ auth=NTLM TlRMTVNTUAAD/, qr/403/, qr/^backend/, qr/403/]
--- error_log
exchange access denied user "bob" (not_member), protocol mapi
exchange access denied unidentified user (unidentified: ntlm credential, invalid user name), protocol mapi



=== TEST 2: an NTLM Type 1 is forwarded: the backend answers with its challenge
--- request
POST /mapi/emsmdb/
--- more_headers eval
'Authorization: NTLM ' . main::ntlm1()
--- error_code: 401
--- response_headers_like
WWW-Authenticate: ^NTLM TlRMTVNTUAAC
--- no_error_log
exchange access denied



=== TEST 3: a refused Type 3 never reaches the backend and names nobody on the connection: the requests that follow are the backend's to challenge
--- pipelined_requests eval
['POST /mapi/emsmdb/', 'POST /mapi/emsmdb/', 'POST /mapi/nspi/', 'POST /mapi/emsmdb/']
--- more_headers eval
['Authorization: NTLM ' . main::ntlm1(), 'Authorization: NTLM ' . main::ntlm3('bob'), '', '']
--- error_code eval
[401, 403, 401, 401]
--- response_body_like eval
[qr/ntlm challenge/, qr/403/, qr/^backend: 401/, qr/^backend: 401/]
--- error_log
exchange access denied user "bob" (not_member), protocol mapi



=== TEST 4: a member's connection: later requests without a header are forwarded
--- pipelined_requests eval
['POST /mapi/emsmdb/', 'POST /mapi/emsmdb/', 'POST /mapi/emsmdb/']
--- more_headers eval
['Authorization: NTLM ' . main::ntlm3('alice'), '', '']
--- error_code eval
[200, 401, 401]
--- response_body_like eval
[qr/^backend: POST/, qr/^backend: 401/, qr/^backend: 401/]



=== TEST 5: a new Type 3 the backend accepts replaces the identity; one nginx refuses does not
--- pipelined_requests eval
['POST /mapi/emsmdb/', 'POST /mapi/emsmdb/', 'POST /mapi/emsmdb/', 'POST /mapi/emsmdb/',
 'GET /owa/', 'POST /mapi/emsmdb/']
--- more_headers eval
['Authorization: NTLM ' . main::ntlm3('alice'), '',
 'Authorization: NTLM ' . main::ntlm3('bob'), '',
 'Authorization: NTLM ' . main::ntlm3('bob'), '']
--- error_code eval
[200, 401, 403, 401, 200, 403]



=== TEST 6: the identity is remembered even when the handshake was on an unrestricted path
--- pipelined_requests eval
['GET /owa/', 'POST /mapi/emsmdb/']
--- more_headers eval
['Authorization: NTLM ' . main::ntlm3('bob'), '']
--- error_code eval
[200, 403]



=== TEST 7: a new connection starts without an identity
--- request eval
['POST /mapi/emsmdb/', 'POST /mapi/emsmdb/']
--- more_headers eval
['Authorization: NTLM ' . main::ntlm3('bob'), '']
--- error_code eval
[403, 401]



=== TEST 8: a full curl --ntlm handshake through the module, then a second request on the connection
--- exec
for u in 'EXAMPLE\alice' 'EXAMPLE\bob'; do
  curl -s -o /dev/null -w '%{http_code} %{num_connects}\n' --ntlm -u "$u:Passw0rd!" \
       -X POST http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mapi/emsmdb/
done
--- exec_stdout
200 1
403 1
--- error_log
exchange access denied user "bob" (not_member), protocol mapi
--- access_log eval
[qr/"POST \/mapi\/emsmdb\/ HTTP\/1.1" 401 .*\n.*"POST \/mapi\/emsmdb\/ HTTP\/1.1" 200 /]



=== TEST 9: curl --ntlm: after the handshake curl sends no credential on the connection
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_pinned;
    }
    location = /reuse {
        return 200 "reuse\n";
    }
--- exec
curl -s -o /dev/null -w '%{http_code} %{num_connects}\n' \
     --ntlm -u 'EXAMPLE\bob:Passw0rd!' \
     http://127.0.0.1:$TEST_NGINX_SERVER_PORT/owa/ \
     --next -s -o /dev/null -w '%{http_code} %{num_connects}\n' \
     --ntlm -u 'EXAMPLE\bob:Passw0rd!' -X POST \
     http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mapi/emsmdb/
--- exec_stdout
200 1
403 0
--- access_log eval
[qr{"GET /owa/ HTTP/1.1" 401 .*\n.*"GET /owa/ HTTP/1.1" 200 .*\n.*"POST /mapi/emsmdb/ HTTP/1.1" 403 }]
--- error_log
exchange access: decided on the ntlm identity of the connection
exchange access denied user "bob" (not_member), protocol mapi



=== TEST 10: curl --negotiate (SPNEGO carrying NTLM, from gss-ntlmssp): a member and a non-member
--- exec
cd $TEST_NGINX_HTML_DIR
for u in alice bob; do
  echo "EXAMPLE:$u:Passw0rd!" > ntlm_user_file
  NTLM_USER_FILE=$PWD/ntlm_user_file curl -s -o /dev/null -w '%{http_code}\n' \
      --negotiate -u : -X POST http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mapi/emsmdb/
done
--- exec_stdout
200
403
--- error_log
exchange access denied user "bob" (not_member), protocol mapi



=== TEST 11: Negotiate: raw NTLMSSP and a SPNEGO NegTokenResp
--- user_files
>>> remote.txt
user
--- request eval
['POST /mapi/emsmdb/', 'POST /mapi/emsmdb/', 'POST /mapi/emsmdb/']
--- more_headers eval
['Authorization: Negotiate ' . main::ntlm3('User'),
 "Authorization: Negotiate $main::SpnegoType3",
 'Authorization: Negotiate ' . main::ntlm3('bob')]
--- error_code eval
[200, 200, 403]



=== TEST 12: Kerberos names nobody: denied by default, with the credential kind logged
--- request
POST /mapi/emsmdb/
--- more_headers eval
"Authorization: Negotiate $main::Kerberos"
--- error_code: 403
--- error_log
exchange access denied unidentified user (unidentified: negotiate credential, kerberos), protocol mapi



=== TEST 13: exchange_access_unidentified pass forwards what names nobody
--- config
    location / {
        exchange_access on;
        exchange_access_unidentified pass;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_pinned;
    }
--- request eval
['POST /mapi/emsmdb/', 'POST /mapi/emsmdb/', 'POST /mapi/emsmdb/']
--- more_headers eval
["Authorization: Negotiate $main::Kerberos", 'Authorization: Basic !!',
 'Authorization: Basic ' . MIME::Base64::encode_base64('bob:x', '')]
--- error_code eval
[200, 200, 403]



=== TEST 14: Bearer: upn, then the other claims; malformed tokens are unidentified
--- request eval
[('POST /mapi/emsmdb/') x 6]
--- more_headers eval
['Authorization: ' . main::jwt('{"upn":"erin@example.com"}'),
 'Authorization: ' . main::jwt('{"upn":"bob@example.com"}'),
 'Authorization: ' . main::jwt('{"unique_name":"erin@example.com"}'),
 'Authorization: ' . main::jwt('{"upn":"erin@example.com","upn":"x@y"}'),
 'Authorization: Bearer a.b',
 'Authorization: Bearer']
--- error_code eval
[200, 403, 200, 403, 403, 200]
--- response_body_like eval
[qr/^backend/, qr/403/, qr/^backend/, qr/403/, qr/403/, qr/^backend: POST \/mapi\/emsmdb\/ auth=Bearer$/m]
--- error_log
exchange access denied user "bob@example.com" (not_member)
exchange access denied unidentified user (unidentified: bearer credential, bad JSON in JWT)
exchange access denied unidentified user (unidentified: bearer credential, not a JWT)



=== TEST 15: exchange_access_bearer_claims sets the claims and their order
--- config
    location / {
        exchange_access on;
        exchange_access_bearer_claims email;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_pinned;
    }
--- request eval
['POST /mapi/emsmdb/', 'POST /mapi/emsmdb/']
--- more_headers eval
['Authorization: ' . main::jwt('{"upn":"bob@example.com","email":"erin@example.com"}'),
 'Authorization: ' . main::jwt('{"upn":"erin@example.com"}')]
--- error_code eval
[200, 403]



=== TEST 16: exchange_access_domain: a foreign domain is never a member
--- config
    location / {
        exchange_access on;
        exchange_access_domain EXAMPLE example.com;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_pinned;
    }
--- request eval
[('POST /mapi/emsmdb/') x 6]
--- more_headers eval
[main::basic_auth('EXAMPLE\alice'), main::basic_auth('EVIL\alice'),
 main::basic_auth('erin@Example.COM'), main::basic_auth('erin@evil.example'),
 main::basic_auth('alice'),
 'Authorization: NTLM ' . main::ntlm3('EVIL\alice')]
--- error_code eval
[200, 403, 200, 403, 200, 403]
--- error_log
exchange access denied user "EVIL\x5Calice" (foreign_domain), protocol mapi
exchange access denied user "erin@evil.example" (foreign_domain), protocol mapi



=== TEST 17: hostile headers: oversized, scheme only, garbage
--- request eval
[('POST /mapi/emsmdb/') x 5]
--- more_headers eval
['Authorization: NTLM ' . ('A' x 6000), 'Authorization: NTLM',
 'Authorization: Negotiate YIIB', 'Authorization: Digest username="alice"',
 'Authorization: NTLM TlRMTVNTUAADAAAA']
--- error_code eval
[403, 403, 403, 403, 403]
--- error_log
(unidentified: ntlm credential, not an NTLM message)
(unidentified: ntlm credential, no token)
(unidentified: negotiate credential, bad DER)
(unidentified: other credential, unknown scheme)
(unidentified: ntlm credential, NTLM authenticate too short)
--- no_error_log
[alert]



=== TEST 18: no password ever reaches the log, even at debug level
(nginx itself logs request headers at debug level, so the base64 form is
there; the module never decodes a secret into a log line)
--- log_level: debug
--- request eval
['POST /mapi/emsmdb/', 'POST /mapi/emsmdb/']
--- more_headers eval
[main::basic_auth('bob', 'S3cretPassw0rd'), main::basic_auth('alice', 'S3cretPassw0rd')]
--- error_code eval
[403, 200]
--- no_error_log
S3cretPassw0rd



=== TEST 19: a refused foreign name outlives the access phase: the log phase reads it whole
--- http_config
    log_format who 'who=$exchange_user a=$exchange_access r=$exchange_access_reason';
    access_log logs/access.log who;
--- config
    location / {
        exchange_access audit;
        exchange_access_domain EXAMPLE example.com;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_pinned;
    }
--- request eval
[('POST /mapi/emsmdb/') x 4]
--- more_headers eval
[main::basic_auth('alice@other.example'), main::basic_auth('OTHER\alice'),
 'Authorization: NTLM ' . main::ntlm3('carol@evil.example'),
 main::basic_auth('alice')]
--- error_code eval
[200, 200, 200, 200]
--- access_log
who=alice@other.example a=audit r=foreign_domain
who=OTHER\x5Calice a=audit r=foreign_domain
who=carol@evil.example a=audit r=foreign_domain
who=alice a=allow r=member
--- error_log
exchange access audit: would deny user "alice@other.example" (foreign_domain)
exchange access audit: would deny user "carol@evil.example" (foreign_domain)
--- no_error_log
no buffer space



=== TEST 20: the connection's foreign identity, decided on later requests, is the request's own copy
(the stand-in backend challenges requests without a header)
--- http_config
    log_format who 'who=$exchange_user a=$exchange_access r=$exchange_access_reason';
    access_log logs/access.log who;
--- config
    location / {
        exchange_access audit;
        exchange_access_domain EXAMPLE example.com;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_pinned;
    }
--- pipelined_requests eval
['POST /mapi/emsmdb/', 'POST /mapi/emsmdb/', 'POST /mapi/nspi/']
--- more_headers eval
['Authorization: NTLM ' . main::ntlm3('erin@elsewhere.example'), '', '']
--- error_code eval
[200, 401, 401]
--- access_log eval
[qr/(who=erin\@elsewhere\.example a=audit r=foreign_domain\n.*){3}/s]
--- error_log
exchange access: decided on the ntlm identity of the connection
--- no_error_log
no buffer space



=== TEST 21: HTTP/2 (curl over TLS with ALPN): an NTLM Type 3 on one stream decides no other stream
Every stream of a connection shares nginx's connection structure; bob's
Type 3 is refused on its own stream, and the header-less requests on the
other streams are passed to the backend (which challenges them), whether
the Type 3 came for a restricted protocol or for an unrestricted one.
(curl 7.88 does not reuse a prior-knowledge h2c connection, so TLS.)
--- init
main::h2_cert();
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_H2_PORT ssl http2;
        ssl_certificate $TEST_NGINX_HTML_DIR/h2.pem;
        ssl_certificate_key $TEST_NGINX_HTML_DIR/h2.key;

        location / {
            exchange_access on;
            exchange_access_require mapi rpc list=remote;
            proxy_pass http://exchange_pinned;
        }
    }
--- config
--- exec eval
my $h2 = "-sk --http2 -o /dev/null "
       . "-w '%{http_version} %{http_code} %{num_connects}\\n'";
my $u = "https://127.0.0.1:$ENV{TEST_NGINX_H2_PORT}";
my $t3 = main::ntlm3('bob');
"curl $h2 -H 'Authorization: NTLM $t3' -X POST $u/mapi/emsmdb/ "
. "--next $h2 -X POST $u/mapi/nspi/ "
. "--next $h2 -X POST $u/mapi/emsmdb/; "
. "curl $h2 -H 'Authorization: NTLM $t3' $u/owa/ "
. "--next $h2 -X POST $u/mapi/emsmdb/"
--- exec_stdout
2 403 1
2 401 0
2 401 0
2 200 1
2 401 0
--- error_log
exchange access denied user "bob" (not_member), protocol mapi
--- no_error_log
decided on the ntlm identity of the connection



=== TEST 22: names from credentials are escaped in the error log: each line one line, no raw control or high byte
(a Basic name with controls is unidentified and not logged; an NTLM name
with them reaches the log through the user map; the CRs left are nginx's
own debug dump of the response headers)
--- config
    location / {
        exchange_access on;
        exchange_access_user_map "~(?s)^(.*)$" mallory;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
[('POST /mapi/emsmdb/') x 3]
--- more_headers eval
[main::basic_auth("bob\r\nFAKE [alert] injected \"x\""),
 'Authorization: NTLM ' . main::ntlm3("eve\nFAKE2\x7f\x{ff}\t"),
 main::basic_auth("j\xc3\xbcrgen\\\"x\"")]
--- error_code eval
[403, 403, 403]
--- error_log eval
[qr/unidentified user \(unidentified: basic credential, user name is not valid UTF-8\)/,
 qr/user "mallory" \(not_member\), protocol mapi, list "remote", mapped from "eve\\x0AFAKE2\\x7F\\xC3\\xBF\\x09", client/,
 qr/mapped from "j\\xC3\\xBCrgen\\x5C\\x22x\\x22", client/,
 qr/exchange access: user "eve\\x0AFAKE2\\x7F\\xC3\\xBF\\x09" mapped to "mallory"/]
--- no_error_log eval
[qr/^FAKE/m, qr/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\xff]/]



=== TEST 23: a foreign name with bytes of UTF-8 is logged escaped, as the access log writes it
--- http_config
    log_format who 'who=$exchange_user';
    access_log logs/access.log who;
--- config
    location / {
        exchange_access on;
        exchange_access_domain EXAMPLE example.com;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
['POST /mapi/emsmdb/', 'POST /mapi/emsmdb/']
--- more_headers eval
[main::basic_auth("j\xc3\xbcrgen\@evil.example"),
 main::basic_auth("EVIL\\j\xc3\xbcrgen")]
--- error_code eval
[403, 403]
--- error_log
exchange access denied user "j\xC3\xBCrgen@evil.example" (foreign_domain)
exchange access denied user "EVIL\x5Cj\xC3\xBCrgen" (foreign_domain)
--- access_log
who=j\xC3\xBCrgen@evil.example
who=EVIL\x5Cj\xC3\xBCrgen
--- no_error_log eval
[qr/[\x7f-\xff]/]



=== TEST 24: two domains of ours: a sAMAccountName matches only the entries of its own domain
(bare entries are the first domain's; CHILD\alice is not EXAMPLE's alice,
from Basic or from the NTLM domain field)
--- user_files
>>> remote.txt
alice
CHILD\bob
Example\carol
erin@example.com
child\frank
frank
--- config
    location / {
        exchange_access on;
        exchange_access_domain EXAMPLE example.com CHILD child.example.com;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
[('POST /mapi/emsmdb/') x 17]
--- more_headers eval
[main::basic_auth('alice'), main::basic_auth('EXAMPLE\alice'),
 main::basic_auth('example.com\alice'), main::basic_auth('CHILD\alice'),
 'Authorization: NTLM ' . main::ntlm3u('alice', 'CHILD'),
 main::basic_auth('CHILD\bob'), main::basic_auth('child.example.com\bob'),
 'Authorization: NTLM ' . main::ntlm3u('bob', 'CHILD'),
 main::basic_auth('bob'), main::basic_auth('EXAMPLE\bob'),
 main::basic_auth('carol'), main::basic_auth('CHILD\carol'),
 main::basic_auth('erin@example.com'), main::basic_auth('EXAMPLE\erin'),
 main::basic_auth('OTHER\alice'),
 main::basic_auth('CHILD\frank'), main::basic_auth('frank')]
--- error_code eval
[200, 200, 200, 403, 403, 200, 200, 200, 403, 403, 200, 403, 200, 403, 403, 200, 200]
--- error_log
exchange access denied user "alice" (not_member), protocol mapi
exchange access denied user "OTHER\x5Calice" (foreign_domain)
--- no_error_log
accepts names of any domain



=== TEST 25: without exchange_access_domain any domain is accepted, and the log says so once
--- user_files
>>> remote.txt
alice
CHILD\bob
--- request eval
[('POST /mapi/emsmdb/') x 3]
--- more_headers eval
[main::basic_auth('OTHER\alice'), main::basic_auth('EXAMPLE\bob'),
 main::basic_auth('carol')]
--- error_code eval
[200, 200, 403]
--- error_log
[notice]
exchange_access_require without exchange_access_domain accepts names of any domain



=== TEST 26: exchange_access_domain: a DNS name before any NetBIOS name is refused
--- config
    location / {
        exchange_access on;
        exchange_access_domain example.com EXAMPLE;
        exchange_access_require mapi list=remote;
        proxy_pass http://exchange_backend;
    }
--- must_die
--- error_log
"example.com" comes before any NetBIOS domain name: each group starts with the NetBIOS name



=== TEST 27: exchange_access_domain: a NetBIOS name of more than 15 characters
--- config
    location / {
        exchange_access on;
        exchange_access_domain EXAMPLE example.com ABCDEFGHIJKLMNOP;
        exchange_access_require mapi list=remote;
        proxy_pass http://exchange_backend;
    }
--- must_die
--- error_log
invalid NetBIOS domain name "ABCDEFGHIJKLMNOP" (at most 15 characters)



=== TEST 28: exchange_access_domain: the same name twice
--- config
    location / {
        exchange_access on;
        exchange_access_domain EXAMPLE example.com CHILD Example.COM;
        exchange_access_require mapi list=remote;
        proxy_pass http://exchange_backend;
    }
--- must_die
--- error_log
domain "Example.COM" is given twice



=== TEST 29: a list line whose domain is a DNS name is refused, with its line
--- user_files
>>> remote.txt
alice
example.com\bob
--- must_die
--- error_log
domain is not a NetBIOS name (at most 15 characters, no dot) in line 2



=== TEST 30: the backend's 401 to a new handshake clears the identity: unidentified until it accepts another
--- pipelined_requests eval
['POST /mapi/emsmdb/', 'POST /mapi/emsmdb/', 'POST /mapi/emsmdb/', 'POST /mapi/emsmdb/',
 'POST /mapi/emsmdb/', 'POST /mapi/emsmdb/']
--- more_headers eval
['Authorization: NTLM ' . main::ntlm3('alice'), '', 'Authorization: NTLM ' . main::ntlm1(), '',
 'Authorization: NTLM ' . main::ntlm3('carol'), '']
--- error_code eval
[200, 401, 401, 403, 200, 401]
--- response_body_like eval
[qr/^backend: POST/, qr/^backend: 401/, qr/ntlm challenge/, qr/403/, qr/^backend: POST/, qr/^backend: 401/]
--- error_log
exchange access denied unidentified user (unidentified: ntlm credential, the backend refused a new handshake), protocol mapi



=== TEST 31: Kerberos the backend accepted on an unrestricted path: restricted requests without a header are unidentified, not "no credential"
--- pipelined_requests eval
['GET /owa/', 'POST /mapi/emsmdb/']
--- more_headers eval
["Authorization: Negotiate $main::Kerberos", '']
--- error_code eval
[200, 403]
--- error_log
exchange access denied unidentified user (unidentified: negotiate credential, kerberos), protocol mapi



=== TEST 32: a handshake in a location where exchange_access is off counts all the same
--- config
    location /off/ {
        exchange_access off;
        proxy_pass http://exchange_pinned;
    }

    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_pinned;
    }
--- pipelined_requests eval
['GET /off/owa/', 'POST /mapi/emsmdb/']
--- more_headers eval
['Authorization: NTLM ' . main::ntlm3('bob'), '']
--- error_code eval
[200, 403]
--- error_log
exchange access denied user "bob" (not_member), protocol mapi



=== TEST 33: a forged Type 3 that nginx answers itself identifies nobody: the identity stays what the backend accepted
--- config
    location = /answered-by-nginx {
        exchange_access on;
        exchange_access_require mapi rpc other list=remote;
        empty_gif;
    }

    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_pinned;
    }
--- pipelined_requests eval
['GET /owa/', 'GET /answered-by-nginx', 'POST /mapi/emsmdb/']
--- more_headers eval
['Authorization: NTLM ' . main::ntlm3('bob'), 'Authorization: NTLM ' . main::ntlm3('alice'), '']
--- error_code eval
[200, 200, 403]
--- error_log
exchange access denied user "bob" (not_member), protocol mapi



=== TEST 34: an upstream without exchange_access_ntlm: what the backend accepts on a connection nobody keeps identifies nothing
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- pipelined_requests eval
['GET /owa/', 'POST /mapi/emsmdb/']
--- more_headers eval
['Authorization: NTLM ' . main::ntlm3('bob'), '']
--- error_code eval
[200, 401]
--- no_error_log
exchange access denied



=== TEST 35: a keep-alive connection that sends the same Basic header again is decided as before, without reading it again; another header is read
--- log_level: debug
--- pipelined_requests eval
[('POST /mapi/emsmdb/') x 6]
--- more_headers eval
[main::basic_auth('alice', 'S3cretPassw0rd'), main::basic_auth('alice', 'S3cretPassw0rd'),
 main::basic_auth('bob', 'S3cretPassw0rd'), main::basic_auth('bob', 'S3cretPassw0rd'),
 main::basic_auth('alice', 'S3cretPassw0rd'), main::basic_auth('alice', 'An0therOne')]
--- error_code eval
[200, 200, 403, 403, 200, 200]
--- grep_error_log eval
qr/exchange access: the (?:Basic header|list's answer) of the connection's last request|exchange access denied user "\w+"/
--- grep_error_log_out
exchange access: the Basic header of the connection's last request
exchange access: the list's answer of the connection's last request
exchange access denied user "bob"
exchange access: the Basic header of the connection's last request
exchange access: the list's answer of the connection's last request
exchange access denied user "bob"
--- no_error_log
S3cretPassw0rd
An0therOne



=== TEST 36: the same Basic header on the same connection after the list changed: the new list decides
--- http_config
    exchange_access_list live {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/live.txt;
        refresh 1s;
    }
--- user_files
>>> remote.txt
alice
>>> live.txt
alice
carol
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=live;
        proxy_pass http://exchange_pinned;
    }
--- exec
perl -It/lib -MExchangeAccess::NtlmClient -MMIME::Base64 - <<'PERL'
my $c = ExchangeAccess::NtlmClient->new;
my $h = 'Authorization: Basic ' . encode_base64('carol:Passw0rd!', '');
my @codes;

push @codes, $c->request('POST /mapi/emsmdb/', $h)->{code} for 1 .. 3;

# carol leaves the list; the file's time moves on, so it is read again
open my $f, '>', '$TEST_NGINX_HTML_DIR/live.txt' or die "live.txt: $!";
print $f "alice\n";
close $f;
utime time + 5, time + 5, '$TEST_NGINX_HTML_DIR/live.txt';

for (1 .. 50) {
    open my $log, '<', '$TEST_NGINX_LOG_DIR/error.log' or die;
    last if grep { /"live": 1 names loaded, generation 2/ } <$log>;
    select undef, undef, undef, 0.1;
}

push @codes, $c->request('POST /mapi/emsmdb/', $h)->{code} for 1 .. 2;

# the same connection throughout
push @codes, $c->request('POST /mapi/emsmdb/',
                         'Authorization: Basic '
                         . encode_base64('alice:Passw0rd!', ''))->{code};
print "@codes\n";
PERL
--- exec_stdout
200 200 200 403 403 200
--- error_log
exchange access denied user "carol" (not_member), protocol mapi



=== TEST 37: one header, two lists on one connection: each list answers for itself
--- http_config
    exchange_access_list other {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/other.txt;
    }
--- user_files
>>> remote.txt
alice
>>> other.txt
carol
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi list=remote;
        exchange_access_require rpc list=other;
        proxy_pass http://exchange_pinned;
    }
--- pipelined_requests eval
['POST /mapi/emsmdb/', 'RPC_IN_DATA /rpc/rpcproxy.dll?mbx@example.com:6001',
 'POST /mapi/emsmdb/', 'RPC_IN_DATA /rpc/rpcproxy.dll?mbx@example.com:6001']
--- more_headers eval
[(main::basic_auth('alice')) x 4]
--- error_code eval
[200, 403, 200, 403]
--- error_log
exchange access denied user "alice" (not_member), protocol rpc



=== TEST 38: names whose keys are longer than the context keeps (64 bytes) on one keep-alive connection: decided and logged whole, every time
--- http_config
    log_format who 'who=$exchange_user a=$exchange_access r=$exchange_access_reason';
    access_log logs/access.log who;
--- user_files
>>> remote.txt
alice
mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm@example.com
--- pipelined_requests eval
[('POST /mapi/emsmdb/') x 6]
--- more_headers eval
[(main::basic_auth("mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm\@example.com")) x 2, (main::basic_auth("mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmx\@example.com")) x 2,
 (main::basic_auth('alice')) x 2]
--- error_code eval
[200, 200, 403, 403, 200, 200]
--- access_log
who=mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm@example.com a=allow r=member
who=mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm@example.com a=allow r=member
who=mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmx@example.com a=deny r=not_member
who=mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmx@example.com a=deny r=not_member
who=alice a=allow r=member
who=alice a=allow r=member
