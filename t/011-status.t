# Operating it: the status page in JSON and Prometheus text with counters
# summed over two workers, the deny status and its plain body, error_page,
# the log level, and the reason variable in an access log.

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

    $block->set_value('user_files', ">>> remote.txt\nalice\ncarol\n")
        unless defined $block->user_files;
    $block->set_value('http_config', ($block->http_config // '') . $Http);
});

# a known sequence of requests, each on its own connection so that both
# workers take some, then the status page
our $Sequence = <<'SH';
b() { printf '%s:pw' "$1" | base64; }
r() { curl -s -o /dev/null -X POST -H "Authorization: Basic $(b $2)" \
      "http://127.0.0.1:$TEST_NGINX_SERVER_PORT$1"; }
for i in 1 2 3; do r /mapi/emsmdb/ alice; done
for i in 1 2; do r /mapi/emsmdb/ bob; done
r /RPC/rpcproxy.dll carol
r /rpc/rpcproxy.dll dave
r /owa/ bob
r /owa/ bob
r /autodiscover/autodiscover.json?@x.com/mapi/nspi/?\&Email=autodiscover/autodiscover.json%3F@x.com alice
SH

run_tests();

__DATA__

=== TEST 1: JSON: lists and counters summed over two workers
--- workers: 2
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
    location = /status {
        exchange_access_status;
    }
--- exec eval
$main::Sequence . q{
sleep 0.3
curl -s http://127.0.0.1:$TEST_NGINX_SERVER_PORT/status > $TEST_NGINX_HTML_DIR/st.json
cat $TEST_NGINX_HTML_DIR/st.json
perl -MJSON::PP -e 'local $/; decode_json(<STDIN>); print "valid JSON\n"' < $TEST_NGINX_HTML_DIR/st.json
}
--- exec_stdout_like eval
qr/\{"time":\d+,"lists":\{"remote":\{"source":"file","loaded_from":"file","state":"ok","entries":2,"generation":1,"refreshes":\d+,"failures":0,"refused":0,"last_success":\d+,"last_attempt":\d+,"last_duration_ms":\d+,"last_longest_step_us":[1-9]\d*,"last_longest_step_cpu_us":[1-9]\d*,"last_cpu_us":[1-9]\d*,"next_refresh":\d+,"refresh_interval":60,"refreshing":0,"table_bytes":[1-9]\d*,"zone_bytes":1048576,"zone_free_bytes":[1-9]\d*,"watch":\{"mode":"off","method":"none","up":0,"last_change":0,"delay_ms":0,"changes":0,"refreshes":0,"applied":0,"reconnects":0\},"last_error":null,"state_file_error":null\}\},"requests":\{"other":\{"pass":0,"allow":0,"deny":0,"audit":0\},"mapi":\{"pass":0,"allow":3,"deny":3,"audit":0\},"rpc":\{"pass":0,"allow":1,"deny":1,"audit":0\},"ews":\{"pass":0,"allow":0,"deny":0,"audit":0\},"eas":\{"pass":0,"allow":0,"deny":0,"audit":0\},"owa":\{"pass":2,"allow":0,"deny":0,"audit":0\},.*\},"sessions_ended":\{"requests":0,"connections":0\}\}\n.*^valid JSON$/ms
--- access_log eval
[qr/"GET \/status HTTP\/1.1" 200 /]



