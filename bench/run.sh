#!/bin/bash
# The cost of the module on the request path, measured against the same
# nginx without it.  Every variant proxies POST /mapi/emsmdb/ to a local
# backend that answers 200 "ok":
#
#   plain        nginx, no module, a Basic credential
#   plain-ntlm   nginx, no module, the NTLMv2 Type 3 of "ntlm" (the
#                header's own parsing is nginx's, not the module's)
#   plain-none   nginx, no module, no Authorization header
#   module       the module loaded, nothing restricted on the location
#   enforced     exchange_access on, mapi restricted to a list of 100,000
#                names, the user a member (the full path: classify, decode,
#                normalise, look up, allow)
#   enforced-10  the same with a list of 10 names
#   enforced-1m  the same with a list of 1,000,000 names
#   enforced-alt enforced, the Basic headers of two members taking turns
#                on every connection: no request repeats the header of the
#                one before it, so none is decided on what the connection
#                kept of its last request's header
#   rules        enforced, plus 20 exchange_access_classify and 20
#                exchange_access_user_map rules that never match
#   rules-jit    the same with "pcre_jit on;" (nginx's PCRE JIT)
#   ntlm         enforced, with an NTLMv2 Type 3 credential on every
#                request instead of Basic
#   pinned       the module loaded, nothing restricted, the upstream
#                connection pinned to the client's (exchange_access_ntlm),
#                no Authorization header
#   ntlm-conn    enforced on the pinned upstream: the connection
#                identified by an NTLMv2 Type 3 on its first request, which
#                the backend accepts, every later request without an
#                Authorization header (compared with "pinned": the
#                pinning's own cost is bench/pinning.sh's)
#
# and the worst case of the request path, one request as large as
# "large_client_header_buffers 4 64k" lets through, made to cost the
# classifier most: a 60 KB request line of one letter with eight Email
# values of that letter (each a near match everywhere), and three
# X-OWA-ExplicitLogonUser headers of 60 KB; the user a member, so it is
# forwarded:
#
#   worst-plain  nginx, no module, the worst request
#   worst        enforced, the worst request
#
# (its requests per second are counted on one connection: the request is
# larger than wrk sends)
#
# Two measures: requests per second and the 99th percentile of latency
# with wrk (noisy on a shared machine), and instructions per request
# under callgrind (repeatable).  Each variant is compared with the plain
# nginx that carries the same request ("base"); "above" is the module's
# own instructions per request.
#
# The instructions glibc's allocator spends inside malloc and free are
# left out of the count (they are counted apart, as calls: "allocs" is
# the number of malloc, posix_memalign, calloc and realloc calls per
# request).  How much work malloc does for nginx's 4 KB request pools
# depends on how the configuration happened to lay the heap out, and
# that moves a variant by up to 800 instructions per request against
# another (20 rules that never match once measured 124 fewer than none),
# more than the differences measured; the number of allocations does
# not move, and a module that allocated more would show there.  Then the zone memory of each list (from
# the status page: bytes per name beyond the name itself), and the
# targets of the request path, checked.
#
# usage: bench/run.sh [seconds of wrk per variant, default 5] [variant ...]
#        BENCH_WRK=0 bench/run.sh ...     callgrind only
#        bench/run.sh refresh [...]       the LDAP refresh (bench/refresh.sh)
#        bench/run.sh pinning [seconds]   exchange_access_ntlm: a pinned
#                                         upstream against the same one
#                                         unpinned (bench/pinning.sh)

set -euo pipefail

cd "$(dirname "$0")/.."

if [ "${1:-}" = refresh ]; then
    shift
    exec bash bench/refresh.sh "$@"
fi

if [ "${1:-}" = pinning ]; then
    shift
    exec bash bench/pinning.sh "$@"
fi

root=$PWD
secs=${1:-5}
shift || true
only=" ${*:-} "

bash util/deps.sh build
command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk
command -v valgrind >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q valgrind
make -s module

SO=${BENCH_SO:-$root/build/nginx/objs/ngx_http_exchange_access_module.so}
B=${BENCH_DIR:-$root/bench/out}
PORT=${BENCH_PORT:-18500}
BACK=$((PORT + 1))
WRK=${BENCH_WRK:-1}

rm -rf "$B"
mkdir -p "$B"

# three lists of ten-letter names, each with user050000, the user
perl -e 'printf "user%06d\n", $_ for 49995 .. 50004' > "$B/list-10.txt"
perl -e 'printf "user%06d\n", $_ for 1 .. 100000' > "$B/list-100k.txt"
perl -e 'printf "user%06d\n", $_ for 0 .. 999999' > "$B/list-1m.txt"

