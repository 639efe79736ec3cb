#!/bin/bash
# The demo: builds the module, starts nginx on 127.0.0.1 with
# example-nginx.conf in front of a stand-in Exchange backend and a demo
# allow-list, and shows a member, a non-member and an internal client
# asking for MAPI over HTTP.  On a fresh Debian 12 machine, as root, it
# first installs what it needs.
#
# environment: DEMO_PREFIX (/tmp/exchange-access-demo), DEMO_PORT (8443)

set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD

bash util/deps.sh demo
make module

P=${DEMO_PREFIX:-/tmp/exchange-access-demo}
HTTPS=${DEMO_PORT:-8443}
HTTP=$((HTTPS - 363))
BACKEND=$((HTTPS + 1))
SO=$root/build/nginx/objs/ngx_http_exchange_access_module.so

if [ -f "$P/logs/nginx.pid" ]; then
    kill -QUIT "$(cat "$P/logs/nginx.pid")" 2>/dev/null || true
    sleep 1
fi

rm -rf "$P"
mkdir -p "$P"/{conf/ssl,logs,tmp}

# one self-signed certificate for the proxy and the stand-in Exchange
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=mail.example.com \
    -addext "subjectAltName=DNS:mail.example.com,DNS:autodiscover.example.com,DNS:exchange.corp.example.com" \
    -keyout "$P/conf/ssl/mail.example.com.key" \
    -out "$P/conf/ssl/mail.example.com.pem" 2>/dev/null
cp "$P/conf/ssl/mail.example.com.pem" "$P/conf/ssl/exchange-ca.pem"
cp /etc/nginx/mime.types "$P/conf/mime.types"

cat > "$P/conf/outlook_remote.txt" <<'LIST'
# the members of "Outlook Remote"
alice
EXAMPLE\carol
dave@example.com
LIST

cat > "$P/conf/backend.conf" <<CONF
# A stand-in for Exchange: 401 without credentials, else it echoes what
# reached it.
server {
    listen 127.0.0.1:$BACKEND ssl;
    ssl_certificate $P/conf/ssl/mail.example.com.pem;
    ssl_certificate_key $P/conf/ssl/mail.example.com.key;
    access_log off;

    location / {
        if (\$http_authorization = "") {
            add_header WWW-Authenticate 'Basic realm="exchange"' always;
            return 401 "exchange: 401, credentials please\n";
        }

        return 200 "exchange: \$request_method \$request_uri reached the backend\n";
    }
}
CONF

perl util/localize.pl "$P" "$SO" "$HTTPS" "$HTTP" "$BACKEND" \
    < example-nginx.conf > "$P/conf/nginx.conf"

nginx -p "$P" -c "$P/conf/nginx.conf" -t -q
nginx -p "$P" -c "$P/conf/nginx.conf"

for i in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$HTTP/" && break
    sleep 0.1
done

c="curl -s --cacert $P/conf/ssl/exchange-ca.pem --resolve mail.example.com:$HTTPS:127.0.0.1"
u="https://mail.example.com:$HTTPS/mapi/emsmdb/"

show() {
    echo
    echo "\$ $*"
    eval "$* -w '=> HTTP %{http_code}\n'" || true
}

cat <<TEXT

nginx is running from $P with example-nginx.conf (on 127.0.0.1:$HTTPS),
in front of a stand-in Exchange on 127.0.0.1:$BACKEND.
Allowed for external Outlook: alice, carol, dave@example.com
(see $P/conf/outlook_remote.txt); bob is not on the list.
127.0.0.1 is outside, 127.0.0.2 inside the network.
TEXT

show "$c -u 'EXAMPLE\\alice:Passw0rd!' -X POST $u"
show "$c -u 'EXAMPLE\\bob:Passw0rd!' -X POST $u"
show "$c --interface 127.0.0.2 -u 'EXAMPLE\\bob:Passw0rd!' -X POST $u"
show "$c -u 'EXAMPLE\\bob:Passw0rd!' https://mail.example.com:$HTTPS/owa/"

cat <<TEXT

A member gets through, a non-member gets 403 on /mapi/, an internal
client and other protocols get through.  What was decided, and why (the
access log, the error log at info level, the status page):

  tail $P/logs/exchange.log
  grep 'exchange access' $P/logs/error.log
  $c https://mail.example.com:$HTTPS/exchange-access-status

Edit $P/conf/outlook_remote.txt: the list is read again within a minute,
or at once with a reload:
  kill -HUP \$(cat $P/logs/nginx.pid)
Stop the demo:
  kill -QUIT \$(cat $P/logs/nginx.pid)
TEXT
