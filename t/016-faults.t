# Faults under load: reloads while requests are decided, a worker killed in
# the middle of an LDAP refresh, a state file that cannot be written.  The
# load is t/lib/ExchangeAccess/load.pl: client processes on keep-alive
# connections, bounded in time and count, checking every answer (allowed
# users 200, denied users 403, nothing else).

use lib 't/lib';
use Test::Nginx::Socket;
use ExchangeAccess::Fixture;
use ExchangeAccess::Slapd;

repeat_each(1);

our $Slapd = ExchangeAccess::Slapd->start(base => 1);
$Slapd->{owner} = $$;

# a folder the workers (nobody, when the tests run as root) cannot write
$ENV{TEST_NGINX_RO_DIR} = "$ENV{TEST_NGINX_LDAP_DIR}/read-only";
mkdir $ENV{TEST_NGINX_RO_DIR};
chmod 0555, $ENV{TEST_NGINX_RO_DIR};

$ENV{TEST_NGINX_LOAD} = "perl $ENV{TEST_NGINX_ROOT}/t/lib/ExchangeAccess/load.pl"
                        . " --port $ENV{TEST_NGINX_SERVER_PORT}";

# answered here, not by the stand-in backend: that one runs in the same
# nginx, and a killed worker would cut proxied requests of the other one
our $Location = <<'CONF';
    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        empty_gif;
    }
    location = /status {
        exchange_access_status;
    }
CONF

sub ldap_list {
    my $extra = shift // '';

    return <<"CONF";
    exchange_access_list remote {
        zone 1m;
        ldap_url ldap://127.0.0.1:\$TEST_NGINX_LDAP_PORT;
        ldap_bind_dn "uid=svc-nginx,ou=service,dc=example,dc=com";
        ldap_bind_password_file \$TEST_NGINX_HTML_DIR/ldap.secret;
        ldap_base "dc=example,dc=com";
        ldap_group "cn=outlook-remote,ou=groups,dc=example,dc=com";
        ldap_nested walk;
        refresh 1s;
$extra
    }
CONF
}

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('config', $Location) unless defined $block->config;
});

run_tests();

__DATA__

=== TEST 1: reloads under load: every decision right, no failed request, never an empty list
--- workers: 2
--- user_files
>>> remote.txt
alice
carol
--- http_config
    exchange_access_list remote {
        zone 1m;
        file $TEST_NGINX_HTML_DIR/remote.txt;
    }
--- exec
log=$TEST_NGINX_LOG_DIR/error.log
$TEST_NGINX_LOAD --conns 4 --seconds 7 --max 50000 \
    > $TEST_NGINX_HTML_DIR/load.out 2>&1 &
load=$!
sleep 0.5
for i in 1 2 3 4 5; do
  $TEST_NGINX_BINARY -p $TEST_NGINX_SERVROOT/ -c conf/nginx.conf -s reload \
      2>> $TEST_NGINX_HTML_DIR/reload.err
  for j in $(seq 100); do
    [ "$(grep -c 'start worker process' $log)" -ge $((2 + 2 * i)) ] && break
    sleep 0.05
  done
  sleep 0.8
done
wait $load
echo "load exit $?"
cat $TEST_NGINX_HTML_DIR/load.out
echo "reloads $(grep -c 'signal 1 (SIGHUP) received' $log)"
--- exec_stdout_like
^load exit 0
requests=[1-9]\d{2,} allowed=[1-9]\d* denied=[1-9]\d* wrong=0 5xx=0 failed=0 retried=\d+
reloads 5
--- no_error_log
list_unavailable
[alert]
[emerg]
--- timeout: 30



