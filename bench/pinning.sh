#!/bin/bash
# What exchange_access_ntlm costs and saves: requests per second over
# keep-alive client connections, and connections per second (a new client
# connection for every request), through one upstream block in three
# forms, to a local backend that answers "ok":
#
#   unpinned   the block as it is: a new upstream connection per request
#   pinned     the block with exchange_access_ntlm: each client connection
#              keeps its own upstream connection between its requests
#   keepalive  the block with "keepalive 16" (a cache shared by all
#              clients; for reference only: NTLM must never use it)
#
# The access control of the module is off in all three, so only the
# pinning is measured.  wrk's rates are noisy on a shared machine;
# instructions per request and per connection under callgrind (nginx and
# the backend in one process) are repeatable.  Run by
# "bench/run.sh pinning [seconds]".
#
# usage: bench/pinning.sh [seconds of wrk per measure, default 5]

set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
secs=${1:-5}

bash util/deps.sh build
command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk
command -v valgrind >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q valgrind
make -s module

SO=$root/build/nginx/objs/ngx_http_exchange_access_module.so
B=${BENCH_DIR:-$root/bench/out}/pinning
PORT=${BENCH_PORT:-18500}
BACK=$((PORT + 1))

rm -rf "$B"
mkdir -p "$B"

conf() {
    local name=$1 upstream=$2
    local dir="$B/$name"
    mkdir -p "$dir/logs" "$dir/tmp"
    cat > "$dir/nginx.conf" <<CONF
load_module $SO;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log error;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    upstream backend {
        server 127.0.0.1:$BACK;
        $upstream
    }
    server {
        listen 127.0.0.1:$BACK;
        keepalive_requests 1000000;
        location / { return 200 "ok\n"; }
    }
    server {
        listen 127.0.0.1:$PORT;
        keepalive_requests 1000000;
        location / {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://backend;
        }
    }
}
CONF
}

conf unpinned ""
conf pinned "exchange_access_ntlm;"
conf keepalive "keepalive 16;"

# wrk's requests per second; with "close", a new connection per request
measure() {
    local hdr=()
    [ "$1" = close ] && hdr=(-H "Connection: close")
    wrk -t1 -c16 -d"${secs}s" "${hdr[@]}" -s "$root/bench/post.lua" \
        "http://127.0.0.1:$PORT/mapi/emsmdb/" \
        | awk '/Requests\/sec/ { print $2 }'
}

# instructions per request on one keep-alive connection ("keepalive"), or
# per connection that carries one request ("close"), under callgrind
instr() {
    local name=$1 how=$2 n=1000 total pid
    local dir="$B/$name"
    sed 's/^worker_processes 1;/worker_processes 1; master_process off; daemon off;/' \
        "$dir/nginx.conf" > "$dir/single.conf"
    valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.$how" \
        nginx -p "$dir" -c "$dir/single.conf" > "$dir/valgrind.log" 2>&1 &
    pid=$!
    for i in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.2
    done
    callgrind_control -z "$pid" > /dev/null 2>&1
    perl -e '
        use IO::Socket::INET;
        my ($port, $how, $n) = @ARGV;
        my $req = "POST /mapi/emsmdb/ HTTP/1.1\r\nHost: b\r\n"
                . "Content-Length: 0\r\n";
        my $s;
        for (1 .. $n) {
            $s = IO::Socket::INET->new("127.0.0.1:$port") or die
                if $how eq "close" || !$s;
            print $s $req . ($how eq "close" ? "Connection: close\r\n" : "")
                   . "\r\n";
            my $r = "";
            sysread($s, $r, 4096, length $r) until $r =~ /\r\n\r\nok\n/;
            close $s if $how eq "close";
        }' "$PORT" "$how" "$n"
    callgrind_control -d "$pid" > /dev/null 2>&1
    sleep 0.5
    kill -QUIT "$pid"
    wait "$pid" 2>/dev/null || true
    total=$(for f in "$dir"/callgrind."$how"*; do
                callgrind_annotate "$f" 2>/dev/null \
                | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
            done | sort -n | tail -1)
    echo $((total / n))
}

printf '%-10s %9s %6s %9s %6s %11s %6s %11s %6s\n' variant req/s ratio \
       conn/s ratio instr/req ratio instr/conn ratio
base_r=
base_c=
base_ir=
base_ic=
for v in unpinned pinned keepalive; do
    dir="$B/$v"
    nginx -p "$dir" -c "$dir/nginx.conf"
    sleep 0.5
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
           "http://127.0.0.1:$PORT/mapi/emsmdb/")
    [ "$code" = 200 ] || { echo "$v: expected 200, got $code" >&2; exit 1; }
    r=$(measure keepalive)
    c=$(measure close)
    kill -QUIT "$(cat "$dir/nginx.pid")"
    sleep 1
    ir=$(instr "$v" keepalive)
    ic=$(instr "$v" close)
    : "${base_r:=$r}"
    : "${base_c:=$c}"
    : "${base_ir:=$ir}"
    : "${base_ic:=$ic}"
    awk -v v=$v -v r="$r" -v br="$base_r" -v c="$c" -v bc="$base_c" \
        -v ir="$ir" -v bir="$base_ir" -v ic="$ic" -v bic="$base_ic" \
        'BEGIN { printf "%-10s %9.0f %6.3f %9.0f %6.3f %11d %6.3f %11d %6.3f\n",
                 v, r, r / br, c, c / bc, ir, ir / bir, ic, ic / bic }'
done