BASIC="Authorization: Basic $(printf 'user050000:Passw0rd!' | base64)"
BASIC2="Authorization: Basic $(printf 'user050001:Passw0rd!' | base64)"
NTLM="Authorization: NTLM $(perl -MAuthen::NTLM -e '
    ntlm_user("user050000"); ntlm_domain(""); ntlm_password("x"); ntlmv2(1);
    ntlm();
    print ntlm("TlRMTVNTUAACAAAADgAOADgAAAA1goniASNFZ4mrze8AAAAAAAAAAGwAbABGAAAACgB8TwAAAA9FAFgAQQBNAFAATABFAAIADgBFAFgAQQBNAFAATABFAAEADABFAFgAQwBIADAAMQAEABgAZQB4AGEAbQBwAGwAZQAuAHQAZQBzAHQAAwAmAGUAeABjAGgAMAAxAC4AZQB4AGEAbQBwAGwAZQAuAHQAZQBzAHQAAAAAAA==")')"

# the worst request, raw
perl -e '
    my $basic = shift;
    my $q = join "&", map { "Email=" . ("a" x 3500) . "\@b" } 1 .. 8;
    my $h = join "", map { "X-OWA-ExplicitLogonUser: " . ("a" x 60000)
                           . "\@b\r\n" } 1 .. 3;
    print "POST /mapi/" . ("a" x 30000) . "?$q HTTP/1.1\r\nHost: b\r\n"
          . "$basic\r\n$h" . "Content-Length: 0\r\n\r\n";
' "$BASIC" > "$B/worst.req"

# upstream: what the backend block says besides its server
KEEPALIVE="keepalive 16;"
PINNED="exchange_access_ntlm;"

conf() {
    local name=$1 load=$2 access=$3 extra=$4 main=${5:-} list=${6:-100k}
    local upstream=${7:-$KEEPALIVE}
    local dir="$B/$name" zone=16m
    [ "$list" = 10 ] && zone=1m
    [ "$list" = 1m ] && zone=128m
    mkdir -p "$dir/logs" "$dir/tmp"
    cat > "$dir/nginx.conf" <<CONF
$load
$main
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log error;
events { worker_connections 1024; }
http {
    access_log off;
    large_client_header_buffers 4 64k;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    upstream backend {
        server 127.0.0.1:$BACK;
        $upstream
    }
    $( [ -n "$load" ] && echo "exchange_access_list remote { zone $zone; file $B/list-$list.txt; }" )
    server {
        listen 127.0.0.1:$PORT;
        keepalive_requests 1000000;
        location / {
            $access
            $extra
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://backend;
        }
        # the same locations with and without the module: finding the
        # location walks the same tree
        $( [ -n "$load" ] && echo "location = /status { exchange_access_status; }" \
                          || echo "location = /status { return 404; }" )
    }
}
CONF
}

rules=""
for i in $(seq 1 20); do
    rules="$rules exchange_access_classify \"~*^/never-$i/\" mapi;"
    rules="$rules exchange_access_user_map \"~^never-$i-(.*)\$\" \$1;"
done

LOAD="load_module $SO;"
ON="exchange_access on; exchange_access_require mapi list=remote;"

# the backend: an nginx of its own, so that the nginx measured does only
# what a proxy in front of Exchange does (the module's log phase, for one,
# does not run for the backend's requests)
mkdir -p "$B/backend/logs"
cat > "$B/backend/nginx.conf" <<CONF
worker_processes 1;
pid $B/backend/nginx.pid;
error_log $B/backend/logs/error.log error;
events { worker_connections 1024; }
http {
    access_log off;
    large_client_header_buffers 4 64k;
    server {
        listen 127.0.0.1:$BACK;
        keepalive_requests 1000000;
        location / { return 200 "ok\n"; }
    }
}
CONF
nginx -p "$B/backend" -c "$B/backend/nginx.conf"
trap 'kill -QUIT "$(cat "$B/backend/nginx.pid" 2>/dev/null)" 2>/dev/null || true' EXIT

