# Classification through nginx: every protocol restricted and not, the
# encoded, slash, dot and case forms of /mapi/ and /rpc/rpcproxy.dll, and
# the path-confusion family.

use lib 't/lib';
use Test::Nginx::Socket;
use ExchangeAccess::Fixture;

repeat_each(1);

our $Http = <<'CONF';
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
CONF

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('user_files', ">>> remote.txt\nalice\n")
        unless defined $block->user_files;
    $block->set_value('http_config', $block->http_config . $Http);
});

our @Paths = (
    [mapi => 'POST /mapi/emsmdb/?MailboxId=1@example.com'],
    [rpc => 'RPC_IN_DATA /rpc/rpcproxy.dll?mbx@example.com:6001'],
    [ews => 'POST /EWS/Exchange.asmx'],
    [eas => 'POST /Microsoft-Server-ActiveSync?Cmd=Sync&User=bob'],
    [owa => 'GET /owa/'],
    [ecp => 'GET /ecp/'],
    [oab => 'GET /OAB/1234/oab.xml'],
    [autodiscover => 'POST /Autodiscover/Autodiscover.xml'],
    [powershell => 'POST /PowerShell/'],
    [other => 'GET /aspnet_client/x.js'],
);

sub requests { [map { $_->[1] } @Paths] }
sub as_bob { [map { basic_auth('bob') } @Paths] }

run_tests();

__DATA__

=== TEST 1: each protocol restricted on its own: a non-member is denied
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi rpc ews eas owa ecp oab autodiscover powershell other list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
main::requests()
--- more_headers eval
main::as_bob()
--- error_code eval
[(403) x 10]
--- error_log eval
[map { qr/denied user "bob" \(not_member\), protocol $_->[0],/ } @main::Paths]



=== TEST 2: each protocol restricted on its own: a member is forwarded
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi rpc ews eas owa ecp oab autodiscover powershell other list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
main::requests()
--- more_headers eval
[map { main::basic_auth('EXAMPLE\alice') } @main::Paths]
--- error_code eval
[(200) x 10]



=== TEST 3: nothing restricted: every protocol is forwarded
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
[@{main::requests()}[1 .. 9]]
--- more_headers eval
[@{main::as_bob()}[1 .. 9]]
--- error_code eval
[(200) x 9]
--- no_error_log
exchange access denied



=== TEST 4: encoded, doubled-slash, dot-segment and mixed-case /mapi/ and /rpc/
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
['POST /%6Dapi/emsmdb/', 'POST /%6d%61%70%69/emsmdb/', 'POST //mapi//emsmdb/',
 'POST /owa/../mapi/emsmdb/', 'POST /./MaPi/emsmdb/', 'POST /MAPI/NSPI/',
 'RPC_IN_DATA /%72pc/rpcproxy.dll?x:6001', 'RPC_IN_DATA //rpc/rpcproxy.dll?x:6001',
 'RPC_OUT_DATA /ews/../rpc/RPCPROXY.DLL?x:6001', 'RPC_IN_DATA /RpcWithCert/rpcproxy.dll?x:6001']
--- more_headers eval
[(main::basic_auth('bob')) x 10]
--- error_code eval
[(403) x 10]
--- error_log
protocol mapi
protocol rpc
--- no_error_log
path_confusion



=== TEST 5: the same forms for a member are forwarded as sent
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
['POST /%6Dapi/emsmdb/', 'POST //mapi//emsmdb/', 'RPC_IN_DATA /%72pc/rpcproxy.dll?x:6001']
--- more_headers eval
[(main::basic_auth('alice')) x 3]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr{^backend: POST /%6Dapi/emsmdb/ }, qr{^backend: POST //mapi//emsmdb/ },
 qr{^backend: RPC_IN_DATA /%72pc/rpcproxy.dll\?x:6001 }]



