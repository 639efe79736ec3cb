#!/bin/bash
# The refresh of a large list, measured from outside.  A group of 100,000
# members (ten nested groups of 10,000), each member with two names
# (sAMAccountName and userPrincipalName), read by nginx's only worker:
#
#   slapd   OpenLDAP, "ldap_nested walk" (paged searches of the groups and
#           of the entries, the member attribute of every group)
#   samba   Samba AD, "ldap_nested chain" (one paged in-chain search)
#   delta   slapd with syncprov and "ldap_watch syncrepl": the member who
#           leaves is seen by the watch at once, and the change applied to
#           what the worker knows of the members (the groups walked again,
#           no member read) instead of a full read
#   file    the same 200,000 names in a list file (its first load is
#           nginx reading its configuration, in the master)
#
# For each: the first load and one refresh that changes the list (a member
# leaves between the two, so a new table is installed), and
#
#   wall     the refresh's own time (the status page's last_duration_ms)
#   cpu      the CPU time of the refresh's steps on the worker's event loop
#            (the status page's last_cpu_us); for a cross-check, the
#            worker's CPU time over the first load (/proc/PID/schedstat,
#            no probe then) and over the refresh less what the probe's
#            requests cost it without one (an estimate that drifts over a
#            long refresh)
#   stall    the worst answer of a client that asks for a small page every
#            millisecond (bench/probe.pl) during the refresh, against the
#            same client when no refresh runs (and a loop keeps the
#            directory's CPU busy, as the directory does in a refresh)
#   step     the longest step of the refresh on the worker's event loop
#            (the status page's last_longest_step_us), and the most CPU
#            time one step took (last_longest_step_cpu_us): what the
#            refresh itself held the event loop for, without the time the
#            machine took the CPU away (the probe's answers count that)
#   floor    the longest a loop that only reads the clock (bench/floor.pl)
#            lost nginx's CPU, with no request and no refresh (the
#            directory's CPU busy as above): what the machine itself
#            takes, which no module can get under
#
# Loading 100,000 users into Samba offline (ldbadd) took about 8 minutes
# on a 2-core machine, and each in-chain search of them about 7 minutes
# (REFRESH_REUSE=1 spares the loading in the runs after the first).
#
# The directory server runs on another machine in practice; here it would
# take the worker's CPU while it sends the answers, and the probe would
# measure that.  With two CPUs or more the server (and its children) and
# this script run on the last one, nginx and the probe on the first
# (REFRESH_PIN=0: not).
#
# usage: bench/refresh.sh [slapd] [samba] [delta] [file]   (default: all)
# environment: REFRESH_MEMBERS (default 100000), REFRESH_PIN (1), REFRESH_QUIET (seconds of
# the probe without a refresh, default 5), REFRESH_DIR (bench/out-refresh),
# REFRESH_PORT (18600), REFRESH_REUSE=1 (Samba's directory of an earlier run
# with the same REFRESH_MEMBERS started as it is, not loaded again: the
# change of each run stays made), REFRESH_PERF=1 (a profile of the worker over the
# refresh with perf, in REFRESH_DIR/perf.NAME.txt; it slows the worker, so
# the figures of that run are not the ones to report)
#
# The servers listen on 127.0.0.1 (Samba's LDAP on port 389): run it in a
# network namespace of its own if another one may be there.

set -euo pipefail

cd "$(dirname "$0")/.."

root=$PWD
N=${REFRESH_MEMBERS:-100000}
QUIET=${REFRESH_QUIET:-5}
B=${REFRESH_DIR:-$root/bench/out-refresh}
PORT=${REFRESH_PORT:-18600}
SO=${BENCH_SO:-$root/build/nginx/objs/ngx_http_exchange_access_module.so}
INTERVAL=40
which=${*:-slapd samba delta file}
WATCH=off

bash util/deps.sh build
make -s module

mkdir -p "$B"

status() {
    curl -s "http://127.0.0.1:$PORT/status"
}

# a field of the list "big" on the status page
field() {
    status | perl -MJSON::PP -e 'local $/; my $s = decode_json(<STDIN>);
                                 print $s->{lists}{big}{$ARGV[0]} // ""' "$1"
}

