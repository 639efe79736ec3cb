# ldap_watch against a real Samba Active Directory domain controller: the
# USN poll sees a member added or removed, a member of a nested group, an
# account disabled (ldap_filter) and a rename, each within 5 s although
# "refresh" is an hour; AD's change notifications (ldap_watch notify)
# within 1 s of a write through LDAP; and both again with the groups
# walked by the module, each change applied without a full read.  The
# delays measured (from samba-tool's or ldapmodify's return to the first
# request decided the new way) are printed at the end.

use lib 't/lib';
use Test::Nginx::Socket;
use Test::More;
use ExchangeAccess::Fixture;
use ExchangeAccess::Samba;

repeat_each(1);

# one process: a write through LDAP wakes the notification searches of
# every connection (with several, those of other processes wake at their
# next retry, 5 s)
our $DC = ExchangeAccess::Samba->start(single => 1);

$ENV{TEST_NGINX_AD_CONF} = $DC->{conf};
mkdir "$DC->{dir}/../servroot-watch";
$ENV{TEST_NGINX_DELAYS} = "$DC->{dir}/../servroot-watch/delays-ad";
unlink $ENV{TEST_NGINX_DELAYS}, "$ENV{TEST_NGINX_DELAYS}.idle";

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('user_files', ">>> ldap.secret\nPassw0rd!\n");
    $block->set_value('config', <<'CONF');
    location / {
        exchange_access on;
        exchange_access_domain EXAMPLE example.test;
        exchange_access_require mapi rpc list=remote;
        proxy_pass http://exchange_backend;
    }

    location = /status {
        exchange_access_status;
    }
CONF
});

our $List = <<'CONF';
    exchange_access_list remote {
        zone 1m;
        ldap_url ldap://$TEST_NGINX_AD_IP;
        ldap_bind_dn "CN=svc-nginx,CN=Users,DC=example,DC=test";
        ldap_bind_password_file $TEST_NGINX_HTML_DIR/ldap.secret;
        ldap_base "DC=example,DC=test";
        ldap_group "CN=Outlook Remote,CN=Users,DC=example,DC=test";
        ldap_nested chain;
        ldap_filter "(!(userAccountControl:1.2.840.113556.1.4.803:=2))";
        ldap_timeout 20s;
        refresh 1h;
    }
CONF

# the shell of the measuring blocks: after a change, requests every 50 ms
# until one is decided the new way; "KIND ok" if that took LIMIT (5)
# seconds at most, and the delay to the file.  Then every kind of change,
# made with samba-tool ($Tool) or through LDAP ($Ldap).
our $Measure = <<'SH';
code() { curl -s -o /dev/null -w "%{http_code}" -u "$1:pw" \
         http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mapi/emsmdb/; }
measure() {
    t0=$(date +%s.%N)
    m=${MODE:-usn}
    while :; do
        c=$(code $2)
        t1=$(date +%s.%N)
        [ "$c" = "$3" ] && break
        [ $(echo "$t1 - $t0 > 10" | bc) = 1 ] && break
        sleep 0.05
    done
    d=$(echo "$t1 - $t0" | bc)
    echo "$m $1 $d" >> $TEST_NGINX_DELAYS
    if [ "$c" = "$3" ] && [ $(echo "$d <= ${LIMIT:-5}" | bc) = 1 ]; then
        echo "$1 ok"
    else
        echo "$1 slow: $d s, $2 $c"
    fi
}
for i in $(seq 100); do
    curl -s http://127.0.0.1:$TEST_NGINX_SERVER_PORT/status | grep -q '"up":1,' && break
    sleep 0.1
done
SH

our $Tool = <<'SH' . $Measure . <<'SH2';
tool() { samba-tool "$@" -s $TEST_NGINX_AD_CONF >/dev/null 2>&1; }
SH
code bob; echo " bob"
tool group addmembers "Outlook Remote" bob
measure "add a member" bob 200
tool group removemembers "Outlook Remote" bob
measure "remove a member" bob 403
tool group addmembers "Outlook Nested" dave
measure "add to a nested group" dave 200
tool group removemembers "Outlook Nested" dave
measure "remove from a nested group" dave 403
tool user disable alice
measure "disable a user (ldap_filter)" alice 403
tool user enable alice
measure "enable the user again" alice 200
tool user rename carol --samaccountname=carola
measure "rename a user" carola 200
code carol; echo " carol"
tool user rename carola --samaccountname=carol
measure "rename back" carol 200
SH2

