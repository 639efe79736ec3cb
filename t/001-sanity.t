# First slice: mapi and rpc restricted to a list from a file, Basic names,
# internal clients, audit mode, variables and configuration errors.

use lib 't/lib';
use Test::Nginx::Socket;
use ExchangeAccess::Fixture;

repeat_each(1);

our $List = <<'LIST';
# people allowed to use Outlook from outside
alice
EXAMPLE\Carol
dave@example.com
LIST

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->user_files) {
        $block->set_value('user_files', ">>> remote.txt\n$List");
    }
});

# a list file of n names, user000001 to user<n>
sub names {
    my $n = shift;
    return [["remote.txt",
             join("", map { sprintf("user%06d\n", $_) } 1 .. $n)]];
}

# the list block of that file, refreshed every second
sub big_list {
    my $zone = shift;
    return <<"CONF";
    exchange_access_list remote {
        zone $zone;
        file \$TEST_NGINX_HTML_DIR/remote.txt;
        refresh 1s;
    }
CONF
}

our $StatusAndMapi = <<'CONF';
    location = /status {
        exchange_access_status;
    }

    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
CONF

# what the exec sections of the big lists start with: code USER prints the
# status of a MAPI request with USER's Basic credentials
our $Shell = <<'SH';
cd $TEST_NGINX_HTML_DIR
log=$TEST_NGINX_LOG_DIR/error.log
base=http://127.0.0.1:$TEST_NGINX_SERVER_PORT
code() { curl -s -o /dev/null -w "$1 %{http_code}\n" \
         -H "Authorization: Basic $(printf '%s:pw' "$1" | base64)" \
         $base/mapi/emsmdb/; }
SH

run_tests();

__DATA__

=== TEST 1: a member reaches /mapi/ from outside
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- request
POST /mapi/emsmdb/?MailboxId=0123@example.com
--- more_headers eval
basic_auth('EXAMPLE\alice')
--- error_code: 200
--- response_body_like: ^backend: POST /mapi/emsmdb/\?MailboxId=0123@example.com auth=Basic
--- no_error_log
exchange access denied
[alert]



=== TEST 2: a non-member gets 403, logged with user, protocol and client
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- request
POST /mapi/emsmdb/
--- more_headers eval
basic_auth('EXAMPLE\bob')
--- error_code: 403
--- response_body_unlike: backend
--- error_log eval
qr/\[info\] .*exchange access denied user "bob" \(not_member\), protocol mapi, list "remote", client: 127\.0\.0\.1/



=== TEST 3: the three Basic name forms, in any case
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
["GET /mapi/nspi/", "GET /mapi/nspi/", "GET /mapi/nspi/", "GET /mapi/nspi/",
 "GET /mapi/nspi/", "GET /mapi/nspi/"]
--- more_headers eval
[basic_auth('ALICE'), basic_auth('example\carol'), basic_auth('Dave@Example.COM'),
 basic_auth('carol@example.com'), basic_auth('dave'), basic_auth('OTHER\Alice')]
--- error_code eval
[200, 200, 200, 403, 403, 200]



=== TEST 4: rpc over http, with its own methods and any case
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
['RPC_IN_DATA /rpc/rpcproxy.dll?mbx@example.com:6001',
 'RPC_OUT_DATA /RPC/RpcProxy.dll?mbx@example.com:6001',
 'RPC_IN_DATA /Rpc/rpcproxy.dll?mbx@example.com:6001']
--- more_headers eval
[basic_auth('bob'), basic_auth('bob'), basic_auth('alice')]
--- error_code eval
[403, 403, 200]
--- response_body_like eval
[qr/403 Forbidden/, qr/403 Forbidden/, qr{^backend: RPC_IN_DATA /Rpc/rpcproxy.dll}]



