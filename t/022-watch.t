# ldap_watch against a real OpenLDAP slapd: a change in the directory
# reaches the list within seconds although "refresh" is an hour, through
# modifyTimestamp (no syncprov), contextCSN (syncprov) and RFC 4533
# refreshAndPersist (ldap_watch syncrepl, within a second); the
# directory's load when nothing changes; the watch's connection lost, the
# directory restarted or too slow to answer, and the watch back again.
#
# The delays measured (from ldapmodify's return to the first request
# decided the new way) are printed at the end.

use lib 't/lib';
use Test::Nginx::Socket;
use Test::More;
use ExchangeAccess::Fixture;
use ExchangeAccess::Slapd;

repeat_each(1);

our $Slapd = ExchangeAccess::Slapd->start(base => 1, log => 1);
$Slapd->{owner} = $$;

# what the blocks measured, printed at the end (the slapd directory is
# made again by TEST 5)
mkdir "$ENV{TEST_NGINX_LDAP_DIR}/../servroot-watch";
$ENV{TEST_NGINX_DELAYS} = "$ENV{TEST_NGINX_LDAP_DIR}/../servroot-watch/delays";
unlink $ENV{TEST_NGINX_DELAYS}, "$ENV{TEST_NGINX_DELAYS}.idle";

sub list {
    my ($extra) = @_;

    return <<"CONF";
    exchange_access_list remote {
        zone 1m;
        ldap_url ldap://127.0.0.1:\$TEST_NGINX_LDAP_PORT;
        ldap_bind_dn "uid=svc-nginx,ou=service,dc=example,dc=com";
        ldap_bind_password_file \$TEST_NGINX_HTML_DIR/ldap.secret;
        ldap_base "dc=example,dc=com";
        ldap_group "cn=outlook-remote,ou=groups,dc=example,dc=com";
        ldap_nested walk;
        ldap_filter "(!(userAccountControl:1.2.840.113556.1.4.803:=2))";
        ldap_timeout 2s;
        refresh 1h;
$extra
    }
CONF
}

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('user_files', ">>> ldap.secret\nSvc-Passw0rd\n")
        unless defined $block->user_files;
    $block->set_value('config', <<'CONF') unless defined $block->config;
    location / {
        exchange_access on;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }

    location = /status {
        exchange_access_status;
    }
CONF
});

# the shell functions of the measuring blocks: each change made with
# ldapmodify, then requests every 50 ms until one is decided the new way;
# "KIND ok" if that took LIMIT (5) seconds at most, and the delay to the
# file
our $Measure = <<'SH';
mod() { ldapmodify -x -H ldap://127.0.0.1:$TEST_NGINX_LDAP_PORT \
        -D cn=admin,dc=example,dc=com -w secret >/dev/null; }
code() { curl -s -o /dev/null -w "%{http_code}" -u "$1:pw" \
         http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mapi/emsmdb/; }
# measure MODE KIND USER CODE: after the change just made
measure() {
    t0=$(date +%s.%N)
    while :; do
        c=$(code $3)
        t1=$(date +%s.%N)
        [ "$c" = "$4" ] && break
        [ $(echo "$t1 - $t0 > 10" | bc) = 1 ] && break
        sleep 0.05
    done
    d=$(echo "$t1 - $t0" | bc)
    echo "$1 $2 $d" >> $TEST_NGINX_DELAYS
    if [ "$c" = "$4" ] && [ $(echo "$d <= ${LIMIT:-5}" | bc) = 1 ]; then
        echo "$2 ok"
    else
        echo "$2 slow: $d s, $3 $c"
    fi
}
change() {
    printf "dn: $1\nchangetype: modify\n$2\n" | mod
}
# the watch has taken its first look
wait_up() {
    for i in $(seq 100); do
        curl -s http://127.0.0.1:$TEST_NGINX_SERVER_PORT/status \
            | grep -q '"up":1,' && return
        sleep 0.1
    done
}
G=ou=groups,dc=example,dc=com
P=ou=people,dc=example,dc=com
SH

