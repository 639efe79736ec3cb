# Site-specific rules: exchange_access_classify and exchange_access_user_map,
# compiled once at configuration time with nginx's regex interface.

use lib 't/lib';
use Test::Nginx::Socket;
use ExchangeAccess::Fixture;
use MIME::Base64;

repeat_each(1);

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('user_files',
                      ">>> remote.txt\nalice\nalice\@example.com\ncarol\n")
        unless defined $block->user_files;
    $block->set_value('http_config', ($block->http_config // '') . <<'CONF');
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
CONF
});

# an NTLM Type 3 written field by field: the credential's own domain
sub ntlm3 {
    require ExchangeAccess::Responsive;
    return 'Authorization: NTLM '
           . encode_base64(ExchangeAccess::Responsive::ntlm3(@_), '');
}

run_tests();

__DATA__

=== TEST 1: a custom path is classified as mapi and denied for a non-member; the built-in table still applies to the rest
--- config
    exchange_access on;
    exchange_access_classify "~*^/custom-outlook/" mapi;
    exchange_access_classify "~^/lb-rpc/" rpc;
    exchange_access_require mapi rpc list=remote;

    location / {
        proxy_pass http://exchange_backend;
    }
--- request eval
['POST /Custom-Outlook/emsmdb/', 'POST /custom-outlook/emsmdb/',
 'RPC_IN_DATA /lb-rpc/rpcproxy.dll', 'RPC_IN_DATA /LB-RPC/rpcproxy.dll',
 'POST /mapi/emsmdb/', 'GET /owa/']
--- more_headers eval
[main::basic_auth('bob'), main::basic_auth('alice'), main::basic_auth('bob'),
 main::basic_auth('bob'), main::basic_auth('bob'), main::basic_auth('bob')]
--- error_code eval
[403, 200, 403, 200, 403, 200]
--- error_log
exchange access denied user "bob" (not_member), protocol mapi
exchange access denied user "bob" (not_member), protocol rpc



=== TEST 2: a second UPN suffix mapped onto the one the list knows; a map that does not match leaves the name alone
--- config
    exchange_access on;
    exchange_access_user_map "~^(?<u>[^@]+)@corp\.example$" $u@example.com;
    exchange_access_require mapi list=remote;

    location / {
        proxy_pass http://exchange_backend;
    }
--- request eval
[('POST /mapi/emsmdb/') x 4]
--- more_headers eval
[main::basic_auth('alice@corp.example'), main::basic_auth('bob@corp.example'),
 main::basic_auth('carol'), main::basic_auth('alice@other.example')]
--- error_code eval
[200, 403, 200, 403]
--- error_log
exchange access denied user "bob@example.com" (not_member), protocol mapi, list "remote", mapped from "bob@corp.example"
exchange access denied user "alice@other.example" (not_member), protocol mapi, list "remote"



=== TEST 3: numbered captures, the first matching rule wins, case-insensitive rules
--- config
    exchange_access on;
    exchange_access_user_map "~*^legacy\\\\(.+)$" $1;
    exchange_access_user_map "~^(.+)-admin$" $1;
    exchange_access_user_map "~^(.+)$" nobody;
    exchange_access_require mapi list=remote;

    location / {
        proxy_pass http://exchange_backend;
    }
--- request eval
[('POST /mapi/emsmdb/') x 3]
--- more_headers eval
[main::basic_auth('LEGACY\alice'), main::basic_auth('carol-admin'),
 main::basic_auth('alice')]
--- error_code eval
[200, 200, 403]
--- error_log
exchange access denied user "nobody" (not_member), protocol mapi, list "remote", mapped from "alice"



=== TEST 4: $exchange_user shows the name after mapping
--- http_config
    log_format exa '$exchange_user $exchange_access';
--- config
    access_log logs/access.log exa;
    exchange_access on;
    exchange_access_user_map "~^(?<u>[^@]+)@corp\.example$" $u@example.com;
    exchange_access_require mapi list=remote;

    location / {
        proxy_pass http://exchange_backend;
    }
--- request
POST /mapi/emsmdb/
--- more_headers eval
main::basic_auth('alice@corp.example')
--- error_code: 200
--- access_log
alice@example.com allow