=== TEST 6: ProxyShell, OWASSRF and encoded separators are denied from outside, even for members and unrestricted protocols
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
['GET /autodiscover/autodiscover.json?@x.com/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@x.com',
 'POST /autodiscover/autodiscover.json?@x.com/powershell/?X-Rps-CAT=VgEA&Email=autodiscover/autodiscover.json%3F@x.com',
 'POST /owa/mastermailbox%40outlook.com/powershell',
 'GET /owa%2f..%2fmapi/emsmdb/',
 'GET /Autodiscover/autodiscover.json?a=u@x.com/mapi/nspi']
--- more_headers eval
[main::basic_auth('alice'), main::basic_auth('alice'), main::basic_auth('alice'),
 main::basic_auth('alice'),
 main::basic_auth('alice') . "\nCookie: Email=Autodiscover/autodiscover.json?a=u\@x.com"]
--- error_code eval
[403, 403, 403, 403, 403]
--- error_log
exchange access denied confused request (path_confusion: autodiscover query names another backend), protocol mapi
exchange access denied confused request (path_confusion: autodiscover request names powershell), protocol powershell
exchange access denied confused request (path_confusion: explicit logon path names another backend), protocol powershell
exchange access denied confused request (path_confusion: encoded separator in the path), protocol mapi
exchange access denied confused request (path_confusion: autodiscover query names another backend), protocol mapi



=== TEST 7: with path_confusion classify, ProxyShell to /mapi/ is decided as mapi
--- config
    location / {
        exchange_access on;
        exchange_access_path_confusion classify;
        exchange_access_require mapi list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
['GET /autodiscover/autodiscover.json?@x.com/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@x.com',
 'GET /autodiscover/autodiscover.json?@x.com/mapi/nspi/?&Email=autodiscover/autodiscover.json%3F@x.com',
 'GET /autodiscover/autodiscover.json?@x.com/owa/?&Email=autodiscover/autodiscover.json%3F@x.com']
--- more_headers eval
[main::basic_auth('bob'), main::basic_auth('alice'), main::basic_auth('bob')]
--- error_code eval
[403, 200, 200]
--- error_log
exchange access denied user "bob" (not_member), protocol mapi



=== TEST 8: internal clients are not refused for confusion
--- config
    location / {
        exchange_access on;
        exchange_access_internal 127.0.0.1;
        exchange_access_require mapi list=remote;
        proxy_pass http://exchange_backend;
    }
--- request
GET /owa/x@y.com/powershell
--- more_headers eval
main::basic_auth('bob')
--- error_code: 200



=== TEST 9: audit mode forwards a confused request and says so
--- config
    location / {
        exchange_access audit;
        exchange_access_require mapi list=remote;
        proxy_pass http://exchange_backend;
    }
--- request
GET /owa/x@y.com/powershell
--- error_code: 401
--- error_log
exchange access audit: would deny confused request (path_confusion: explicit logon path names another backend), protocol powershell



=== TEST 10: legitimate Autodiscover and OWA requests are not confused
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
['GET /autodiscover/autodiscover.json?Email=bob@example.com&Protocol=ActiveSync&RedirectCount=3',
 'GET /autodiscover/autodiscover.json/v1.0/bob@example.com?Protocol=AutodiscoverV1',
 'GET /owa/auth/logon.aspx?replaceCurrent=1&url=https%3a%2f%2fmail.example.com%2fecp%2f',
 'GET /owa/shared@example.com/',
 'POST /Microsoft-Server-ActiveSync?Cmd=Ping&User=bob&DeviceId=A1&DeviceType=iPhone']
--- more_headers eval
[(main::basic_auth('bob')) x 5]
--- error_code eval
[200, 200, 200, 200, 200]
--- no_error_log
confused



=== TEST 11: a location rewritten to /mapi/ by the configuration is mapi
--- config
    location /custom-outlook/ {
        rewrite ^/custom-outlook/(.*)$ /mapi/$1 break;
        exchange_access on;
        exchange_access_require mapi list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
['POST /custom-outlook/emsmdb/', 'POST /custom-outlook/emsmdb/']
--- more_headers eval
[main::basic_auth('bob'), main::basic_auth('alice')]
--- error_code eval
[403, 200]
--- response_body_like eval
[qr/403/, qr{^backend: POST /mapi/emsmdb/}]