our $Changes = <<'SH';
wait_up
code bob; echo " bob"
change cn=outlook-remote,$G "add: member\nmember: uid=bob,$P"
measure $MODE "add a member" bob 200
change cn=outlook-remote,$G "delete: member\nmember: uid=bob,$P"
measure $MODE "remove a member" bob 403
change cn=level3,$G "add: member\nmember: uid=dave,$P"
measure $MODE "add to a nested group" dave 200
change cn=level3,$G "delete: member\nmember: uid=dave,$P"
measure $MODE "remove from a nested group" dave 403
change uid=alice,$P "add: userAccountControl\nuserAccountControl: 514"
measure $MODE "disable a user (ldap_filter)" alice 403
change uid=alice,$P "delete: userAccountControl"
measure $MODE "enable the user again" alice 200
change uid=carol,$P "replace: sAMAccountName\nsAMAccountName: carola"
measure $MODE "rename a user" carola 200
code carol; echo " carol"
change uid=carol,$P "replace: sAMAccountName\nsAMAccountName: carol"
measure $MODE "rename back" carol 200
SH

our $Expected = <<'OUT';
403 bob
add a member ok
remove a member ok
add to a nested group ok
remove from a nested group ok
disable a user (ldap_filter) ok
enable the user again ok
rename a user ok
403 carol
rename back ok
OUT

run_tests();

if (open my $fh, '<', $ENV{TEST_NGINX_DELAYS}) {
    diag("ldap_watch: from the directory's change to the first request "
         . "decided the new way (refresh 1h)");
    diag("  $_") while <$fh>;
}

# the load of an idle watch, measured by TEST 3
if (open my $fh, '<', "$ENV{TEST_NGINX_DELAYS}.idle") {
    diag("  $_") while <$fh>;
}

__DATA__

=== TEST 1: poll through modifyTimestamp (no syncprov): every kind of change within 5 s
--- http_config eval
main::list('')
--- wait_for
exchange_access_list "remote": 4 names loaded
--- exec eval
"MODE=modifyTimestamp\n$main::Measure$main::Changes
curl -s http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/status | grep -o '\"watch\":{\"mode\":\"poll\",\"method\":\"modifyTimestamp\",\"up\":1'"
--- exec_stdout eval
$main::Expected . '"watch":{"mode":"poll","method":"modifyTimestamp","up":1' . "\n"
--- no_error_log
[error]
--- timeout: 120