=== TEST 5: the location's own captures are not disturbed by the module's rules
--- config
    location ~ ^/x/(.*)$ {
        exchange_access on;
        exchange_access_classify "~^/x/(mapi)/" mapi;
        exchange_access_user_map "~^(.+)@corp\.example$" $1;
        exchange_access_require mapi list=remote;
        proxy_pass http://exchange_backend/$1;
    }
--- request
POST /x/mapi/emsmdb/
--- more_headers eval
main::basic_auth('alice@corp.example')
--- error_code: 200
--- response_body_like: ^backend: POST /mapi/emsmdb/ auth=



=== TEST 6: an invalid regular expression fails nginx -t, naming the pattern and PCRE2's message
--- config
    exchange_access_classify "~^/custom-(outlook/" mapi;
--- must_die
--- error_log eval
qr/pcre2_compile\(\) failed: missing closing parenthesis in "\^\/custom-\(outlook\/" in .*nginx\.conf:\d+/



=== TEST 7: an invalid user map, a rule without "~", an unknown protocol
--- config
    exchange_access_user_map "~^(?<u>[^@]+@corp" $u;
--- must_die
--- error_log eval
qr/pcre2_compile\(\) failed: missing closing parenthesis in "\^\(\?<u>\[\^\@\]\+\@corp"/



=== TEST 8: a rule must be a regular expression
--- config
    exchange_access_classify "/custom/" mapi;
--- must_die
--- error_log
"/custom/" must be a regular expression starting with "~" (or "~*" to ignore case)



=== TEST 9: a rule for an unknown protocol
--- config
    exchange_access_classify "~^/custom/" imap;
--- must_die
--- error_log
unknown protocol "imap", expected mapi



=== TEST 10: an old NetBIOS domain mapped onto the current one
--- config
    exchange_access on;
    exchange_access_domain EXAMPLE;
    exchange_access_user_map "~*^OLDDOM\\\\(.+)$" EXAMPLE\\$1;
    exchange_access_require mapi list=remote;

    location / {
        proxy_pass http://exchange_backend;
    }
--- request eval
[('POST /mapi/emsmdb/') x 3]
--- more_headers eval
[main::basic_auth('olddom\alice'), main::basic_auth('OTHER\alice'),
 main::basic_auth('EXAMPLE\carol')]
--- error_code eval
[200, 403, 200]
--- error_log
exchange access denied user "OTHER\x5Calice" (foreign_domain)



=== TEST 11: rules whose escapes read an argument are never skipped by the literal prefilter
--- config
    exchange_access on;
    exchange_access_classify "~^/lb2/\x4Dapi$" mapi;
    exchange_access_classify "~^/lb3/\115api$" mapi;
    exchange_access_classify "~^/lb4/a\Qb$" mapi;
    exchange_access_classify "~*(*UTF)/lb5/k$" mapi;
    exchange_access_domain EXAMPLE;
    exchange_access_user_map "~^OLD\\\\\\x61lice$" EXAMPLE\\alice;
    exchange_access_require mapi list=remote;

    location / {
        proxy_pass http://exchange_backend;
    }
--- request eval
['POST /lb2/Mapi', 'POST /lb3/Mapi', 'POST /lb4/ab$', 'POST /lb5/%E2%84%AA',
 'POST /mapi/emsmdb/', 'POST /mapi/emsmdb/']
--- more_headers eval
[(main::basic_auth('bob')) x 4, main::basic_auth('OLD\alice'),
 main::basic_auth('OLD\blice')]
--- error_code eval
[403, 403, 403, 403, 200, 403]
--- error_log
exchange access denied user "bob" (not_member), protocol mapi



