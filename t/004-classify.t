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



=== TEST 12: X-OWA-ExplicitLogonUser: Exchange removes "/" + its value from the path; anything but a plain address, or an address whose removal reroutes, is confused
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
['POST /owa/x@y.commapi/emsmdb/', 'POST /owa/x@y.compowershell',
 'POST /ma/x@y.compi/emsmdb/', 'GET /owa/',
 'GET /owa/shared@example.com/service.svc?action=GetFolder',
 'GET /owa/shared@example.com/service.svc?action=GetFolder']
--- more_headers eval
[main::basic_auth('alice') . "\nX-OWA-ExplicitLogonUser: owa/x\@y.com",
 main::basic_auth('alice') . "\nX-OWA-ExplicitLogonUser: owa/x\@y.com",
 main::basic_auth('alice') . "\nX-OWA-ExplicitLogonUser: x\@y.com",
 main::basic_auth('alice') . "\nX-OWA-ExplicitLogonUser: shared\@example.com\nX-OWA-ExplicitLogonUser: a\@b.c/../mapi",
 main::basic_auth('bob') . "\nX-OWA-ExplicitLogonUser: shared\@example.com",
 main::basic_auth('bob') . "\nx-owa-explicitlogonuser: Shared\@Example.com"]
--- error_code eval
[403, 403, 403, 403, 200, 200]
--- error_log
exchange access denied confused request (path_confusion: explicit logon header is not a plain address), protocol owa
exchange access denied confused request (path_confusion: explicit logon address reroutes the request), protocol mapi



=== TEST 13: headers, parameters and cookies only Exchange's own servers send are confused, whatever their case or spelling
--- http_config
    underscores_in_headers on;
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
['GET /ecp/y.js', 'GET /ecp/y.js', 'GET /owa/', 'POST /powershell/?X-Rps-CAT=VgEA',
 'GET /ecp/default.flt?x%2Dbe%52esource=a', 'GET /ecp/y.js', 'GET /ecp/y.js']
--- more_headers eval
["X-BEResource: localhost/owa/auth/logon.aspx?~3",
 "x_anonresource_backend: localhost/ecp/default.flt?~3",
 "X-CommonAccessToken: VgEAVAdXaW5kb3dz", "",
 "", "Cookie: a=b; X-AnonResource=true",
 "Cookie: a=b;\x0bX-BERESOURCE =localhost~1"]
--- error_code eval
[403, 403, 403, 403, 403, 403, 403]
--- error_log
exchange access denied confused request (path_confusion: backend routing header), protocol ecp
exchange access denied confused request (path_confusion: backend routing header), protocol owa
exchange access denied confused request (path_confusion: backend routing parameter or cookie), protocol powershell
exchange access denied confused request (path_confusion: backend routing parameter or cookie), protocol ecp



=== TEST 14: ProxyShell with the names ASP.NET decodes and the whitespace it trims, and "\" for "/"
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
['GET /autodiscover/autodiscover.json?@x.com\mapi\nspi\?&E%6Dail=autodiscover/autodiscover.json%3F@x.com',
 'GET /autodiscover/autodiscover.json?a=x@y.com%5Cmapi%5Cnspi',
 'GET /ews/exchange.asmx?%u0045mail=a/b@x.com',
 'GET /ews/exchange.asmx?%C2%A0Ema%C4%B1l%u3000=a/b@x.com',
 'GET /ews/exchange.asmx',
 'GET /ews/exchange.asmx',
 'GET /autodiscover/autodiscover.json?Email=bob@example.com&Protocol=ActiveSync']
--- more_headers eval
[(main::basic_auth('alice')) x 4,
 main::basic_auth('alice') . "\nCookie: x=1;\x0b\x0cEmail\xa0=a/b\@x.com",
 main::basic_auth('alice') . "\nCookie: x=1, \xc2\xa0email=a/b\@x.com",
 main::basic_auth('bob') . "\nCookie: \xe3\x80\x80Email=bob\@example.com"]
--- error_code eval
[403, 403, 403, 403, 403, 403, 200]
--- error_log
exchange access denied confused request (path_confusion: autodiscover query names another backend), protocol mapi
exchange access denied confused request (path_confusion: Email parameter is not a plain address), protocol ews



=== TEST 15: several Content-Type headers: nginx keeps the first, the module reads them all; a form on Autodiscover is confused either way
(nginx forwards every Content-Type header as the client sent it; IIS may
join them, and ASP.NET reads a form body when the value starts with a
form type, so any form type among them counts)
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
['POST /autodiscover/autodiscover.xml', 'POST /autodiscover/autodiscover.xml',
 'POST /autodiscover/autodiscover.xml', 'POST /ews/exchange.asmx']
--- more_headers eval
[main::basic_auth('bob') . "\nContent-Type: text/xml\nContent-Type: application/x-www-form-urlencoded",
 main::basic_auth('bob') . "\nContent-Type: Multipart/Form-Data; boundary=x\nContent-Type: text/xml",
 main::basic_auth('bob') . "\nContent-Type: text/xml",
 main::basic_auth('bob') . "\nContent-Type: text/xml\nContent-Type: application/x-www-form-urlencoded"]
--- error_code eval
[403, 403, 200, 200]
--- error_log
exchange access denied confused request (path_confusion: autodiscover form body can carry an address), protocol autodiscover



=== TEST 21: one keep-alive connection sends the same request line again and again: a routing header, a routing cookie or a routing query among them is found each time
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi list=remote;
        proxy_pass http://exchange_backend;
    }
--- pipelined_requests eval
['GET /ecp/y.js', 'GET /ecp/y.js', 'GET /ecp/y.js', 'GET /ecp/y.js', 'GET /ecp/y.js',
 'GET /ecp/y.js', 'GET /ecp/y.js?x-be%52esource=a', 'GET /ecp/y.js', 'POST /mapi/emsmdb/',
 'POST /mapi/emsmdb/', 'GET /ecp/y.js']
--- more_headers eval
[(map { main::basic_auth('alice') . ($_ ? "\n$_" : '') }
      "", "", "X-BEResource: localhost/owa/auth/logon.aspx?~3", "",
      "Cookie: a=b; X-AnonResource=true", "", "", "", ""),
 main::basic_auth('bob'), main::basic_auth('alice')]
--- error_code eval
[200, 200, 403, 200, 403, 200, 403, 200, 200, 403, 200]
--- grep_error_log eval
qr/exchange access denied .*/
--- grep_error_log_out
exchange access denied confused request (path_confusion: backend routing header), protocol ecp
exchange access denied confused request (path_confusion: backend routing parameter or cookie), protocol ecp
exchange access denied confused request (path_confusion: backend routing parameter or cookie), protocol ecp
exchange access denied user "bob" (not_member), protocol mapi