=== TEST 5: audit mode forwards a non-member and says it would deny
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- config
    location / {
        exchange_access audit;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- request
POST /mapi/emsmdb/
--- more_headers eval
basic_auth('EXAMPLE\bob')
--- error_code: 200
--- response_body_like: ^backend: POST /mapi/emsmdb/
--- error_log
exchange access audit: would deny user "bob" (not_member), protocol mapi, list "remote"
--- no_error_log
exchange access denied



=== TEST 6: no Authorization header is forwarded: the backend challenges
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- request
POST /mapi/emsmdb/
--- error_code: 401
--- response_body
backend: 401 POST /mapi/emsmdb/
--- response_headers_like
WWW-Authenticate: .+
--- no_error_log
exchange access



=== TEST 7: an internal client is forwarded whoever it is
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        exchange_access_internal 10.0.0.0/8 127.0.0.0/8;
        proxy_pass http://exchange_backend;
    }
--- request
POST /mapi/emsmdb/
--- more_headers eval
basic_auth('bob')
--- error_code: 200
--- response_body_like: ^backend: POST /mapi/emsmdb/



=== TEST 8: internal is decided on the address realip found
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- config
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;

    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        exchange_access_internal 10.0.0.0/8;
        proxy_pass http://exchange_backend;
    }
--- request eval
["POST /mapi/emsmdb/", "POST /mapi/emsmdb/"]
--- more_headers eval
[basic_auth('bob') . "\nX-Forwarded-For: 10.1.2.3",
 basic_auth('bob') . "\nX-Forwarded-For: 203.0.113.9"]
--- error_code eval
[200, 403]
--- error_log
client: 203.0.113.9



=== TEST 9: other protocols pass untouched
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
["GET /owa/", "POST /EWS/Exchange.asmx", "GET /mapiX/emsmdb", "GET /rpcproxy.dll"]
--- more_headers eval
[basic_auth('bob'), basic_auth('bob'), basic_auth('bob'), basic_auth('bob')]
--- error_code eval
[200, 200, 200, 200]



=== TEST 10: variables in the access log
--- http_config
    log_format exa '$request_method $uri p=$exchange_protocol u=$exchange_user '
                   'a=$exchange_access r=$exchange_access_reason s=$status';
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- config
    access_log logs/access.log exa;

    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
["POST /mapi/emsmdb/", "POST /mapi/emsmdb/", "GET /owa/", "POST /mapi/nspi/"]
--- more_headers eval
[basic_auth('Alice'), basic_auth('bob'), basic_auth('bob'), ""]
--- error_code eval
[200, 403, 200, 401]
--- access_log
POST /mapi/emsmdb/ p=mapi u=alice a=allow r=member s=200
POST /mapi/emsmdb/ p=mapi u=bob a=deny r=not_member s=403
GET /owa/ p=owa u=- a=pass r=unrestricted s=200
POST /mapi/nspi/ p=mapi u=- a=pass r=no_credential s=401



=== TEST 11: exchange_access off in a location inherits nothing to enforce
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- config
    exchange_access on;
    exchange_access_require mapi rpc list=remote;

    location /mapi/healthcheck.htm {
        exchange_access off;
        proxy_pass http://exchange_backend;
    }

    location / {
        proxy_pass http://exchange_backend;
    }
--- request eval
["GET /mapi/healthcheck.htm", "GET /mapi/emsmdb/"]
--- more_headers eval
[basic_auth('bob'), basic_auth('bob')]
--- error_code eval
[200, 403]



=== TEST 12: a location's exchange_access_require replaces the inherited one
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- config
    exchange_access on;
    exchange_access_require mapi rpc list=remote;

    location /rpc/ {
        exchange_access_require mapi list=remote;
        proxy_pass http://exchange_backend;
    }

    location / {
        proxy_pass http://exchange_backend;
    }
--- request eval
["RPC_IN_DATA /rpc/rpcproxy.dll?x:6001", "RPC_IN_DATA /mapi/emsmdb/"]
--- more_headers eval
[basic_auth('bob'), basic_auth('bob')]
--- error_code eval
[200, 403]



=== TEST 13: a malformed Basic credential is denied by default
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
["POST /mapi/emsmdb/", "POST /mapi/emsmdb/", "POST /mapi/emsmdb/",
 "POST /mapi/emsmdb/"]
--- more_headers eval
["Authorization: Basic YWxpY2U=", "Authorization: Basic !!!!",
 "Authorization: Basic", "Authorization: Basic Og=="]