conf plain "" "" ""
conf plain-ntlm "" "" ""
conf plain-none "" "" ""
conf module "$LOAD" "" ""
conf enforced "$LOAD" "$ON" ""
conf enforced-10 "$LOAD" "$ON" "" "" 10
conf enforced-1m "$LOAD" "$ON" "" "" 1m
conf enforced-alt "$LOAD" "$ON" ""
conf rules "$LOAD" "$ON" "$rules"
conf rules-jit "$LOAD" "$ON" "$rules" "pcre_jit on;"
conf ntlm "$LOAD" "$ON" ""
conf pinned "$LOAD" "" "" "" 100k "$PINNED"
conf ntlm-conn "$LOAD" "$ON" "" "" 100k "$PINNED"
conf worst-plain "" "" ""
conf worst "$LOAD" "$ON" ""

# the request of each variant: a header, "none", "conn:" and the header
# of the first request of a connection, or "raw" (the worst request)
hdr_of() {
    case $1 in
        plain-ntlm|ntlm) echo "$NTLM" ;;
        plain-none|pinned) echo none ;;
        ntlm-conn) echo "conn:$NTLM" ;;
        enforced-alt) echo "alt:$BASIC|$BASIC2" ;;
        worst*) echo raw ;;
        *) echo "$BASIC" ;;
    esac
}

base_of() {
    case $1 in
        plain-ntlm|ntlm) echo plain-ntlm ;;
        plain-none) echo plain-none ;;
        pinned|ntlm-conn) echo pinned ;;
        worst*) echo worst-plain ;;
        *) echo plain ;;
    esac
}

check() {
    local code
    if [ "$2" = raw ]; then
        code=$(perl -MIO::Socket::INET -e '
            my $s = IO::Socket::INET->new("127.0.0.1:$ARGV[0]") or die;
            open my $f, "<", $ARGV[1] or die; local $/; my $d = <$f>;
            print $s $d;
            my $r = ""; sysread($s, $r, 4096);
            print $r =~ m{^HTTP/1.1 (\d+)} ? $1 : "none";' "$PORT" "$B/worst.req")
    elif [ "$2" = none ]; then
        code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
               "http://127.0.0.1:$PORT/mapi/emsmdb/")
    else
        local h=${2#conn:}
        h=${h#alt:}
        code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
               -H "${h%%|*}" "http://127.0.0.1:$PORT/mapi/emsmdb/")
    fi
    [ "$code" = 200 ] || { echo "$1: expected 200, got $code" >&2; exit 1; }
}

# the load: wrk's POST with the header (for "conn:", on the first request
# of each connection only); the worst request, larger than wrk takes (80
# KB of headers), one after another on one connection
load() {
    local hdr=$1 conns=$2 secs=$3
    case $hdr in
    raw)
        perl -MIO::Socket::INET -MTime::HiRes=time -e '
            my ($port, $file, $secs) = @ARGV;
            open my $f, "<", $file or die; local $/; my $req = <$f>;
            my $s = IO::Socket::INET->new("127.0.0.1:$port") or die;
            my ($n, $t0) = (0, time);
            while (time - $t0 < $secs) {
                print $s $req;
                my $r = "";
                sysread($s, $r, 4096, length $r) until $r =~ /\r\n\r\nok\n/;
                $n++;
            }
            printf "Requests/sec: %.2f\n", $n / (time - $t0);
        ' "$PORT" "$B/worst.req" "$secs" ;;
    none)
        wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$root/bench/post.lua" \
            "http://127.0.0.1:$PORT/mapi/emsmdb/" ;;
    conn:*)
        wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$root/bench/conn.lua" \
            "http://127.0.0.1:$PORT/mapi/emsmdb/" -- "${hdr#conn:}" "$conns" ;;
    alt:*)
        local pair=${hdr#alt:}
        wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$root/bench/alt.lua" \
            "http://127.0.0.1:$PORT/mapi/emsmdb/" -- \
            "${pair%%|*}" "${pair#*|}" ;;
    *)
        wrk -t1 -c"$conns" -d"${secs}s" --latency -H "$hdr" \
            -s "$root/bench/post.lua" "http://127.0.0.1:$PORT/mapi/emsmdb/" ;;
    esac
}

# requests per second and p99 in ms: "rps p99"
rps() {
    local name=$1 hdr=$2
    local dir="$B/$name"
    if [ "$WRK" = 0 ]; then
        echo "0 0"
        return
    fi
    nginx -p "$dir" -c "$dir/nginx.conf"
    sleep 0.5
    check "$name" "$hdr"
    load "$hdr" 16 "$secs" | awk '
        /Requests\/sec/ { r = $2 }
        $1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
                      p = (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : v }
        END { printf "%s %s\n", r, (p == "" ? 0 : p) }'
    kill -QUIT "$(cat "$dir/nginx.pid")"
    sleep 0.5
}

