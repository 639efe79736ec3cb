#!/bin/bash
# The cost of the module on the request path, measured against the same
# nginx without it.  Every variant proxies POST /mapi/emsmdb/ with a Basic
# credential to a local backend:
#
#   plain      nginx, no module
#   module     the module loaded, nothing restricted on the location
#   enforced   exchange_access on, mapi restricted to a list of 100,000
#              names, the user a member (the full path: classify, decode,
#              normalise, look up, allow)
#   rules      enforced, plus 20 exchange_access_classify and 20
#              exchange_access_user_map rules that never match
#   rules-jit  the same with "pcre_jit on;" (nginx's PCRE JIT)
#   ntlm       enforced, with an NTLMv2 Type 3 credential instead of Basic
#
# and the worst case of the request path, one request as large as
# "large_client_header_buffers 4 64k" lets through, made to cost the
# classifier most: a 60 KB request line of one letter with eight Email
# values of that letter (each a near match everywhere), and three
# X-OWA-ExplicitLogonUser headers of 60 KB; the user a member, so it is
# forwarded.  Its ratios are to the same request through nginx without
# the module:
#
#   worst-plain  nginx, no module, the worst request
#   worst        enforced, the worst request
#
# (its requests per second are counted on one connection: the request is
# larger than wrk sends)
#
# Two measures: requests per second with wrk (noisy on a shared machine),
# and instructions per request under callgrind (repeatable), each as a
# ratio to "plain".
#
# usage: bench/run.sh [seconds of wrk per variant, default 5]
#        bench/run.sh pinning [seconds]   exchange_access_ntlm: a pinned
#                                         upstream against the same one
#                                         unpinned (bench/pinning.sh)

set -euo pipefail

cd "$(dirname "$0")/.."

if [ "${1:-}" = pinning ]; then
    shift
    exec bash bench/pinning.sh "$@"
fi

root=$PWD
secs=${1:-5}

bash util/deps.sh build
command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk
command -v valgrind >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q valgrind
make -s module

SO=$root/build/nginx/objs/ngx_http_exchange_access_module.so
B=${BENCH_DIR:-$root/bench/out}
PORT=${BENCH_PORT:-18500}
BACK=$((PORT + 1))

rm -rf "$B"
mkdir -p "$B"
for i in $(seq 1 100000); do printf 'user%06d\n' "$i"; done > "$B/list.txt"

BASIC="Authorization: Basic $(printf 'user050000:Passw0rd!' | base64)"
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