--- error_code eval
[403, 403, 403, 403]
--- error_log
exchange access denied unidentified user (unidentified: basic credential, no colon in basic credential), protocol mapi
exchange access denied unidentified user (unidentified: basic credential, bad base64)
exchange access denied unidentified user (unidentified: basic credential, no token)
exchange access denied unidentified user (unidentified: basic credential, empty user name)



=== TEST 14: the list is read again at reload
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- exec
cd $TEST_NGINX_HTML_DIR
b=$(printf bob:pw | base64)
code() { curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Basic $b" \
         http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mapi/emsmdb/; }
code
echo bob >> remote.txt
kill -HUP $(cat $TEST_NGINX_LOG_DIR/nginx.pid)
for i in $(seq 50); do
    grep -q 'generation 2' $TEST_NGINX_LOG_DIR/error.log && break; sleep 0.1
done
sleep 0.3
code
--- exec_stdout
403
200
--- error_log
exchange_access_list "remote": 3 names loaded, generation 1
exchange_access_list "remote": 4 names loaded, generation 2



=== TEST 15: a changed list file is read again without a reload
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
        refresh 1s;
    }
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- exec
cd $TEST_NGINX_HTML_DIR
b=$(printf bob:pw | base64)
code() { curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Basic $b" \
         http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mapi/emsmdb/; }
code
echo bob >> remote.txt
touch -d @$(( $(date +%s) + 5 )) remote.txt
for i in $(seq 50); do
    grep -q 'generation 2' $TEST_NGINX_LOG_DIR/error.log && break; sleep 0.1
done
code
--- exec_stdout
403
200
--- error_log
exchange_access_list "remote": 4 names loaded, generation 2
--- no_error_log
reconfiguring



=== TEST 16: unknown protocol
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi imap list=remote;
    }
--- must_die
--- error_log
unknown protocol "imap", expected mapi, rpc, ews, eas, owa, ecp, oab, autodiscover, powershell or other



=== TEST 17: a list that is never defined
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi list=nowhere;
    }
--- must_die
--- error_log eval
qr/exchange_access_list "nowhere" is not defined, but is used in \S+nginx\.conf:\d+/



=== TEST 18: exchange_access_require without list=
--- config
    location / {
        exchange_access_require mapi rpc;
    }
--- must_die
--- error_log
missing "list=" parameter in



=== TEST 19: an unreadable list file
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/missing.txt;
    }
--- config
    location / { }
--- must_die
--- error_log eval
qr/open\(\) ".*missing\.txt" failed \(2: No such file or directory\)/