our $Ldap = <<'SH' . $Measure . <<'SH2';
B=CN=Users,DC=example,DC=test
mod() { printf "dn: $1\nchangetype: modify\n$2\n" | ldapmodify -x -H ldap://$TEST_NGINX_AD_IP -D "CN=Administrator,$B" -w 'Adm1nPassw0rd!' >/dev/null; }
SH
code bob; echo " bob"
mod "CN=Outlook Remote,$B" "add: member\nmember: CN=bob,$B"
measure "add a member" bob 200
mod "CN=Outlook Remote,$B" "delete: member\nmember: CN=bob,$B"
measure "remove a member" bob 403
mod "CN=Outlook Nested,$B" "add: member\nmember: CN=dave,$B"
measure "add to a nested group" dave 200
mod "CN=Outlook Nested,$B" "delete: member\nmember: CN=dave,$B"
measure "remove from a nested group" dave 403
mod "CN=alice,$B" "replace: userAccountControl\nuserAccountControl: 514"
measure "disable a user (ldap_filter)" alice 403
mod "CN=alice,$B" "replace: userAccountControl\nuserAccountControl: 512"
measure "enable the user again" alice 200
mod "CN=carol,$B" "replace: sAMAccountName\nsAMAccountName: carola"
measure "rename a user" carola 200
code carol; echo " carol"
mod "CN=carol,$B" "replace: sAMAccountName\nsAMAccountName: carol"
measure "rename back" carol 200
SH2

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

# the list walking the groups itself: the changes are applied to what the
# worker knows, without a full read
our $Walk = $List;
$Walk =~ s/ldap_nested chain;/ldap_nested walk;/;

run_tests();

if (open my $fh, '<', $ENV{TEST_NGINX_DELAYS}) {
    diag("ldap_watch, Samba AD: from samba-tool's return to the first "
         . "request decided the new way (refresh 1h)");
    diag("  $_") while <$fh>;
}

if (open my $fh, '<', "$ENV{TEST_NGINX_DELAYS}.idle") {
    diag("  $_") while <$fh>;
}

__DATA__

=== TEST 1: the USN poll: every kind of change within 5 s
--- http_config eval
$main::List
--- wait_for
exchange_access_list "remote": 4 names loaded
--- exec eval
$main::Tool . q~curl -s http://127.0.0.1:$TEST_NGINX_SERVER_PORT/status | grep -o '"watch":{"mode":"poll","method":"usn","up":1'~
--- exec_stdout eval
$main::Expected . qq|"watch":{"mode":"poll","method":"usn","up":1\n|
--- no_error_log
[error]
--- timeout: 240



=== TEST 2: idle: no refresh, a few hundred bytes from the DC per poll
--- http_config eval
$main::List
--- wait_for
exchange_access_list "remote": 4 names loaded
--- exec
st() { curl -s http://127.0.0.1:$TEST_NGINX_SERVER_PORT/status; }
# the bytes on the watch's connection, the one established to port 389
b() { ss -tinH state established "( dport = :389 )" | grep -o "$1:[0-9]*" | cut -d: -f2 | paste -sd+ | bc; }
sleep 4
r0=$(b bytes_received); s0=$(b bytes_acked); f0=$(st | grep -o '"refreshes":[0-9]*' | head -1)
sleep 20
r1=$(b bytes_received); s1=$(b bytes_acked); f1=$(st | grep -o '"refreshes":[0-9]*' | head -1)
echo "samba, usn, idle 20 s: $((r1 - r0)) bytes from the DC, $((s1 - s0)) bytes to it, refreshes ${f0#*:} then ${f1#*:}" >> $TEST_NGINX_DELAYS.idle
[ "$f0" = "$f1" ] && echo "no refresh while idle"
[ $((r1 - r0)) -gt 0 ] && [ $((r1 - r0)) -lt 8000 ] && echo "some bytes, under 8000, from the DC"
--- exec_stdout
no refresh while idle
some bytes, under 8000, from the DC
--- timeout: 60



=== TEST 3: ldap_watch notify: AD's change notifications, every kind of change made through LDAP within 1 s
--- http_config eval
my $l = $main::List; $l =~ s/refresh 1h;/refresh 1h;\n        ldap_watch notify;/; $l
--- wait_for
exchange_access_list "remote": 4 names loaded
--- exec eval
"MODE=notify\nLIMIT=1\n" . $main::Ldap . q~curl -s http://127.0.0.1:$TEST_NGINX_SERVER_PORT/status | grep -o '"watch":{"mode":"notify","method":"notify","up":1'~
--- exec_stdout eval
$main::Expected . qq|"watch":{"mode":"notify","method":"notify","up":1\n|
--- no_error_log
[error]
--- timeout: 240



=== TEST 4: ldap_watch notify, samba-tool: Samba's LDAP server learns of changes written straight into its database at its next retry (5 s), within 6 s with the refresh
--- http_config eval
my $l = $main::List; $l =~ s/refresh 1h;/refresh 1h;\n        ldap_watch notify;/; $l
--- wait_for
exchange_access_list "remote": 4 names loaded
--- exec eval
"MODE=notify-samba-tool\nLIMIT=6\n" . $main::Tool . q~curl -s http://127.0.0.1:$TEST_NGINX_SERVER_PORT/status | grep -o '"watch":{"mode":"notify","method":"notify","up":1'~
--- exec_stdout eval
$main::Expected . qq|"watch":{"mode":"notify","method":"notify","up":1\n|
--- no_error_log
[error]
--- timeout: 240


=== TEST 5: walking the groups, ldap_watch notify: every kind of change within 1 s, applied without a full read
--- http_config eval
my $l = $main::Walk; $l =~ s/refresh 1h;/refresh 1h;\n        ldap_watch notify;/; $l
--- wait_for
exchange_access_list "remote": 4 names loaded
--- exec eval
"MODE=notify-walk\nLIMIT=1\n" . $main::Ldap . q~curl -s http://127.0.0.1:$TEST_NGINX_SERVER_PORT/status | grep -o '"applied":[0-9]*' | sed 's/:[1-9][0-9]*/:N/'~
--- exec_stdout eval
$main::Expected . "\"applied\":N\n"
--- error_log eval
qr/"remote": changes applied from \d+ entries read \(\d+ named by the watch\), without a full read/
--- no_error_log
[error]
--- timeout: 240



=== TEST 6: walking the groups, the USN poll: every kind of change within 5 s, applied without a full read
--- http_config eval
$main::Walk
--- wait_for
exchange_access_list "remote": 4 names loaded
--- exec eval
"MODE=usn-walk\n" . $main::Tool . q~curl -s http://127.0.0.1:$TEST_NGINX_SERVER_PORT/status | grep -o '"applied":[0-9]*' | sed 's/:[1-9][0-9]*/:N/'~
--- exec_stdout eval
$main::Expected . "\"applied\":N\n"
--- error_log eval
qr/"remote": changes applied from \d+ entries read \(\d+ named by the watch\), without a full read/
--- no_error_log
[error]
--- timeout: 240
