# One change to a group of 100,000 members, seen by ldap_watch syncrepl:
# the worker applies it to what it knew of the members instead of reading
# them all again.  The entries slapd returned for each change are counted
# from slapd's own log (loglevel stats, "SEARCH RESULT ... nentries=N"),
# against a full read of the same directory.  The delays and counts are
# printed at the end.

use lib 't/lib';
use Test::Nginx::Socket;
use Test::More;
use ExchangeAccess::Fixture;
use ExchangeAccess::Slapd;

repeat_each(1);

# 102,000 users, the first 100,000 in cn=big-group
our $Slapd = ExchangeAccess::Slapd->start(
    dir => ($ENV{TEST_NGINX_SCRATCH} || "$ENV{PWD}/t")
           . '/servroot-slapd-watch-big',
    ldif => ExchangeAccess::Slapd::big_ldif(102000, 100000),
    syncprov => 1, log => 1);
$Slapd->{owner} = $$;

$ENV{TEST_NGINX_FIGURES} = "$Slapd->{dir}/figures";
unlink $ENV{TEST_NGINX_FIGURES};

run_tests();

if (open my $fh, '<', $ENV{TEST_NGINX_FIGURES}) {
    diag("a group of 100,000 members, ldap_watch syncrepl: delay from "
         . "ldapmodify's return to the first request decided the new way, "
         . "and the entries slapd returned for the change");
    diag("  $_") while <$fh>;
}

__DATA__

=== TEST 1: a member added, a member removed: within 5 s each, a few entries read; 1,500 members added at once: read in full
--- http_config
    exchange_access_list big {
        zone 64m;
        ldap_url ldap://127.0.0.1:$TEST_NGINX_LDAP_PORT;
        ldap_bind_dn "uid=svc-nginx,ou=service,dc=example,dc=com";
        ldap_bind_password_file $TEST_NGINX_HTML_DIR/ldap.secret;
        ldap_base "dc=example,dc=com";
        ldap_group "cn=big-group,ou=groups,dc=example,dc=com";
        ldap_nested walk;
        ldap_watch syncrepl;
        ldap_timeout 10s;
        refresh 1h;
    }
--- user_files
>>> ldap.secret
Svc-Passw0rd
--- config
    location / {
        exchange_access on;
        exchange_access_require mapi list=big;
        proxy_pass http://exchange_backend;
    }

    location = /status {
        exchange_access_status;
    }
--- log_level: info
--- wait_for
exchange_access_list "big": 200000 names loaded
--- exec
log=$TEST_NGINX_LDAP_DIR/slapd.log
G="cn=big-group,ou=groups,dc=example,dc=com"
code() { curl -s -o /dev/null -w "%{http_code}" -u "$1:pw" \
         http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mapi/emsmdb/; }
mod() { ldapmodify -x -H ldap://127.0.0.1:$TEST_NGINX_LDAP_PORT \
        -D cn=admin,dc=example,dc=com -w secret >/dev/null; }
# the entries slapd returned after line $1 of its log
entries() { tail -n +$(($1 + 1)) $log | grep -o 'SEARCH RESULT .*nentries=[0-9]*' \
            | sed 's/.*nentries=//' | awk '{ n += $1 } END { print n + 0 }'; }
# measure WHAT USER CODE MAX: after the change just made, from mark $a
measure() {
    t0=$(date +%s.%N)
    while :; do
        c=$(code $2)
        t1=$(date +%s.%N)
        [ "$c" = "$3" ] && break
        [ $(echo "$t1 - $t0 > 20" | bc) = 1 ] && break
        sleep 0.05
    done
    d=$(echo "$t1 - $t0" | bc)
    # the refresh's searches have ended when the list is installed
    sleep 0.5
    n=$(entries $a)
    echo "$1: $d s, $n entries" >> $TEST_NGINX_FIGURES
    if [ "$c" != "$3" ]; then echo "$1: $2 $c"
    elif [ $(echo "$d > 5" | bc) = 1 ]; then echo "$1: slow, $d s"
    elif [ "$n" -gt "$4" ]; then echo "$1: $n entries"
    else echo "$1 ok"; fi
}
# the watch is up, and the full read of its first look is over
for i in $(seq 300); do
    s=$(curl -s http://127.0.0.1:$TEST_NGINX_SERVER_PORT/status)
    echo "$s" | grep -q '"refreshing":0,' \
        && echo "$s" | grep -q '"up":1,[^}]*"refreshes":[1-9]' && break
    sleep 0.1
done
code user100001; echo " user100001"
a=$(wc -l < $log)
printf "dn: $G\nchangetype: modify\nadd: member\nmember: uid=user100001,ou=people,dc=example,dc=com\n" | mod
measure "add a member" user100001 200 100
a=$(wc -l < $log)
printf "dn: $G\nchangetype: modify\ndelete: member\nmember: uid=user000001,ou=people,dc=example,dc=com\n" | mod
measure "remove a member" user000001 403 100
a=$(wc -l < $log)
(printf "dn: $G\nchangetype: modify\nadd: member\n"
 for i in $(seq 100002 101501); do
     printf "member: uid=user%06d,ou=people,dc=example,dc=com\n" $i
 done) | mod
measure "add 1,500 members at once (a full read)" user101501 200 1000000
n=$(entries 0)
echo "every search since slapd started: $n entries" >> $TEST_NGINX_FIGURES
code user000002; echo " user000002"
code user101502; echo " user101502"
--- exec_stdout
403 user100001
add a member ok
remove a member ok
add 1,500 members at once (a full read) ok
200 user000002
403 user101502
--- error_log eval
[qr/"big": changes applied from \d+ entries read \(\d+ named by the watch\), without a full read/,
 qr/more members to read than a change may add \(1000\): the users are read in full/]
--- no_error_log
[error]
--- timeout: 180
