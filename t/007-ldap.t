# The LDAP source against a real OpenLDAP slapd started for this file:
# membership modes, refreshes, TLS, bind errors, outages, state files.

use lib 't/lib';
use Test::Nginx::Socket;
use ExchangeAccess::Fixture;
use ExchangeAccess::Slapd;

repeat_each(1);

our $Slapd = ExchangeAccess::Slapd->start(base => 1);
$Slapd->{owner} = $$;

$ENV{TEST_NGINX_STATE_DIR} = "$ENV{TEST_NGINX_LDAP_DIR}/state";
mkdir $ENV{TEST_NGINX_STATE_DIR};

# the workers write the state file: they run as nobody here
chmod 0777, $ENV{TEST_NGINX_STATE_DIR};

# a list block; %s: the lines that differ between tests
sub list {
    my ($extra, %o) = @_;
    my $url = $o{url} || 'ldap://127.0.0.1:$TEST_NGINX_LDAP_PORT';
    my $group = $o{group} || 'cn=outlook-remote,ou=groups,dc=example,dc=com';

    return <<"CONF";
    exchange_access_list remote {
        zone 1m;
        ldap_url $url;
        ldap_bind_dn "uid=svc-nginx,ou=service,dc=example,dc=com";
        ldap_bind_password_file \$TEST_NGINX_HTML_DIR/ldap.secret;
        ldap_base "dc=example,dc=com";
        ldap_group "$group";
        ldap_timeout 2s;
        refresh 1s;
$extra
    }
CONF
}

our $Location = <<'CONF';
    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
CONF

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('user_files', ">>> ldap.secret\nSvc-Passw0rd\n")
        unless defined $block->user_files;
    $block->set_value('config', $Location) unless defined $block->config;
});

sub code_of {
    my $user = shift;
    return "curl -s -o /dev/null -w '$user %{http_code}\\n' "
         . "-u '$user:pw' http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/mapi/emsmdb/";
}

run_tests();

__DATA__

=== TEST 1: walk: nested three levels deep, direct members, UPNs; others denied
--- http_config eval
main::list('        ldap_nested walk;')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- request eval
[('POST /mapi/emsmdb/') x 6]
--- more_headers eval
[main::basic_auth('EXAMPLE\alice'), main::basic_auth('carol'),
 main::basic_auth('alice@example.test'), main::basic_auth('hank'),
 main::basic_auth('bob'), main::basic_auth('dave')]
--- error_code eval
[200, 200, 200, 200, 403, 403]
--- no_error_log
Svc-Passw0rd
refresh failed



=== TEST 2: off: direct members only
--- http_config eval
main::list('        ldap_nested off;')
--- wait_for
exchange_access_list "remote": 4 names loaded
--- request eval
[('POST /mapi/emsmdb/') x 2]
--- more_headers eval
[main::basic_auth('carol'), main::basic_auth('alice')]
--- error_code eval
[200, 403]