=== TEST 2: ldap_watch off: a change waits for the refresh
--- http_config eval
main::list('        ldap_watch off;')
--- wait_for
exchange_access_list "remote": 4 names loaded
--- exec eval
"$main::Measure
change cn=outlook-remote,\$G \"add: member\\nmember: uid=bob,\$P\"
sleep 4
code bob; echo ' bob'
change cn=outlook-remote,\$G \"delete: member\\nmember: uid=bob,\$P\"
curl -s http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/status | grep -o '\"watch\":{\"mode\":\"off\",\"method\":\"none\",\"up\":0'"
--- exec_stdout
403 bob
"watch":{"mode":"off","method":"none","up":0
--- timeout: 30



=== TEST 3: idle: a few small searches, never a group read; none returns an entry
--- http_config eval
main::list('')
--- wait_for
exchange_access_list "remote": 4 names loaded
--- exec
log=$TEST_NGINX_LDAP_DIR/slapd.log
sleep 3
a=$(wc -l < $log)
sleep 20
tail -n +$((a + 1)) $log > $log.idle
srch=$(grep -c ' SRCH base=' $log.idle)
groups=$(grep -c -i -E 'SRCH base="cn=|objectClass=groupOfNames\)\(objectClass=groupOfUniqueNames|SRCH base=.*filter="\(&\(objectClass=\*\)' $log.idle)
# the entries sent: those at the newest modifyTimestamp, the same each poll
entries=$(grep ' SEARCH RESULT ' $log.idle | sed -n 's/.*nentries=\([0-9]*\).*/\1/p' | paste -sd+ | bc)
echo "slapd, modifyTimestamp, idle 20 s: $srch searches, $entries entries returned, $groups group or user reads" > $TEST_NGINX_DELAYS.idle
[ "$srch" -ge 5 ] && [ "$srch" -le 15 ] && echo "between 5 and 15 searches in 20 s"
echo "group or user reads: $groups"
--- exec_stdout
between 5 and 15 searches in 20 s
group or user reads: 0
--- timeout: 40



=== TEST 4: slapd restarted: the list stays, the watch reconnects, said once each way, and sees changes again
--- http_config eval
main::list('')
--- wait_for
exchange_access_list "remote": 4 names loaded
--- exec eval
"MODE=modifyTimestamp-after-restart\n$main::Measure" . q{
pid=$(cat $TEST_NGINX_LDAP_DIR/slapd.pid)
kill $pid; while kill -0 $pid 2>/dev/null; do sleep 0.05; done
sleep 3
code alice; echo " alice while the directory is down"
slapd -F $TEST_NGINX_LDAP_DIR/config -h "ldap://127.0.0.1:$TEST_NGINX_LDAP_PORT/" -d stats >> $TEST_NGINX_LDAP_DIR/slapd.log 2>&1 &
for i in $(seq 200); do grep -q 'the watch works again' $TEST_NGINX_LOG_DIR/error.log && break; sleep 0.1; done
echo "failed: $(grep -c 'the watch failed, the list stays' $TEST_NGINX_LOG_DIR/error.log)"
echo "again: $(grep -c 'the watch works again' $TEST_NGINX_LOG_DIR/error.log)"
wait_up
change cn=outlook-remote,$G "add: member\nmember: uid=bob,$P"
measure $MODE "add a member" bob 200
change cn=outlook-remote,$G "delete: member\nmember: uid=bob,$P"
measure $MODE "remove a member" bob 403
curl -s http://127.0.0.1:$TEST_NGINX_SERVER_PORT/status | grep -o '"reconnects":1'
}
--- exec_stdout
200 alice while the directory is down
failed: 1
again: 1
add a member ok
remove a member ok
"reconnects":1
--- timeout: 90



=== TEST 5: syncprov: contextCSN, every kind of change within 5 s
--- init
$main::Slapd->stop;
$main::Slapd->{owner} = 0;
$main::Slapd = ExchangeAccess::Slapd->start(base => 1, log => 1, syncprov => 1);
$main::Slapd->{owner} = $$;
--- http_config eval
main::list('')
--- wait_for
exchange_access_list "remote": 4 names loaded
--- exec eval
"MODE=contextCSN\n$main::Measure$main::Changes
curl -s http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/status | grep -o '\"watch\":{\"mode\":\"poll\",\"method\":\"contextCSN\",\"up\":1'"
--- exec_stdout eval
$main::Expected . '"watch":{"mode":"poll","method":"contextCSN","up":1' . "\n"
--- no_error_log
[error]
--- timeout: 120



=== TEST 6: syncprov, idle: one base read of contextCSN per interval
--- http_config eval
main::list('')
--- wait_for
exchange_access_list "remote": 4 names loaded
--- exec
log=$TEST_NGINX_LDAP_DIR/slapd.log
sleep 3
a=$(wc -l < $log)
sleep 20
tail -n +$((a + 1)) $log > $log.idle
srch=$(grep -c ' SRCH base=' $log.idle)
base=$(grep -c ' SRCH base="dc=example,dc=com" scope=0 ' $log.idle)
entries=$(grep ' SEARCH RESULT ' $log.idle | sed -n 's/.*nentries=\([0-9]*\).*/\1/p' | paste -sd+ | bc)
echo "slapd, contextCSN, idle 20 s: $srch searches ($base base reads), $entries entries returned" >> $TEST_NGINX_DELAYS.idle
[ "$srch" -ge 5 ] && [ "$srch" -le 15 ] && [ "$srch" = "$base" ] && echo "between 5 and 15 base reads in 20 s, nothing else"
--- exec_stdout
between 5 and 15 base reads in 20 s, nothing else
--- timeout: 40



=== TEST 7: ldap_watch syncrepl: refreshAndPersist, every kind of change within 1 s, nothing sent while idle
--- http_config eval
main::list('        ldap_watch syncrepl;')
--- wait_for
exchange_access_list "remote": 4 names loaded
--- exec eval
"MODE=syncrepl\nLIMIT=1\n$main::Measure$main::Changes
curl -s http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/status | grep -o '\"watch\":{\"mode\":\"syncrepl\",\"method\":\"syncrepl\",\"up\":1'
curl -s http://127.0.0.1:\$TEST_NGINX_SERVER_PORT/status | grep -o '\"applied\":[0-9]*' | sed 's/:[1-9][0-9]*/:N/'
log=\$TEST_NGINX_LDAP_DIR/slapd.log
a=\$(wc -l < \$log)
sleep 10
tail -n +\$((a + 1)) \$log > \$log.idle
echo \"slapd, syncrepl, idle 10 s: \$(grep -c ' SRCH base=' \$log.idle) searches\" >> \$TEST_NGINX_DELAYS.idle
echo \"searches while idle: \$(grep -c ' SRCH base=' \$log.idle)\""
--- exec_stdout eval
$main::Expected . '"watch":{"mode":"syncrepl","method":"syncrepl","up":1' . "\n\"applied\":N\nsearches while idle: 0\n"
--- no_error_log
[error]
--- timeout: 120



=== TEST 8: a reload: the old worker closes its watch at once, the new one takes over within seconds and sees changes
--- http_config eval
main::list('')
--- wait_for
exchange_access_list "remote": 4 names loaded
--- exec eval
"MODE=poll-after-reload\n$main::Measure" . q{
wait_up
old=$(curl -s http://127.0.0.1:$TEST_NGINX_SERVER_PORT/status | grep -c '"up":1,')
kill -HUP $(cat $TEST_NGINX_LOG_DIR/nginx.pid)
sleep 1
for i in $(seq 100); do
    grep -q 'gracefully shutting down' $TEST_NGINX_LOG_DIR/error.log && break; sleep 0.1
done
wait_up
change cn=outlook-remote,$G "add: member\nmember: uid=bob,$P"
measure $MODE "add a member" bob 200
change cn=outlook-remote,$G "delete: member\nmember: uid=bob,$P"
measure $MODE "remove a member" bob 403
sleep 1
echo "open sockets left: $(grep -c 'open socket' $TEST_NGINX_LOG_DIR/error.log)"
}
--- exec_stdout
add a member ok
remove a member ok
open sockets left: 0
--- no_error_log
[alert]
--- timeout: 60



=== TEST 9: the watch's connection killed: the list stays, the watch reconnects, said once each way; its counters on the Prometheus page
--- http_config eval
main::list('')
--- wait_for
exchange_access_list "remote": 4 names loaded
--- exec eval
"MODE=poll-after-kill\n$main::Measure" . q{
wait_up
# the one connection to the directory that stays open is the watch's
ss -K dst 127.0.0.1 dport = :$TEST_NGINX_LDAP_PORT >/dev/null
for i in $(seq 100); do grep -q 'the watch works again' $TEST_NGINX_LOG_DIR/error.log && break; sleep 0.1; done
code alice; echo " alice"
echo "failed: $(grep -c 'the watch failed, the list stays' $TEST_NGINX_LOG_DIR/error.log)"
echo "again: $(grep -c 'the watch works again' $TEST_NGINX_LOG_DIR/error.log)"
wait_up
change cn=outlook-remote,$G "add: member\nmember: uid=bob,$P"
measure $MODE "add a member" bob 200
change cn=outlook-remote,$G "delete: member\nmember: uid=bob,$P"
measure $MODE "remove a member" bob 403
curl -s "http://127.0.0.1:$TEST_NGINX_SERVER_PORT/status?format=prometheus" | grep -E '^exchange_access_list_watch_(up|changes_total|refreshes_total|applied_total|reconnects_total)|watch_method' | sed 's/ [1-9][0-9]*$/ N/'
}
--- exec_stdout
200 alice
failed: 1
again: 1
add a member ok
remove a member ok
exchange_access_list_watch_up{list="remote"} N
exchange_access_list_watch_changes_total{list="remote"} N
exchange_access_list_watch_refreshes_total{list="remote"} N
exchange_access_list_watch_applied_total{list="remote"} 0
exchange_access_list_watch_reconnects_total{list="remote"} N
exchange_access_list_info{list="remote",source="ldap",loaded_from="ldap",state="ok",watch="poll",watch_method="contextCSN"} N
--- timeout: 60



=== TEST 10: the directory slow (slapd stopped for 8 s, longer than ldap_timeout): the list stays, the watch fails once and works again, and sees changes again
--- http_config eval
main::list('')
--- wait_for
exchange_access_list "remote": 4 names loaded
--- exec eval
"MODE=poll-after-pause\n$main::Measure" . q{
wait_up
pid=$(cat $TEST_NGINX_LDAP_DIR/slapd.pid)
kill -STOP $pid
sleep 8
code alice; echo " alice"
kill -CONT $pid
for i in $(seq 300); do grep -q 'the watch works again' $TEST_NGINX_LOG_DIR/error.log && break; sleep 0.1; done
echo "failed: $(grep -c 'the watch failed, the list stays' $TEST_NGINX_LOG_DIR/error.log)"
echo "again: $(grep -c 'the watch works again' $TEST_NGINX_LOG_DIR/error.log)"
wait_up
change cn=outlook-remote,$G "add: member\nmember: uid=bob,$P"
measure $MODE "add a member" bob 200
change cn=outlook-remote,$G "delete: member\nmember: uid=bob,$P"
measure $MODE "remove a member" bob 403
}
--- exec_stdout
200 alice
failed: 1
again: 1
add a member ok
remove a member ok
--- timeout: 90