# instructions per request: nginx in one process under callgrind
ipr() {
    local name=$1 hdr=$2 n=${3:-2000} total
    local dir="$B/$name"
    sed 's/^worker_processes 1;/worker_processes 1; master_process off; daemon off;/' \
        "$dir/nginx.conf" > "$dir/callgrind.conf"
    valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" \
        nginx -p "$dir" -c "$dir/callgrind.conf" > "$dir/valgrind.log" 2>&1 &
    local pid=$!
    for i in $(seq 600); do
        curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.2
    done
    check "$name" "$hdr"
    load "$hdr" 1 3 > /dev/null
    # a fixed number of requests, counted from a zeroed counter
    callgrind_control -z "$pid" > /dev/null 2>&1
    perl -e '
        use IO::Socket::INET;
        my ($port, $hdr, $n, $file) = @ARGV;
        my $first = "";
        if ($hdr =~ s/^conn://) { $first = "$hdr\r\n"; $hdr = "none"; }
        my @alt = $hdr =~ s/^alt:// ? split /\|/, $hdr : ();
        my $h = $hdr eq "none" ? "" : "$hdr\r\n";
        my $req = "POST /mapi/emsmdb/ HTTP/1.1\r\nHost: b\r\n$h"
                  . "Content-Length: 0\r\n\r\n";
        if ($hdr eq "raw") { open my $f, "<", $file or die; local $/; $req = <$f>; }
        my $s = IO::Socket::INET->new("127.0.0.1:$port") or die;
        for my $i (1 .. $n) {
            my $q = $req;
            $q = "POST /mapi/emsmdb/ HTTP/1.1\r\nHost: b\r\n$alt[$i % 2]\r\n"
                 . "Content-Length: 0\r\n\r\n" if @alt;
            $q =~ s/\r\n\r\n$/\r\n$first\r\n/ if $i == 1 && $first ne "";
            print $s $q;
            my $r = "";
            sysread($s, $r, 4096, length $r) until $r =~ /\r\n\r\nok\n/;
            die "not 200: $r" unless $r =~ m{^HTTP/1.1 200};
        }' "$PORT" "$hdr" "$n" "$B/worst.req"
    callgrind_control -d "$pid" > /dev/null 2>&1
    # every request of an enforced variant was allowed as a member (after
    # the dump: not counted)
    if grep -q "exchange_access on" "$dir/nginx.conf"; then
        curl -s "http://127.0.0.1:$PORT/status" | perl -MJSON::PP -e '
            local $/; my $s = decode_json(<STDIN>);
            my $a = $s->{requests}{mapi}{allow};
            die "$ARGV[0]: $a of $ARGV[1] requests allowed\n"
                unless $a >= $ARGV[1];' "$name" "$n" >&2
    fi
    sleep 0.5
    kill -QUIT "$pid"
    wait "$pid" 2>/dev/null || true
    # the dump with the most instructions is the counted one
    local f best=0 t
    for f in "$dir"/callgrind.out*; do
        t=$(callgrind_annotate "$f" 2>/dev/null \
            | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
        [ "${t:-0}" -gt "$best" ] && { best=$t; total=$f; }
    done
    callgrind_annotate --threshold=100 --tree=caller --auto=no "$total" \
        2>/dev/null | perl -e '
        my $n = shift;
        my ($all, $alloc, $calls, @callers) = (0, 0, 0);
        while (<STDIN>) {
            s/\(\s*[\d.]+%\)//;
            if (/^\s*([\d,]+)\s+PROGRAM TOTALS/) { ($all = $1) =~ s/,//g; next }
            if (/^\s*[\d,]+\s+<\s+(\S+)\s.*\(([\d,]+)x\)/) {
                my ($who, $c) = ($1, $2); $c =~ s/,//g;
                push @callers, [$who, $c]; next;
            }
            if (/^\s*([\d,]+)\s+\*\s+(\S+)/) {
                my ($ir, $fn) = ($1, $2); $ir =~ s/,//g;
                # malloc.c: the allocator; its mmap and munmap calls
                $alloc += $ir if $fn =~ m{/malloc/malloc\.c:}
                                 || $fn =~ m{:(mmap|munmap)$};
                if ($fn =~ m{/malloc/malloc\.c:(malloc|posix_memalign|calloc|realloc)$}) {
                    $calls += $_->[1] for grep { $_->[0] !~ m{/malloc/malloc\.c:} } @callers;
                }
            }
            @callers = () unless /</;
        }
        printf "%d %.2f\n", ($all - $alloc) / $n, $calls / $n;' "$n"
}

# bytes of zone per name beyond the name itself, from the status page
memory() {
    local name=$1 list=$2
    local dir="$B/$name" json
    nginx -p "$dir" -c "$dir/nginx.conf"
    sleep 0.5
    for i in $(seq 100); do
        json=$(curl -s "http://127.0.0.1:$PORT/status") && break; sleep 0.2
    done
    kill -QUIT "$(cat "$dir/nginx.pid")"
    sleep 0.5
    echo "$json" | perl -MJSON::PP -e '
        my ($list) = @ARGV;
        local $/; my $s = decode_json(<STDIN>)->{lists}{remote};
        my $n = $s->{entries};
        my $names = (-s $list) - $n;        # the names, without newlines
        printf "%-12s %9d %11d %9.1f %9.1f\n", $list =~ m{list-(\w+)}, $n,
               $s->{table_bytes}, $s->{table_bytes} / $n,
               ($s->{table_bytes} - $names) / $n;' "$B/list-$list.txt"
}

want() {
    [ "$only" = "  " ] || [[ $only == *" $1 "* ]]
}

declare -A R P I A

printf "%-12s %8s %6s %7s %6s %10s %10s %7s %7s  %s\n" variant "req/s" ratio \
       "p99 ms" ratio "instr/req" above ratio allocs base
for v in plain plain-ntlm plain-none module enforced-10 enforced enforced-1m enforced-alt \
         rules rules-jit ntlm pinned ntlm-conn worst-plain worst
do
    want $v || continue
    b=$(base_of $v)
    n=2000
    [ "$(hdr_of $v)" = raw ] && n=50
    for x in $b $v; do
        [ -n "${I[$x]:-}" ] && continue
        out=$(rps $x "$(hdr_of $x)")
        read -r R[$x] P[$x] <<< "$out"
        read -r I[$x] A[$x] <<< "$(ipr $x "$(hdr_of $x)" $n)"
    done
    awk -v v=$v -v b=$b -v r="${R[$v]}" -v br="${R[$b]}" -v p="${P[$v]}" \
        -v bp="${P[$b]}" -v i="${I[$v]}" -v bi="${I[$b]}" -v a="${A[$v]}" 'BEGIN {
        printf "%-12s %8.0f %6.3f %7.2f %6.3f %10d %10d %7.3f %7.2f  %s\n", v, r,
               br ? r / br : 0, p, bp ? p / bp : 0, i, i - bi, i / bi, a, b }'
done

echo
echo "zone memory   names table_bytes  per name  per name beyond the name"
want memory && for l in 10:enforced-10 100k:enforced 1m:enforced-1m; do
    memory "${l#*:}" "${l%%:*}"
done

# the targets of the request path (instructions above the base)
above() { echo $(( ${I[$1]} - ${I[$(base_of $1)]} )); }
target() {
    local what=$1 got=$2 max=$3
    printf "%-44s %7s  (at most %s)  %s\n" "$what" "$got" "$max" \
        "$( [ "$got" -le "$max" ] && echo ok || echo MISSED )"
}

echo
[ -n "${I[enforced]:-}" ] && target "Basic, member of 100,000 names" "$(above enforced)" 1000
[ -n "${I[ntlm]:-}" ] && target "NTLMv2 Type 3" "$(above ntlm)" 2500
[ -n "${I[ntlm-conn]:-}" ] && target "NTLM-identified connection, no header" "$(above ntlm-conn)" 800
[ -n "${I[rules]:-}" ] && [ -n "${I[enforced]:-}" ] \
    && target "40 unmatched rules, on top of enforced" $(( ${I[rules]} - ${I[enforced]} )) 600
if [ -n "${I[enforced-10]:-}" ] && [ -n "${I[enforced]:-}" ] && [ -n "${I[enforced-1m]:-}" ]; then
    # the module's own instructions, not the totals
    awk -v a="$(above enforced-10)" -v b="$(above enforced)" -v c="$(above enforced-1m)" 'BEGIN {
        lo = a; hi = a; if (b < lo) lo = b; if (c < lo) lo = c;
        if (b > hi) hi = b; if (c > hi) hi = c;
        d = (hi - lo) * 100 / lo;
        printf "%-44s %6.2f%%  (at most 2%%)  %s\n",
               "10 / 100,000 / 1,000,000 names, spread above", d, d <= 2 ? "ok" : "MISSED" }'
fi