=== TEST 2: Prometheus text exposition
--- config
    location / {
        exchange_access audit;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
    location = /status {
        exchange_access_status;
    }
--- exec eval
$main::Sequence . q{
sleep 0.3
curl -s -D - 'http://127.0.0.1:$TEST_NGINX_SERVER_PORT/status?format=prometheus'
}
--- exec_stdout_like eval
qr/Content-Type: text\/plain; version=0\.0\.4; charset=utf-8\r\n.*# HELP exchange_access_list_entries Names on the allow-list\.\n# TYPE exchange_access_list_entries gauge\nexchange_access_list_entries\{list="remote"\} 2\n.*exchange_access_list_up\{list="remote"\} 1\n.*exchange_access_list_last_refresh_longest_step_seconds\{list="remote"\} 0\.\d{6}\n.*exchange_access_list_last_refresh_longest_step_cpu_seconds\{list="remote"\} 0\.\d{6}\n.*exchange_access_list_last_refresh_cpu_seconds\{list="remote"\} 0\.\d{6}\n.*# TYPE exchange_access_list_refresh_failures_total counter\n.*exchange_access_list_table_bytes\{list="remote"\} [1-9]\d*\n.*exchange_access_list_zone_free_bytes\{list="remote"\} [1-9]\d*\n.*exchange_access_list_info\{list="remote",source="file",loaded_from="file",state="ok",watch="off",watch_method="none"\} 1\n.*# TYPE exchange_access_requests_total counter\n.*exchange_access_requests_total\{protocol="mapi",decision="allow"\} 3\nexchange_access_requests_total\{protocol="mapi",decision="deny"\} 0\nexchange_access_requests_total\{protocol="mapi",decision="audit"\} 3\n.*exchange_access_requests_total\{protocol="rpc",decision="audit"\} 1\n.*exchange_access_requests_total\{protocol="owa",decision="pass"\} 2\n.*# HELP exchange_access_sessions_ended_total Sessions ended because their user left a list: running requests, and connections whose NTLM identity was the user\.\n# TYPE exchange_access_sessions_ended_total counter\nexchange_access_sessions_ended_total\{kind="request"\} 0\nexchange_access_sessions_ended_total\{kind="connection"\} 0\n/s



=== TEST 3: a status page with a wrong format or method
--- config
    location = /status {
        exchange_access_status;
    }
--- request eval
['GET /status?format=xml', 'POST /status']
--- error_code eval
[400, 405]



=== TEST 4: exchange_access_deny_status and its short plain body
--- config
    location / {
        exchange_access on;
        exchange_access_deny_status 404;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- request
POST /mapi/emsmdb/
--- more_headers eval
main::basic_auth('bob')
--- error_code: 404
--- response_headers
Content-Type: text/plain
--- response_body
404 Not Found



=== TEST 5: the default 403, plain, and error_page dresses it up
--- config
    location = /denied.html {
        internal;
        return 403 "<p>External Outlook is not enabled for you.</p>\n";
    }
    location /rpc/ {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
    location / {
        error_page 403 /denied.html;
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
['RPC_IN_DATA /rpc/rpcproxy.dll?x:6001', 'POST /mapi/emsmdb/']
--- more_headers eval
[main::basic_auth('bob'), main::basic_auth('bob')]
--- error_code eval
[403, 403]
--- response_body eval
["403 Forbidden\n", "<p>External Outlook is not enabled for you.</p>\n"]



=== TEST 6: per-request lines are not at the default error log level, unless asked
--- log_level: error
--- config
    location /mapi/ {
        exchange_access on;
        exchange_access_require mapi list=remote;
        proxy_pass http://exchange_backend;
    }
    location /rpc/ {
        exchange_access on;
        exchange_access_log_level error;
        exchange_access_require rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
['POST /mapi/emsmdb/', 'RPC_IN_DATA /rpc/rpcproxy.dll?x:6001']
--- more_headers eval
[main::basic_auth('bob'), main::basic_auth('dave')]
--- error_code eval
[403, 403]
--- error_log
exchange access denied user "dave" (not_member), protocol rpc
--- no_error_log
exchange access denied user "bob"



=== TEST 7: $exchange_access_reason and friends in an access log, with a map
--- http_config
    map $exchange_access $exa_flag {
        deny     DENIED;
        audit    WOULD-DENY;
        default  ok;
    }
    log_format exa '$uri $exchange_protocol $exchange_user $exchange_access '
                   '$exchange_access_reason $exa_flag';
--- config
    access_log logs/access.log exa;
    exchange_access_internal 10.0.0.0/8;

    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- request eval
['POST /mapi/emsmdb/', 'POST /mapi/emsmdb/', 'GET /owa/x@y.com/powershell',
 'POST /mapi/emsmdb/', 'POST /mapi/emsmdb/']
--- more_headers eval
[main::basic_auth('carol'), main::basic_auth('bob'), main::basic_auth('bob'),
 'Authorization: Basic !!', 'Authorization: NTLM TlRMTVNTUAABAAAAB4IIAAAAAAAgAAAAAAAAACAAAAA=']
--- error_code eval
[200, 403, 403, 403, 401]
--- access_log
/mapi/emsmdb/ mapi carol allow member ok
/mapi/emsmdb/ mapi bob deny not_member DENIED
/owa/x@y.com/powershell powershell - deny path_confusion DENIED
/mapi/emsmdb/ mapi - deny unidentified DENIED
/mapi/emsmdb/ mapi - pass handshake ok