=== TEST 3: ldap_filter takes out a disabled account
--- http_config eval
main::list('        ldap_nested walk;
        ldap_filter "(!(userAccountControl:1.2.840.113556.1.4.803:=2))";')
--- wait_for
exchange_access_list "remote": 4 names loaded
--- request eval
[('POST /mapi/emsmdb/') x 2]
--- more_headers eval
[main::basic_auth('alice'), main::basic_auth('hank')]
--- error_code eval
[200, 403]



=== TEST 4: a cycle of groups ends, and both members are found
--- http_config eval
main::list('        ldap_nested walk;', group => 'cn=cycle-a,ou=groups,dc=example,dc=com')
--- wait_for
exchange_access_list "remote": 4 names loaded
--- request eval
[('POST /mapi/emsmdb/') x 3]
--- more_headers eval
[main::basic_auth('erin'), main::basic_auth('frank'), main::basic_auth('alice')]
--- error_code eval
[200, 200, 403]



=== TEST 5: chain against a server without the in-chain rule: an empty answer is refused, the module fails closed
--- http_config eval
main::list('        ldap_nested chain;')
--- wait_for
found nobody although the groups have 3 members
--- request
POST /mapi/emsmdb/
--- more_headers eval
main::basic_auth('carol')
--- error_code: 403
--- error_log
refresh failed, no list yet, restricted requests from outside are denied
exchange access denied user "carol" (list_unavailable)



=== TEST 6: a user added to the group is let in, and out again when removed, after the next refresh
--- http_config eval
main::list('        ldap_nested walk;')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- exec
cd $TEST_NGINX_LDAP_DIR
mod() { ldapmodify -x -H ldap://127.0.0.1:$TEST_NGINX_LDAP_PORT \
        -D cn=admin,dc=example,dc=com -w secret >/dev/null; }
code() { curl -s -o /dev/null -w "$1 %{http_code}\n" -u "$1:pw" \
         http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mapi/emsmdb/; }
wait_gen() { for i in $(seq 100); do
    grep -q "names loaded, generation $1" $TEST_NGINX_LOG_DIR/error.log && return
    sleep 0.1; done; }
code bob
printf 'dn: cn=level3,ou=groups,dc=example,dc=com\nchangetype: modify\nadd: member\nmember: uid=bob,ou=people,dc=example,dc=com\n' | mod
wait_gen 2
code bob
printf 'dn: cn=level3,ou=groups,dc=example,dc=com\nchangetype: modify\ndelete: member\nmember: uid=bob,ou=people,dc=example,dc=com\n' | mod
wait_gen 3
code bob
code alice
--- exec_stdout
bob 403
bob 200
bob 403
alice 200



=== TEST 7: LDAPS with the right CA
--- http_config eval
main::list('        ldap_nested walk;
        ldap_trusted_certificate $TEST_NGINX_LDAP_CA;',
    url => 'ldaps://127.0.0.1:$TEST_NGINX_LDAPS_PORT')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- request
POST /mapi/emsmdb/
--- more_headers eval
main::basic_auth('alice')
--- error_code: 200



=== TEST 8: StartTLS with the right CA
--- http_config eval
main::list('        ldap_nested walk;
        ldap_starttls on;
        ldap_trusted_certificate $TEST_NGINX_LDAP_CA;')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- request
POST /mapi/emsmdb/
--- more_headers eval
main::basic_auth('alice')
--- error_code: 200



=== TEST 9: LDAPS with a wrong CA is refused, clearly
--- http_config eval
main::list('        ldap_nested walk;
        ldap_trusted_certificate $TEST_NGINX_LDAP_OTHER_CA;',
    url => 'ldaps://127.0.0.1:$TEST_NGINX_LDAPS_PORT')
--- wait_for eval
qr/refresh failed, no list yet.*certificate verify error: \(\d+:[^)]+\)/
--- request
POST /mapi/emsmdb/
--- more_headers eval
main::basic_auth('alice')
--- error_code: 403



=== TEST 10: StartTLS with a wrong CA is refused
--- http_config eval
main::list('        ldap_nested walk;
        ldap_starttls on;
        ldap_trusted_certificate $TEST_NGINX_LDAP_OTHER_CA;')
--- wait_for
certificate verify error
--- request
POST /mapi/emsmdb/
--- more_headers eval
main::basic_auth('alice')
--- error_code: 403



=== TEST 11: a certificate that does not name the server is refused
--- http_config eval
main::list('        ldap_nested walk;
        ldap_trusted_certificate $TEST_NGINX_LDAP_CA;',
    url => 'ldaps://127.0.0.2:$TEST_NGINX_LDAPS_PORT')
--- wait_for
certificate does not match "127.0.0.2"
--- request
POST /mapi/emsmdb/
--- more_headers eval
main::basic_auth('alice')
--- error_code: 403



=== TEST 12: a wrong bind password: a clear error, and the password nowhere in the log
--- user_files
>>> ldap.secret
Wr0ng-Passw0rd
--- http_config eval
main::list('        ldap_nested walk;')
--- wait_for
bind as "uid=svc-nginx,ou=service,dc=example,dc=com" failed (49: Invalid credentials)
--- log_level: debug
--- request
POST /mapi/emsmdb/
--- more_headers eval
main::basic_auth('alice')
--- error_code: 403
--- no_error_log
Wr0ng-Passw0rd



=== TEST 13: the first URL is dead, the second answers
--- http_config eval
main::list('        ldap_nested walk;', url => 'ldap://127.0.0.1:1 ldap://127.0.0.1:$TEST_NGINX_LDAP_PORT')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- request
POST /mapi/emsmdb/
--- more_headers eval
main::basic_auth('alice')
--- error_code: 200
--- no_error_log
refresh failed



=== TEST 14: the directory going down later: the last list stays, and coming back is logged once
--- http_config eval
main::list('        ldap_nested walk;')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- exec
code() { curl -s -o /dev/null -w "$1 %{http_code}\n" -u "$1:pw" \
         http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mapi/emsmdb/; }
kill -STOP $(cat $TEST_NGINX_LDAP_DIR/slapd.pid)
for i in $(seq 100); do
  grep -q 'refresh failed, the last good list stays' $TEST_NGINX_LOG_DIR/error.log && break
  sleep 0.1
done
code alice
code bob
for i in $(seq 150); do
  grep -q 'stale, no refresh has worked for' $TEST_NGINX_LOG_DIR/error.log && break
  sleep 0.1
done
code alice
kill -CONT $(cat $TEST_NGINX_LDAP_DIR/slapd.pid)
for i in $(seq 100); do
  grep -q 'refresh works again' $TEST_NGINX_LOG_DIR/error.log && break
  sleep 0.1
done
code alice
grep -c 'stale, no refresh' $TEST_NGINX_LOG_DIR/error.log
--- exec_stdout
alice 200
bob 403
alice 200
alice 200
1
--- error_log
refresh failed, the last good list stays
timed out
stale, no refresh has worked for
refresh works again, 6 names
--- timeout: 30



=== TEST 15: a server that accepts and never answers: requests are served meanwhile
--- http_config eval
main::list('        ldap_nested walk;')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- exec
kill -STOP $(cat $TEST_NGINX_LDAP_DIR/slapd.pid)
sleep 1.5
s=$(date +%s%N)
curl -s -o /dev/null -w '%{http_code}\n' -u 'alice:pw' \
     http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mapi/emsmdb/
e=$(date +%s%N)
kill -CONT $(cat $TEST_NGINX_LDAP_DIR/slapd.pid)
[ $(( (e - s) / 1000000 )) -lt 500 ] && echo fast
--- exec_stdout
200
fast



=== TEST 16: the list is written to the state file
--- http_config eval
main::list('        ldap_nested walk;
        state_file $TEST_NGINX_STATE_DIR/remote.list;')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- exec
sleep 0.5; grep -v '^#' $TEST_NGINX_STATE_DIR/remote.list | sort
--- exec_stdout
alice
alice@example.test
carol
carol@example.test
hank
hank@example.test



=== TEST 17: directory down at start, with a state file: its list is used
--- init
$main::Slapd->stop;
--- http_config eval
main::list('        ldap_nested walk;
        state_file $TEST_NGINX_STATE_DIR/remote.list;')
--- wait_for
refresh failed, the last good list stays
--- request eval
[('POST /mapi/emsmdb/') x 2]
--- more_headers eval
[main::basic_auth('alice'), main::basic_auth('bob')]
--- error_code eval
[200, 403]
--- error_log
6 names loaded from the state file



=== TEST 18: directory down at start, without a state file: fail closed
--- http_config eval
main::list('        ldap_nested walk;')
--- wait_for
refresh failed, no list yet, restricted requests from outside are denied
--- request
POST /mapi/emsmdb/
--- more_headers eval
main::basic_auth('alice')
--- error_code: 403
--- error_log
exchange access denied user "alice" (list_unavailable)



=== TEST 19: configuration errors: a missing password file
--- init
$main::Slapd->launch;
--- user_files
>>> other
x
--- http_config eval
main::list('        ldap_nested walk;')
--- must_die
--- error_log eval
qr/open\(\) ".*ldap\.secret" failed \(ldap_bind_password_file\) \(2: No such file or directory\)/



=== TEST 20: configuration errors: a bad URL, a bad filter, a missing group
--- http_config
    exchange_access_list remote {
        zone 1m;
        ldap_url http://127.0.0.1;
    }
--- must_die
--- error_log
invalid ldap_url "http://127.0.0.1": it must start with ldap:// or ldaps://



=== TEST 21: configuration errors: a filter that is not one filter
--- http_config eval
main::list('        ldap_filter "(a=b)(c=d)";')
--- must_die
--- error_log
invalid ldap_filter "(a=b)(c=d)": it must be one filter in parentheses



=== TEST 22: a group that does not exist: the refresh fails, clearly
--- http_config eval
main::list('        ldap_nested walk;', group => 'cn=nowhere,ou=groups,dc=example,dc=com')
--- wait_for
reading group "cn=nowhere,ou=groups,dc=example,dc=com" failed (32: No such object)
--- request
POST /mapi/emsmdb/
--- more_headers eval
main::basic_auth('alice')
--- error_code: 403



=== TEST 23: two workers: the list is loaded once per change, by one of them
--- workers: 2
--- http_config eval
main::list('        ldap_nested walk;')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- wait: 2.5
--- request eval
[('POST /mapi/emsmdb/') x 4]
--- more_headers eval
[(main::basic_auth('alice'), main::basic_auth('bob')) x 2]
--- error_code eval
[200, 403, 200, 403]
--- no_error_log eval
[qr/names loaded, generation 2/]



=== TEST 24: a reload while the directory is down keeps the zone and its list
--- http_config eval
main::list('        ldap_nested walk;')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- exec
code() { curl -s -o /dev/null -w "$1 %{http_code}\n" -u "$1:pw" \
         http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mapi/emsmdb/; }
kill -STOP $(cat $TEST_NGINX_LDAP_DIR/slapd.pid)
kill -HUP $(cat $TEST_NGINX_LOG_DIR/nginx.pid)
for i in $(seq 100); do
  grep -q 'reconfiguring' $TEST_NGINX_LOG_DIR/error.log && break; sleep 0.1
done
sleep 1
code alice
code bob
kill -CONT $(cat $TEST_NGINX_LDAP_DIR/slapd.pid)
--- exec_stdout
alice 200
bob 403
--- no_error_log
names loaded, generation 2



=== TEST 25: the status page tells what went wrong, escaped, and no password
--- user_files
>>> ldap.secret
Wr0ng-Passw0rd
--- http_config eval
main::list('        ldap_nested walk;')
--- config
    location = /status {
        exchange_access_status;
    }
--- wait_for
Invalid credentials
--- request eval
['GET /status', 'GET /status?format=prometheus']
--- response_body_like eval
[qr/"remote":\{"source":"ldap","loaded_from":"none","state":"unavailable","entries":0,"generation":0,"refreshes":\d+,"failures":[1-9]\d*,.*"last_error":"ldap:\/\/127\.0\.0\.1:\d+: bind as \\"uid=svc-nginx,ou=service,dc=example,dc=com\\" failed \(49: Invalid credentials\)","state_file_error":null\}/,
 qr/exchange_access_list_loaded\{list="remote"\} 0\n.*exchange_access_list_up\{list="remote"\} 0\n|exchange_access_list_up\{list="remote"\} 0\n.*exchange_access_list_loaded\{list="remote"\} 0\n/s]
--- response_body_unlike eval
[qr/Wr0ng/, qr/Wr0ng/]



=== TEST 26: the status page tells how long a step of the last refresh held the event loop, and the CPU time of its steps
--- http_config eval
main::list('        ldap_nested walk;')
--- config
    location = /status {
        exchange_access_status;
    }
--- wait_for
names loaded
--- request eval
['GET /status', 'GET /status?format=prometheus']
--- response_body_like eval
[qr/"remote":\{"source":"ldap","loaded_from":"ldap","state":"ok",.*"last_duration_ms":\d+,"last_longest_step_us":[1-9]\d*,"last_longest_step_cpu_us":[1-9]\d*,"last_cpu_us":[1-9]\d*,/,
 qr/exchange_access_list_last_refresh_longest_step_seconds\{list="remote"\} \d+\.\d{6}\n.*exchange_access_list_last_refresh_longest_step_cpu_seconds\{list="remote"\} \d+\.\d{6}\n.*exchange_access_list_last_refresh_cpu_seconds\{list="remote"\} \d+\.\d{6}\n/s]



=== TEST 27: a worker stuck in a refresh loses its lease, and another worker refreshes
--- workers: 2
--- http_config eval
main::list('        ldap_nested walk;')
--- config
    location = /status {
        exchange_access_status;
    }
--- wait_for
exchange_access_list "remote": 6 names loaded
--- exec
log=$TEST_NGINX_LOG_DIR/error.log
slapd=$(cat $TEST_NGINX_LDAP_DIR/slapd.pid)
mod() { ldapmodify -x -H ldap://127.0.0.1:$TEST_NGINX_LDAP_PORT \
        -D cn=admin,dc=example,dc=com -w secret >/dev/null; }
# the directory hangs: the next refresh waits in one worker, with the lease
kill -STOP $slapd
for i in $(seq 50); do
  pid=$(curl -s http://127.0.0.1:$TEST_NGINX_SERVER_PORT/status | sed -n 's/.*"refreshing":\([0-9]*\).*/\1/p')
  [ -n "$pid" ] && [ "$pid" != 0 ] && break; sleep 0.1
done
[ -n "$pid" ] && [ "$pid" != 0 ] && echo "a worker refreshes"
# that worker stops for good; the directory comes back with a new member
kill -STOP $pid
kill -CONT $slapd
printf 'dn: cn=level3,ou=groups,dc=example,dc=com\nchangetype: modify\nadd: member\nmember: uid=bob,ou=people,dc=example,dc=com\n' | mod
for i in $(seq 150); do
  grep -q 'names loaded, generation 2' $log && break; sleep 0.1
done
line=$(grep 'names loaded, generation 2' $log)
[ -n "$line" ] && ! echo "$line" | grep -q "#$pid:" && echo "another worker loaded the new list"
kill -CONT $pid
printf 'dn: cn=level3,ou=groups,dc=example,dc=com\nchangetype: modify\ndelete: member\nmember: uid=bob,ou=people,dc=example,dc=com\n' | mod
--- exec_stdout
a worker refreshes
another worker loaded the new list
--- timeout: 40



=== TEST 28: a new worker's first refresh only talks to the directory: the LDAP library set itself up in the master (the host name through the resolver, ldap.conf, the SASL plugins), not on a worker's event loop
--- workers: 1
--- worker_exit_signal: 9
--- http_config eval
main::list('        ldap_nested walk;')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- exec
master=$(cat $TEST_NGINX_SERVROOT/logs/nginx.pid)
trace=$TEST_NGINX_HTML_DIR/worker.trace
strace -f -qq -e trace=open,openat,connect -o $trace -p $master &
st=$!
for i in $(seq 50); do
  grep -q 'TracerPid:[[:space:]]*[1-9]' /proc/$master/status && break; sleep 0.1
done
kill -9 $(pgrep -P $master)
# the new worker refreshes within "refresh 1s"
port="htons($TEST_NGINX_LDAP_PORT)"
for i in $(seq 50); do
  grep -v "^$master " $trace | grep -q "$port" && break; sleep 0.1
done
sleep 0.5
kill $st; wait $st 2> /dev/null
worker=$(grep -v "^$master " $trace)
echo "$worker" | grep -q "$port" && echo "the new worker connected to the directory"
echo "$worker" | grep -E 'nsswitch|resolv\.conf|/etc/hosts|host\.conf|ldap\.conf|ldaprc|sasl2' \
  || echo "and read no resolver, LDAP or SASL file"
--- exec_stdout
the new worker connected to the directory
and read no resolver, LDAP or SASL file
--- timeout: 20



=== TEST 29: a state file with NetBIOS domains: read back with them, each name only for its domain
(what the state file writer writes for a list of tagged names: OpenLDAP's
entries carry no domain, so the file is written by hand here)
--- init
$main::Slapd->stop;
open my $fh, '>', "$ENV{TEST_NGINX_STATE_DIR}/tags.list" or die;
print $fh state_file('remote', 'alice', 'child\\bob', 'example\\carol',
                    'erin@child.example.com');
close $fh;
--- http_config eval
main::list('        ldap_nested walk;
        state_file $TEST_NGINX_STATE_DIR/tags.list;')
--- config
    location / {
        exchange_access on;
        exchange_access_domain EXAMPLE example.com CHILD child.example.com;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }
--- wait_for
4 names loaded from the state file
--- request eval
[('POST /mapi/emsmdb/') x 8]
--- more_headers eval
[main::basic_auth('alice'), main::basic_auth('CHILD\alice'),
 main::basic_auth('CHILD\bob'), main::basic_auth('bob'),
 main::basic_auth('carol'), main::basic_auth('child.example.com\carol'),
 main::basic_auth('erin@child.example.com'), main::basic_auth('CHILD\erin')]
--- error_code eval
[200, 403, 200, 403, 200, 403, 200, 403]