=== TEST 2: a worker killed mid-refresh under load: the other answers from the last good list, a new worker starts, the lease expires, a refresh completes
--- workers: 2
--- worker_exit_signal: 9
--- user_files
>>> ldap.secret
Svc-Passw0rd
--- http_config eval
main::ldap_list('        ldap_timeout 6s;')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- exec
log=$TEST_NGINX_LOG_DIR/error.log
status() { curl -s http://127.0.0.1:$TEST_NGINX_SERVER_PORT/status; }
code() { curl -s -o /dev/null -w "$1 %{http_code}\n" -u "$1:pw" \
         http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mapi/emsmdb/; }
mod() { ldapmodify -x -H ldap://127.0.0.1:$TEST_NGINX_LDAP_PORT \
        -D cn=admin,dc=example,dc=com -w secret >/dev/null; }
slapd=$(cat $TEST_NGINX_LDAP_DIR/slapd.pid)
$TEST_NGINX_LOAD --conns 4 --seconds 14 --max 100000 --retry-fresh \
    > $TEST_NGINX_HTML_DIR/load.out 2>&1 &
load=$!
sleep 0.5
# the directory hangs: the next refresh waits in one worker, with the
# lease (2 * (ldap_timeout + 1) = 14 s)
kill -STOP $slapd
refreshing() { status | sed -n 's/.*"refreshing":\([0-9]*\).*/\1/p'; }
# the same worker refreshing twice, 0.3 s apart: its refresh hangs
pid=
for i in $(seq 30); do
  pid=$(refreshing)
  if [ -n "$pid" ] && [ "$pid" != 0 ]; then
    sleep 0.3
    [ "$(refreshing)" = "$pid" ] && break
  fi
  pid=
  sleep 0.1
done
[ -n "$pid" ] && [ "$pid" != 0 ] && echo "a worker refreshes"
kill -KILL $pid
for i in $(seq 150); do
  grep -q "worker process $pid exited on signal 9" $log && break; sleep 0.1
done
grep -q "worker process $pid exited on signal 9" $log && echo "it was killed"
for i in $(seq 150); do
  sed -n "/process $pid exited on signal 9/,\$p" $log \
      | grep -q 'start worker process' && break
  sleep 0.1
done
sed -n "/process $pid exited on signal 9/,\$p" $log \
    | grep -q 'start worker process' && echo "the master started a new worker"
# its lease is still held: nobody refreshes until it expires
status | grep -q "\"refreshing\":$pid," && echo "the dead worker's lease holds"
kill -CONT $slapd
printf 'dn: cn=level3,ou=groups,dc=example,dc=com\nchangetype: modify\nadd: member\nmember: uid=gina,ou=people,dc=example,dc=com\n' | mod
for i in $(seq 250); do
  grep -q 'names loaded, generation 2' $log && break; sleep 0.1
done
line=$(grep 'names loaded, generation 2' $log)
[ -n "$line" ] && ! echo "$line" | grep -q "#$pid:" \
    && echo "a refresh completed in another worker"
code gina
wait $load
echo "load exit $?"
cat $TEST_NGINX_HTML_DIR/load.out
printf 'dn: cn=level3,ou=groups,dc=example,dc=com\nchangetype: modify\ndelete: member\nmember: uid=gina,ou=people,dc=example,dc=com\n' | mod
--- exec_stdout_like
^a worker refreshes
it was killed
the master started a new worker
the dead worker's lease holds
a refresh completed in another worker
gina 200
load exit 0
requests=[1-9]\d{2,} allowed=[1-9]\d* denied=[1-9]\d* wrong=0 5xx=0 failed=0 retried=\d+
--- no_error_log
list_unavailable
--- timeout: 60



=== TEST 3: the state file's folder is not writable: a clear error, the list works, the status page tells
--- user_files
>>> ldap.secret
Svc-Passw0rd
--- http_config eval
main::ldap_list('        state_file $TEST_NGINX_RO_DIR/remote.list;')
--- wait_for
exchange_access_list "remote": 6 names loaded
--- exec
sleep 0.5
code() { curl -s -o /dev/null -w "$1 %{http_code}\n" -u "$1:pw" \
         http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mapi/emsmdb/; }
code alice
code bob
curl -s http://127.0.0.1:$TEST_NGINX_SERVER_PORT/status
echo
curl -s "http://127.0.0.1:$TEST_NGINX_SERVER_PORT/status?format=prometheus" \
    | grep "^exchange_access_list_state_file_ok"
ls $TEST_NGINX_RO_DIR | wc -l
# writable again: the next refresh writes it
chmod 0777 $TEST_NGINX_RO_DIR
for i in $(seq 50); do
  [ -f $TEST_NGINX_RO_DIR/remote.list ] && break; sleep 0.1
done
sleep 0.2
grep -c -v '^#' $TEST_NGINX_RO_DIR/remote.list
curl -s http://127.0.0.1:$TEST_NGINX_SERVER_PORT/status \
    | grep -o '"state_file_error":[^}]*'
chmod 0555 $TEST_NGINX_RO_DIR
rm -f $TEST_NGINX_RO_DIR/remote.list
--- exec_stdout_like
^alice 200
bob 403
\{.*"remote":\{"source":"ldap","loaded_from":"ldap","state":"ok","entries":6,.*"state_file_error":"open\(\) \\"[^"]+/read-only/remote\.list\.\d+\.tmp\\" failed \(13: Permission denied\)".*
exchange_access_list_state_file_ok\{list="remote"\} 0
0
6
"state_file_error":null
--- error_log eval
qr/\[error\] .*open\(\) ".*\/read-only\/remote\.list\.\d+\.tmp" failed \(state_file of exchange_access_list "remote"\) \(13: Permission denied\)/
--- no_error_log
[alert]