=== TEST 20: a zone below eight pages
--- http_config
    exchange_access_list remote {
        zone 16k;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- config
    location / { }
--- must_die
--- error_log
zone of exchange_access_list "remote" is too small: 16k, at least 32k



=== TEST 21: a list without a zone, without a source, or with junk
--- http_config
    exchange_access_list remote {
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- config
    location / { }
--- must_die
--- error_log
exchange_access_list "remote" has no "zone"



=== TEST 22: a list without a source
--- http_config
    exchange_access_list remote {
        zone 1m;
    }
--- config
    location / { }
--- must_die
--- error_log
exchange_access_list "remote" has no source: give "file"



=== TEST 23: an invalid name in the list file names its line
--- user_files
>>> remote.txt
alice
bad user name
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- config
    location / { }
--- must_die
--- error_log eval
qr/invalid user name in line 2 of ".*remote\.txt" \(exchange_access_list "remote"\)/



=== TEST 24: names that do not fit in the zone
--- user_files eval
[["remote.txt", join("", map { sprintf("user%06d\n", $_) } 1 .. 20000)]]
--- http_config
    exchange_access_list remote {
        zone 32k;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- config
    location / { }
--- must_die
--- error_log
exchange_access_list "remote": 20000 names do not fit in its zone of 32768 bytes, make "zone" larger



=== TEST 25: a wrong mode
--- config
    location / {
        exchange_access maybe;
    }
--- must_die
--- error_log
invalid value "maybe" in



=== TEST 26: a bigger list, and a deny status that error_page can dress
--- user_files eval
[["remote.txt", join("", map { sprintf("user%06d\n", $_) } 1 .. 20000)]]
--- http_config
    exchange_access_list remote {
        zone 4m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- config
    error_page 403 /denied.html;

    location = /denied.html {
        return 403 "external Outlook is not enabled for you\n";
    }

    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
["POST /mapi/emsmdb/", "POST /mapi/emsmdb/", "POST /mapi/emsmdb/"]
--- more_headers eval
[basic_auth('user000001'), basic_auth('User019999'), basic_auth('user020001')]
--- error_code eval
[200, 200, 403]
--- response_body_like eval
[qr/^backend/, qr/^backend/, qr/^external Outlook is not enabled for you/]



=== TEST 27: a list of 300,000 names read again is built a step at a time, and the same names in another order are no new list
--- user_files eval
main::names(300000)
--- http_config eval
main::big_list('64m')
--- config eval
$main::StatusAndMapi
--- exec eval
$main::Shell . <<'SH'
refreshes() { curl -s $base/status | perl -ne 'print $1 if /"refreshes":(\d+)/'; }
code zed
echo zed >> remote.txt
touch -d @$(( $(date +%s) + 5 )) remote.txt
for i in $(seq 100); do
    grep -q 'generation 2' $log && break; sleep 0.1
done
grep -o '300001 names loaded, generation 2, built in [0-9]* steps' $log \
    | sed 's/[0-9]* steps/N steps/'
code zed; code user000001; code user300000; code user300001
tac remote.txt > remote.new && mv remote.new remote.txt
touch -d @$(( $(date +%s) + 10 )) remote.txt
c=$(refreshes)
for i in $(seq 100); do
    [ "$(refreshes)" -ge $((c + 2)) ] && break; sleep 0.1
done
[ "$(refreshes)" -ge $((c + 2)) ] && echo "read again"
grep -c 'names loaded' $log
code zed
SH
--- exec_stdout
zed 403
300001 names loaded, generation 2, built in N steps
zed 200
user000001 200
user300000 200
user300001 403
read again
2
zed 200
--- no_error_log
[alert]
refresh failed



=== TEST 28: a refresh step that lost the CPU is logged with its CPU time, which stays short
(the worker is stopped and continued while it reads a new list of 300,000
names: a step it was stopped in kept the event loop long, and the log
tells that the refresh's own work in it was short)
--- user_files eval
main::names(300000)
--- http_config eval
main::big_list('64m')
--- config
    location = /status {
        exchange_access_status;
    }
--- wait_for
300000 names loaded
--- exec
cd $TEST_NGINX_HTML_DIR
log=$TEST_NGINX_LOG_DIR/error.log
worker=$(pgrep -P $(cat $TEST_NGINX_SERVROOT/logs/nginx.pid))
echo zed >> remote.txt
touch -d @$(( $(date +%s) + 5 )) remote.txt
for i in $(seq 300); do
    grep -q 'generation 2' $log && break
    kill -STOP $worker; sleep 0.02; kill -CONT $worker; sleep 0.005
done
grep -q '300001 names loaded, generation 2' $log && echo "loaded"
perl -ne '$n++ if /a refresh step kept the event loop (\d+) us, (\d+) us of it on the CPU, until \d+\.\d{6}$/
          && $1 >= 15000 && $2 < 2000;
          END { print "a stopped step logged\n" if $n }' $log
curl -s http://127.0.0.1:$TEST_NGINX_SERVER_PORT/status \
    | perl -ne 'print "longest step CPU under 2 ms\n"
                    if /"last_longest_step_us":(\d+),"last_longest_step_cpu_us":(\d+),/
                       && $1 >= 15000 && $2 < 2000'
--- exec_stdout
loaded
a stopped step logged
longest step CPU under 2 ms
--- no_error_log
[alert]
refresh failed
--- timeout: 30



=== TEST 29: a list file is read in parts: lines across the parts' edges, CRLF, comments, and a last line without a newline are all read
--- user_files eval
[["remote.txt", "# the remote users\r\n"
  . join("", map { sprintf("%s%06d\r\n", "u" x (1 + $_ % 37), $_) } 1 .. 20000)
  . "\n   # indented comment\n\tzoe  "]]
--- http_config
    exchange_access_list remote {
        zone 4m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- config eval
$main::StatusAndMapi
--- request eval
["GET /status", "POST /mapi/emsmdb/", "POST /mapi/emsmdb/", "POST /mapi/emsmdb/", "POST /mapi/emsmdb/"]
--- more_headers eval
["", basic_auth('uu000001'), basic_auth(("u" x (1 + 12345 % 37)) . '012345'),
 basic_auth('zoe'), basic_auth('u000001')]
--- error_code eval
[200, 200, 200, 200, 403]
--- response_body_like eval
[qr/"entries":20001,/, qr/^backend/, qr/^backend/, qr/^backend/, qr/403 Forbidden/]



=== TEST 30: a line longer than the part a read takes is refused with its number
--- user_files eval
[["remote.txt", "alice\n" . ("x" x 70000) . "\nbob\n"]]
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- config
    location / { }
--- must_die
--- error_log eval
qr/line 2 of ".*remote\.txt" is longer than 64K \(exchange_access_list "remote"\)/



=== TEST 31: a refresh of a file that became invalid far into it fails, says why on the status page, and keeps the list; the file fixed is read
--- user_files eval
main::names(100000)
--- http_config eval
main::big_list('16m')
--- config eval
$main::StatusAndMapi
--- wait_for
100000 names loaded
--- exec eval
$main::Shell . <<'SH'
status() { curl -s $base/status; }
{ head -n 90000 remote.txt; echo 'bad user'; tail -n 10000 remote.txt; } > remote.new
mv remote.new remote.txt
touch -d @$(( $(date +%s) + 5 )) remote.txt
for i in $(seq 100); do
    grep -q 'invalid user name in line 90001' $log && break; sleep 0.1
done
grep -o 'invalid user name in line 90001 of "[^"]*remote.txt"' $log | sed 's/"[^"]*remote/"remote/'
sleep 0.3
status | perl -ne 'print "failing: $1, $2 entries\n" if /"state":"(\w+)".*"entries":(\d+),.*"last_error":"the list file is not valid"/'
code user090000
grep -v '^bad user$' remote.txt > remote.new && echo zed >> remote.new && mv remote.new remote.txt
touch -d @$(( $(date +%s) + 10 )) remote.txt
for i in $(seq 100); do
    grep -q '100001 names loaded' $log && break; sleep 0.1
done
code zed
SH
--- exec_stdout
invalid user name in line 90001 of "remote.txt"
failing: failing, 100000 entries
user090000 200
zed 200
--- no_error_log
[alert]
--- timeout: 30



=== TEST 32: the tables a refresh retires give their zone memory back after the grace period
--- user_files eval
main::names(100000)
--- http_config eval
main::big_list('16m')
--- config eval
$main::StatusAndMapi
--- wait_for
100000 names loaded
--- exec eval
$main::Shell . <<'SH'
free() { curl -s $base/status | perl -ne 'print $1 if /"zone_free_bytes":(\d+)/'; }
loaded() {
    for i in $(seq 100); do
        [ $(grep -c '100000 names loaded' $log) -ge $1 ] && return; sleep 0.1
    done
}
first=$(free)
sed -i 's/^user000001$/zed0000001/' remote.txt
touch -d @$(( $(date +%s) + 5 )) remote.txt
loaded 2
sed -i 's/^user000002$/zed0000002/' remote.txt
touch -d @$(( $(date +%s) + 10 )) remote.txt
loaded 3
held=$(free)
[ "$held" -lt "$first" ] && echo "two retired tables held"
for i in $(seq 150); do
    [ "$(free)" = "$first" ] && break; sleep 0.1
done
[ "$(free)" = "$first" ] && echo "all given back"
code zed0000002
code user000002
code user000003
SH
--- exec_stdout
two retired tables held
all given back
zed0000002 200
user000002 403
user000003 200
--- no_error_log
[alert]
--- timeout: 40