# the directory's processes and this script on the last CPU, nginx and the
# probe on CPU 0
NCPU=$(nproc)
PIN=${REFRESH_PIN:-1}
[ "$NCPU" -ge 2 ] || PIN=0
LAST_CPU=$((NCPU - 1))
ON_FIRST=
[ "$PIN" = 1 ] && ON_FIRST="taskset -c 0"

pin() {
    local cpu=$1 p
    shift
    [ "$PIN" = 1 ] || return 0
    for p in "$@"; do
        taskset -a -p -c "$cpu" "$p" > /dev/null 2>&1 || true
    done
}

# this script, and what it runs to read the status page (curl, perl: some
# 30 ms of CPU a time), with the directory: on CPU 0 they would take the
# worker's CPU in slices of several milliseconds, and the probe measure that
pin "$LAST_CPU" $$

cpu_ns() {
    awk '{ print $1 }' "/proc/$1/schedstat"
}

now_ms() {
    date +%s%3N
}

# the LDAP directives of every run
ldap_common() {
    cat <<CONF
        # off: the refresh at its time, not at once when the change is seen
        ldap_watch $WATCH;
        # Samba answers the in-chain search of a large group after minutes
        ldap_timeout 600s;
        ldap_refresh_timeout 900s;
CONF
}

# nginx with the list: $1 the source's directives
start_nginx() {
    local dir=$B/nginx
    rm -rf "$dir"
    mkdir -p "$dir/logs" "$dir/tmp"
    cat > "$dir/nginx.conf" <<CONF
load_module $SO;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log info;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    exchange_access_list big {
        zone 96m;
        $1
        refresh ${INTERVAL}s;
    }
    server {
        listen 127.0.0.1:$PORT;
        keepalive_requests 1000000;
        location = /probe { return 200 "ok\n"; }
        location = /status { exchange_access_status; }
    }
}
CONF
    nginx -p "$dir" -c "$dir/nginx.conf"
    sleep 0.5
    master=$(cat "$dir/nginx.pid")
    worker=$(ps -o pid= --ppid "$master" | head -1 | tr -d ' ')
    pin 0 "$master" "$worker"
}

stop_nginx() {
    kill -QUIT "$master" 2>/dev/null || true
    sleep 0.5
}

# waits up to $2 seconds for the generation to pass $1 and the lease to end
wait_generation() {
    local g=$1 limit=$2 i
    for i in $(seq $((limit * 5))); do
        if [ "$(field generation)" -gt "$g" ] 2>/dev/null \
           && [ "$(field refreshing)" = 0 ]
        then
            return 0
        fi
        sleep 0.2
    done
    echo "no new table within $limit s: $(field last_error)" >&2
    return 1
}

# the watch is up and the full read of its first look is over
wait_watch() {
    local i s
    for i in $(seq 3000); do
        s=$(status)
        echo "$s" | grep -q '"refreshing":0,' \
            && echo "$s" | grep -q '"up":1,[^}]*"refreshes":[1-9]' && return 0
        sleep 0.2
    done
    echo "the watch did not start" >&2
    return 1
}