=== TEST 12: more than 64 rules, inherited by a location or replaced in it: the first rule that matches wins, caseless or not, wherever it is in the list
--- config eval
my $c = "    exchange_access on;\n";
$c .= "    exchange_access_classify \"~^/never-$_/\" mapi;\n" for 1 .. 66;
$c .= "    exchange_access_classify \"~*^/LB-\" rpc;\n";
$c .= "    exchange_access_classify \"~^/lb-mapi/\" mapi;\n";
$c .= "    exchange_access_user_map \"~^never-$_-(.*)\$\" \$1;\n" for 1 .. 65;
$c .= "    exchange_access_user_map \"~*^old\\\\\\\\(.+)\$\" \$1;\n";
$c .= "    exchange_access_user_map \"~^(.+)\$\" nobody;\n";
$c .= <<'CONF';
    exchange_access_require mapi list=remote;

    location / {
        proxy_pass http://exchange_backend;
    }

    location /inner/ {
        exchange_access_classify "~^/inner/" mapi;
        proxy_pass http://exchange_backend;
    }
CONF
$c
--- request eval
['POST /never-66/emsmdb/', 'POST /lb-mapi/emsmdb/', 'POST /Lb-Mapi/emsmdb/',
 'POST /NEVER-1/emsmdb/', 'POST /inner/emsmdb/', 'POST /never-66/emsmdb/',
 'POST /mapi/emsmdb/', 'POST /mapi/emsmdb/', 'POST /inner/emsmdb/']
--- more_headers eval
[(main::basic_auth('never-66-alice')) x 5, main::basic_auth('never-65-alice'),
 main::basic_auth('OLD\alice'), main::basic_auth('alice'),
 main::basic_auth('never-1-carol')]
--- error_code eval
[403, 200, 200, 200, 403, 200, 200, 403, 200]
--- error_log
exchange access denied user "nobody" (not_member), protocol mapi, list "remote", mapped from "never-66-alice"
exchange access denied user "nobody" (not_member), protocol mapi, list "remote", mapped from "alice"



=== TEST 13: the rules a name may match are told by its first two bytes before it is put together: a one-letter domain, in Basic and in NTLM's own field, a name of one letter
--- config
    exchange_access on;
    exchange_access_domain EXAMPLE;
    exchange_access_user_map "~*^o\\\\(.+)$" EXAMPLE\\$1;
    exchange_access_user_map "~^al(.+)$" EXAMPLE\\carol;
    exchange_access_user_map "~^b$" EXAMPLE\\carol;
    exchange_access_require mapi list=remote;

    location / {
        proxy_pass http://exchange_backend;
    }
--- request eval
[('POST /mapi/emsmdb/') x 10]
--- more_headers eval
[main::basic_auth('O\carol'), main::basic_auth('o\alice'),
 main::basic_auth('P\carol'), main::basic_auth('albob'),
 main::basic_auth('b'), main::basic_auth('a'), main::ntlm3('carol', 'O'),
 main::ntlm3('alice', 'o'), main::ntlm3('carol', 'P'),
 main::ntlm3('lbob', 'a')]
--- error_code eval
[200, 200, 403, 200, 200, 403, 200, 200, 403, 403]
--- error_log
exchange access denied user "P\x5Ccarol" (foreign_domain)
exchange access denied user "a" (not_member)



=== TEST 14: on one keep-alive connection, a Basic header no map rewrote is read once; one a map rewrites is mapped every time
--- log_level: debug
--- config
    exchange_access on;
    exchange_access_user_map "~^(?<u>[^@]+)@corp\.example$" $u@example.com;
    exchange_access_require mapi list=remote;

    location / {
        proxy_pass http://exchange_backend;
    }
--- pipelined_requests eval
[('POST /mapi/emsmdb/') x 10]
--- more_headers eval
[(main::basic_auth('alice@corp.example')) x 3, main::basic_auth('bob@corp.example'),
 (main::basic_auth('carol')) x 2, main::basic_auth('bob@corp.example'),
 main::basic_auth('carol'), (main::basic_auth('alice@other.example')) x 2]
--- error_code eval
[200, 200, 200, 403, 200, 200, 403, 200, 403, 403]
--- grep_error_log eval
qr/exchange access: the Basic header of the connection's last request|exchange access denied user "[^"]+"/
--- grep_error_log_out
exchange access denied user "bob@example.com"
exchange access: the Basic header of the connection's last request
exchange access denied user "bob@example.com"
exchange access: the Basic header of the connection's last request
exchange access denied user "alice@other.example"
exchange access: the Basic header of the connection's last request
exchange access denied user "alice@other.example"