conf() {
    local name=$1 load=$2 access=$3 extra=$4 main=${5:-}
    local dir="$B/$name"
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
        keepalive 16;
    }
    server {
        listen 127.0.0.1:$BACK;
        location / { return 200 "ok\n"; }
    }
    $( [ -n "$load" ] && echo "exchange_access_list remote { zone 16m; file $B/list.txt; }" )
    server {
        listen 127.0.0.1:$PORT;
        keepalive_requests 100000;
        location / {
            $access
            $extra
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://backend;
        }
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

conf plain "" "" ""
conf module "$LOAD" "" ""
conf enforced "$LOAD" "$ON" ""
conf rules "$LOAD" "$ON" "$rules"
conf rules-jit "$LOAD" "$ON" "$rules" "pcre_jit on;"
conf ntlm "$LOAD" "$ON" ""
conf worst-plain "" "" ""
conf worst "$LOAD" "$ON" ""

check() {
    local code
    if [ "$2" = raw ]; then
        code=$(perl -MIO::Socket::INET -e '
            my $s = IO::Socket::INET->new("127.0.0.1:$ARGV[0]") or die;
            open my $f, "<", $ARGV[1] or die; local $/; my $d = <$f>;
            print $s $d;
            my $r = ""; sysread($s, $r, 4096);
            print $r =~ m{^HTTP/1.1 (\d+)} ? $1 : "none";' "$PORT" "$B/worst.req")
    else
        code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "$2" \
               "http://127.0.0.1:$PORT/mapi/emsmdb/")
    fi
    [ "$code" = 200 ] || { echo "$1: expected 200, got $code" >&2; exit 1; }
}

# the load: wrk's POST with the header; the worst request, larger than
# wrk takes (80 KB of headers), one after another on one connection
load() {
    if [ "$1" = raw ]; then
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
        ' "$PORT" "$B/worst.req" "$3"
    else
        wrk $2 -H "$1" -s "$root/bench/post.lua" \
            "http://127.0.0.1:$PORT/mapi/emsmdb/"
    fi
}

rps() {
    local name=$1 hdr=$2
    local dir="$B/$name"
    nginx -p "$dir" -c "$dir/nginx.conf"
    sleep 0.5
    check "$name" "$hdr"
    load "$hdr" "-t1 -c16 -d${secs}s" "$secs" \
        | awk '/Requests\/sec/ { print $2 }'
    kill -QUIT "$(cat "$dir/nginx.pid")"
    sleep 0.5
}

# instructions per request: nginx in one process under callgrind
ipr() {
    local name=$1 hdr=$2 n=${3:-2000} total
    local dir="$B/$name"
    sed -i 's/^worker_processes 1;/worker_processes 1; master_process off; daemon off;/' "$dir/nginx.conf"
    valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.out" \
        nginx -p "$dir" -c "$dir/nginx.conf" > "$dir/valgrind.log" 2>&1 &
    local pid=$!
    for i in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.2
    done
    check "$name" "$hdr"
    load "$hdr" "-t1 -c1 -d3s" 3 > /dev/null
    # a fixed number of requests, counted from a zeroed counter
    callgrind_control -z "$pid" > /dev/null 2>&1
    perl -e '
        use IO::Socket::INET;
        my ($port, $hdr, $n, $file) = @ARGV;
        my $req = "POST /mapi/emsmdb/ HTTP/1.1\r\nHost: b\r\n$hdr\r\n"
                  . "Content-Length: 0\r\n\r\n";
        if ($hdr eq "raw") { open my $f, "<", $file or die; local $/; $req = <$f>; }
        my $s = IO::Socket::INET->new("127.0.0.1:$port") or die;
        for (1 .. $n) {
            print $s $req;
            my $r = "";
            sysread($s, $r, 4096, length $r) until $r =~ /\r\n\r\nok\n/;
        }' "$PORT" "$hdr" "$n" "$B/worst.req"
    callgrind_control -d "$pid" > /dev/null 2>&1
    sleep 0.5
    kill -QUIT "$pid"
    wait "$pid" 2>/dev/null || true
    total=$(for f in "$dir"/callgrind.out*; do
                callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
            done | sort -n | tail -1)
    echo $((total / n))
}

echo "variant    req/s     ratio   instr/req  ratio"
base_rps=
base_ipr=
for v in plain module enforced rules rules-jit ntlm; do
    hdr=$BASIC
    [ $v = ntlm ] && hdr=$NTLM
    r=$(rps $v "$hdr")
    i=$(ipr $v "$hdr")
    : "${base_rps:=$r}"
    : "${base_ipr:=$i}"
    awk -v v=$v -v r="$r" -v br="$base_rps" -v i="$i" -v bi="$base_ipr" \
        'BEGIN { printf "%-9s %8.0f  %6.3f  %9d  %6.3f\n", v, r, r / br, i, i / bi }'
done

# the worst request: fewer requests under callgrind, each costs more
base_rps=
base_ipr=
for v in worst-plain worst; do
    r=$(rps $v raw)
    i=$(ipr $v raw 50)
    : "${base_rps:=$r}"
    : "${base_ipr:=$i}"
    awk -v v=$v -v r="$r" -v br="$base_rps" -v i="$i" -v bi="$base_ipr" \
        'BEGIN { printf "%-11s %6.0f  %6.3f  %9d  %6.3f\n", v, r, r / br, i, i / bi }'
done