# one measurement: the first load, the quiet probe, the refresh (with the
# watch: the change made a second into the probe, and applied at once)
measure() {
    local name=$1 change=$2
    local g c0 c1 t0 t1 quiet_cpu next wait_s out_quiet out_refresh out_floor
    local out_late
    local wall cpu win step_cpu

    echo "== $name: first load"
    t0=$(now_ms)
    c0=0        # the worker's start: the first load began with it
    wait_generation 0 900
    t1=$(now_ms)
    c1=$(cpu_ns "$worker")
    printf "%-6s first load: %s names, %s ms, longest step %s us (CPU %s us), CPU %s us (status); worker CPU since its start %d ms\n" \
           "$name" "$(field entries)" "$(field last_duration_ms)" "$(field last_longest_step_us)" \
           "$(field last_longest_step_cpu_us)" \
           "$(field last_cpu_us)" $(( (c1 - c0) / 1000000 ))

    if [ "$WATCH" != off ]; then
        wait_watch
    fi

    # the directory's CPU kept busy, as it is while it answers a refresh
    # (on this kind of machine a busy CPU takes milliseconds from the other)
    local spin=
    if [ "$PIN" = 1 ]; then
        taskset -c "$LAST_CPU" perl -e '1 while 1' &
        spin=$!
    fi

    # the machine alone: how long a loop on nginx's CPU loses it
    out_floor=$($ON_FIRST perl bench/floor.pl "$QUIET")

    # the probe alone: what its requests cost the worker
    g=$(field generation)
    c0=$(cpu_ns "$worker")
    t0=$(now_ms)
    out_quiet=$($ON_FIRST perl bench/probe.pl "$PORT" "$QUIET")
    t1=$(now_ms)
    c1=$(cpu_ns "$worker")

    if [ -n "$spin" ]; then
        kill "$spin"
        wait "$spin" 2> /dev/null || true
    fi
    [ "$(field generation)" = "$g" ] || { echo "a refresh ran in the quiet probe" >&2; exit 1; }
    quiet_cpu=$(( (c1 - c0) / (t1 - t0) ))     # ns per ms

    # a member leaves; the probe runs from a second before the refresh to
    # a second after the new table is in
    if [ "$WATCH" = off ]; then
        $change
        next=$(field next_refresh)
        wait_s=$(( next - $(date +%s) - 1 ))
        [ "$wait_s" -gt 0 ] && sleep "$wait_s"
    fi

    rm -f "$B/stop"
    PROBE_LATE=2 $ON_FIRST perl bench/probe.pl "$PORT" 900 "$B/stop" > "$B/probe.out" 2> "$B/probe.late" &
    local probe=$! perf=
    if [ "${REFRESH_PERF:-0}" = 1 ]; then
        perf record -q -g -p "$worker" -o "$B/perf.$name.data" > /dev/null 2>&1 &
        perf=$!
    fi
    c0=$(cpu_ns "$worker")
    t0=$(now_ms)
    if [ "$WATCH" != off ]; then
        sleep 1
        $change
    fi
    wait_generation "$g" 900
    sleep 1
    touch "$B/stop"
    wait "$probe"
    if [ -n "$perf" ]; then
        kill -INT "$perf"
        wait "$perf" || true
        perf report -q --stdio --no-children -i "$B/perf.$name.data" \
            2> /dev/null | grep -v '^$' | head -200 > "$B/perf.$name.txt"
    fi
    t1=$(now_ms)
    c1=$(cpu_ns "$worker")
    out_refresh=$(cat "$B/probe.out")
    out_late=$(perl bench/late.pl "$B/probe.late" "$B/nginx/logs/error.log")

    win=$(( t1 - t0 ))
    wall=$(field last_duration_ms)
    cpu=$(( $(field last_cpu_us) / 1000 ))

    printf "%-6s refresh: %s names, wall %s ms, longest step %s us (CPU %s us), CPU %s us (status); worker CPU %d ms (%d ms in %d ms, %d ms of them the probe's by its cost without a refresh)\n" \
           "$name" "$(field entries)" "$wall" "$(field last_longest_step_us)" \
           "$(field last_longest_step_cpu_us)" "$(field last_cpu_us)" \
           $(( (c1 - c0 - quiet_cpu * win) / 1000000 )) \
           $(( (c1 - c0) / 1000000 )) "$win" $(( quiet_cpu * win / 1000000 ))
    printf "%-6s a loop alone on nginx's CPU: %s\n" "$name" "$out_floor"
    printf "%-6s probe without refresh: %s\n" "$name" "$out_quiet"
    printf "%-6s probe during refresh:  %s\n" "$name" "$out_refresh"
    printf "%-6s its answers over 2 ms: %s\n" "$name" "$out_late"
    step_cpu=$(field last_longest_step_cpu_us)
    echo "$name $wall $cpu $(awk -v u="$step_cpu" 'BEGIN { printf "%.3f", u / 1000 }') $(echo "$out_quiet" | awk '{ print $8 }') $(echo "$out_refresh" | awk '{ print $8 }') $(echo "$out_floor" | awk '{ print $2 }') $(echo "$out_late" | awk '{ print $2, $4, $11, $13 }' | tr -d ')')" >> "$B/summary"
}

# OpenLDAP: N users, ten groups of N/10 in "big-group"
slapd_ldif() {
    perl -e '
        my ($n) = @ARGV;
        my $b = "dc=example,dc=com";
        print "dn: $b\nobjectClass: dcObject\nobjectClass: organization\n",
              "dc: example\no: Example\n\n",
              map({ "dn: ou=$_,$b\nobjectClass: organizationalUnit\nou: $_\n\n" }
                  qw(people groups service)),
              "dn: uid=svc-nginx,ou=service,$b\nobjectClass: account\n",
              "objectClass: simpleSecurityObject\nuid: svc-nginx\n",
              "userPassword: Svc-Passw0rd\n\n";
        for my $i (1 .. $n) {
            my $u = sprintf("user%06d", $i);
            print "dn: uid=$u,ou=people,$b\nobjectClass: inetOrgPerson\n",
                  "objectClass: adUser\nuid: $u\ncn: $u\nsn: $u\n",
                  "sAMAccountName: $u\nuserPrincipalName: $u\@EXAMPLE.TEST\n\n";
        }
        for my $g (0 .. 9) {
            print "dn: cn=big-$g,ou=groups,$b\nobjectClass: groupOfNames\n",
                  "cn: big-$g\n",
                  map({ sprintf("member: uid=user%06d,ou=people,$b\n", $_) }
                      grep { $_ % 10 == $g } 1 .. $n), "\n";
        }
        print "dn: cn=big-group,ou=groups,$b\nobjectClass: groupOfNames\n",
              "cn: big-group\n",
              map({ "member: cn=big-$_,ou=groups,$b\n" } 0 .. 9), "\n";
    ' "$N"
}

slapd_change() {
    ldapmodify -x -H "ldap://127.0.0.1:$LDAP_PORT" \
        -D "cn=admin,dc=example,dc=com" -w secret > /dev/null <<LDIF
dn: cn=big-0,ou=groups,dc=example,dc=com
changetype: modify
delete: member
member: uid=user000010,ou=people,dc=example,dc=com
LDIF
}

# $1: the name of the measurement; with syncprov and the watch for "delta"
run_slapd() {
    local name=${1:-slapd} syncprov=0
    export TEST_NGINX_LDAP_PORT=${LDAP_PORT:=18689}
    export TEST_NGINX_LDAPS_PORT=$((LDAP_PORT + 1))
    if [ "$name" = delta ]; then
        syncprov=1
        WATCH=syncrepl
    fi
    slapd_ldif > "$B/slapd.ldif"
    echo "== $name: loading $N users"
    perl -It/lib -MExchangeAccess::Slapd -e '
        local $/; open my $f, "<", $ARGV[1] or die; my $l = <$f>;
        ExchangeAccess::Slapd->start(dir => $ARGV[0], ldif => $l,
                                     syncprov => $ARGV[2]);
    ' "$B/slapd" "$B/slapd.ldif" "$syncprov"
    echo Svc-Passw0rd > "$B/slapd.secret"
    pin "$LAST_CPU" "$(cat "$B/slapd/slapd.pid")"

    start_nginx "ldap_url ldap://127.0.0.1:$LDAP_PORT;
        ldap_bind_dn \"uid=svc-nginx,ou=service,dc=example,dc=com\";
        ldap_bind_password_file $B/slapd.secret;
        ldap_base \"dc=example,dc=com\";
        ldap_group \"cn=big-group,ou=groups,dc=example,dc=com\";
        ldap_nested walk;
$(ldap_common)"
    measure "$name" slapd_change || true
    stop_nginx
    kill "$(cat "$B/slapd/slapd.pid")"
    WATCH=off
}

# the same names in a list file, read when nginx reads its configuration
# (the first load is that) and again when it changes
file_change() {
    grep -v '^user000010' "$B/list.txt" > "$B/list.new"
    mv "$B/list.new" "$B/list.txt"
}

run_file() {
    echo "== file: $N users"
    perl -e 'printf "user%06d\nuser%06d\@example.test\n", $_, $_ for 1 .. $ARGV[0]' \
        "$N" > "$B/list.txt"
    start_nginx "file $B/list.txt;"
    measure file file_change || true
    stop_nginx
}

# a member leaves, or comes back if an earlier run took it out (samba-tool
# "removes" a member that is not there without an error)
samba_change() {
    local conf=$B/samba/etc/smb.conf members
    members=$(samba-tool group listmembers "Big Group 1" -s "$conf")
    if grep -qx bulk00001 <<< "$members"; then
        samba-tool group removemembers "Big Group 1" bulk00001 -s "$conf"
    else
        samba-tool group addmembers "Big Group 1" bulk00001 -s "$conf"
    fi > /dev/null
}

run_samba() {
    echo "== samba: $N users"
    samba_pid=$(perl -It/lib -MExchangeAccess::Samba -e '
        my $dc = ExchangeAccess::Samba->start(dir => $ARGV[0], bulk => $ARGV[1],
                                              nest => 10, query_duration => 900,
                                              reuse => $ARGV[2]);
        $dc->{owner} = 0;
        print $dc->{pid};
    ' "$B/samba" "$N" "${REFRESH_REUSE:-0}")
    echo 'Passw0rd!' > "$B/samba.secret"
    pin "$LAST_CPU" $(pgrep -g "$samba_pid")

    start_nginx "ldap_url ldap://127.0.0.1;
        ldap_bind_dn \"CN=svc-nginx,CN=Users,DC=example,DC=test\";
        ldap_bind_password_file $B/samba.secret;
        ldap_base \"DC=example,DC=test\";
        ldap_group \"CN=Big Group,CN=Users,DC=example,DC=test\";
        ldap_nested chain;
$(ldap_common)"
    measure samba samba_change || true
    stop_nginx
    kill -TERM "$samba_pid" 2>/dev/null || true
    sleep 2
    kill -KILL -- "-$samba_pid" 2>/dev/null || true
}

rm -f "$B/summary"

for w in $which; do
    case $w in
        slapd) run_slapd slapd ;;
        delta) run_slapd delta ;;
        samba) run_samba ;;
        file) run_file ;;
        *) echo "unknown: $w" >&2; exit 1 ;;
    esac
done

echo
[ "$PIN" = 1 ] && echo "the directory on CPU $LAST_CPU, nginx and the probe on CPU 0"
echo "target: installed in < 1 s of the worker's CPU, no request waits more than 2 ms"
echo "step CPU: the most CPU time one step of the refresh held the event loop"
echo "floor: the longest a loop that only reads the clock lost nginx's CPU"
echo "stall: an answer over 2 ms during no step that kept the event loop 2 ms or more"
echo "       (nginx logs those), or during such steps that used at most 2 ms of CPU,"
echo "       waited for the CPU the machine took, not for the refresh"
printf "%-8s %10s %10s %10s %14s %14s %8s\n" source "wall ms" "CPU ms" "step CPU" "stall quiet" "stall refresh" floor
while read -r s w c h q r f ln li lc lo; do
    printf "%-8s %10s %10s %10s %14s %14s %8s  CPU %s, step %s, stall %s\n" "$s" "$w" "$c" "$h" "$q" "$r" "$f" \
        "$(awk -v c="$c" 'BEGIN { print (c < 1000) ? "ok" : "MISSED" }')" \
        "$(awk -v h="$h" 'BEGIN { print (h <= 2) ? "ok" : "MISSED" }')" \
        "$(awk -v r="$r" -v n="$ln" -v i="$li" -v c="$lc" -v o="$lo" 'BEGIN {
               if (r <= 2) print "ok"
               else if (c <= 2) printf "the machine'"'"'s (%d over 2 ms: %d in steps of 2 ms or more, of %.3f ms of CPU at most, %d in none)", n, i, c, o
               else print "MISSED" }')"
done < "$B/summary"
