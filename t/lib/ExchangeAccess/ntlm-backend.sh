#!/bin/bash
# Real NTLM backend (IIS/Exchange style, connection-bound) for testing an NTLM-pinning reverse proxy.
# Apache httpd (mpm_event) + mod_auth_gssapi + gss-ntlmssp: real NTLMv2/NTLM verification, not a stub.
# Usage: ntlm-backend.sh start DIR PORT [--tls] [USER...]    (prints pid and URL; ~0.1 s, ~1 s with --tls)
#        ntlm-backend.sh stop DIR | status DIR
#        ntlm-backend.sh selftest DIR    (checks 1-6 of the README against the running instance)
#   USER   [DOMAIN\]name[:password]   default domain $NTLM_DOMAIN (EXAMPLE), default password Passw0rd!
#          (no USER: EXAMPLE\alice EXAMPLE\bob EXAMPLE\carol, all Passw0rd!; a password must not contain ':')
#   --tls  HTTPS with a throwaway self-signed cert in DIR/tls/cert.pem (CN=127.0.0.1, SAN IP:127.0.0.1,DNS:localhost)
# Every path answers via a CGI: "user=EXAMPLE\alice port=<client TCP port> method=GET uri=/x mech=NTLM/... body=0".
# Response headers on every reply (401s too): X-Backend-Peer: <ip>:<port of the TCP connection>, X-Backend-User.
# Env: NTLM_BIND (127.0.0.1) NTLM_DOMAIN (EXAMPLE) NTLM_COMPUTER (EXCH01) KEEPALIVE_TIMEOUT (120 s)
#      MAX_KEEPALIVE_REQUESTS (0 = unlimited) NTLM_DEBUG=1 (gss-ntlmssp trace in DIR/logs/gssntlm.log)
# Logs: DIR/logs/error.log (auth_gssapi:debug), DIR/logs/access.log (peer port, user, %k = keep-alive request no.)
set -euo pipefail

die() { echo "ntlm-backend: $*" >&2; exit 1; }
usage() { sed -n '2,14p' "$0" >&2; exit 2; }

APACHE=/usr/sbin/apache2
MODS=/usr/lib/apache2/modules

need() {  # need FILE PACKAGE
  [ -e "$1" ] || die "missing $1 - install it: apt-get install -y $2"
}

check_packages() {
  need "$APACHE" apache2
  need "$MODS/mod_mpm_event.so" apache2-bin
  need "$MODS/mod_cgid.so" apache2-bin
  need "$MODS/mod_lua.so" apache2-bin
  need "$MODS/mod_auth_gssapi.so" libapache2-mod-auth-gssapi
  compgen -G '/usr/lib/*/gssntlmssp/gssntlmssp.so' >/dev/null ||
    die "missing gssntlmssp.so - install it: apt-get install -y gss-ntlmssp"
  grep -rqs 'gssntlmssp' /etc/gss/mech /etc/gss/mech.d/ ||
    die "gss-ntlmssp is not registered in /etc/gss/mech.d/ - reinstall: apt-get install --reinstall -y gss-ntlmssp"
  if [ "$TLS" = 1 ]; then
    need "$MODS/mod_ssl.so" apache2-bin
    command -v openssl >/dev/null || die "missing openssl - install it: apt-get install -y openssl"
  fi
}

pid_of() { [ -f "$1/run/httpd.pid" ] && cat "$1/run/httpd.pid" 2>/dev/null || true; }
alive() { kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]; }  # a zombie counts as gone
running() { local p; p=$(pid_of "$1"); [ -n "$p" ] && alive "$p"; }

write_users() {  # write_users FILE USER...
  local f=$1 u dom name pw; shift
  : > "$f"
  [ $# -gt 0 ] || set -- alice bob carol
  for u in "$@"; do
    pw=Passw0rd!
    case "$u" in *:*) pw=${u#*:}; u=${u%%:*} ;; esac
    case "$pw" in *:*) die "password for $u contains ':' (gss-ntlmssp cannot read it)" ;; esac
    dom=$DOMAIN; name=$u
    case "$u" in *\\*) dom=${u%%\\*}; name=${u#*\\} ;; esac
    [ -n "$name" ] && [ -n "$pw" ] || die "bad user spec: $u"
    printf '%s:%s:%s\n' "$dom" "$name" "$pw" >> "$f"
  done
}

write_lua() {
  cat > "$1" <<'LUA'
-- Runs before mod_auth_gssapi (translate_name, early). Classifies the Authorization header into
-- AUTH_STEP for the logs, and re-lays out raw NTLMSSP messages that gss-ntlmssp 1.2.0 cannot parse.
-- It only moves bytes (no crypto, no secrets): the NTLMv2 proof is still verified by gss-ntlmssp.
--  * NEGOTIATE (Type 1) shorter than 40 bytes (curl sends 32, without the Version field):
--    gss-ntlmssp requires sizeof(wire_neg_msg) = 40 -> append zero bytes.
--  * AUTHENTICATE (Type 3) whose flags echo NEGOTIATE_VERSION but whose payload starts at 64
--    (curl omits the Version field): gss-ntlmssp expects the payload at >= 72 -> insert 8 zero
--    bytes at 64 and shift the field offsets.
local B = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
local D = {}
for i = 1, 64 do D[B:byte(i)] = i - 1 end

local function dec(s)
  local out, bits, n = {}, 0, 0
  for i = 1, #s do
    local v = D[s:byte(i)]
    if v then
      bits = (bits << 6) | v; n = n + 6
      if n >= 8 then n = n - 8; out[#out + 1] = string.char((bits >> n) & 0xff); bits = bits & ((1 << n) - 1) end
    end
  end
  return table.concat(out)
end

local function enc(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local v = (a << 16) | ((b or 0) << 8) | (c or 0)
    local function ch(k) return B:sub(k + 1, k + 1) end
    out[#out + 1] = ch(v >> 18) .. ch((v >> 12) & 63) .. (b and ch((v >> 6) & 63) or '=') .. (c and ch(v & 63) or '=')
  end
  return table.concat(out)
end

local function fix(m)
  local typ = string.unpack('<I4', m, 9)
  if typ == 1 and #m < 40 then
    return m .. string.rep('\0', 40 - #m), 'type1-padded'
  elseif typ == 3 and #m >= 64 then
    local flags, minoff = string.unpack('<I4', m, 61), nil
    for i = 0, 5 do
      local len, _, off = string.unpack('<I2I2I4', m, 13 + 8 * i)
      if len > 0 and (minoff == nil or off < minoff) then minoff = off end
    end
    if (flags & 0x02000000) ~= 0 and minoff == 64 then
      local h = { m:sub(1, 12) }
      for i = 0, 5 do
        local len, max, off = string.unpack('<I2I2I4', m, 13 + 8 * i)
        if off >= 64 then off = off + 8 end
        h[#h + 1] = string.pack('<I2I2I4', len, max, off)
      end
      return table.concat(h) .. m:sub(61, 64) .. string.rep('\0', 8) .. m:sub(65), 'type3-version-inserted'
    end
  end
  return nil
end

function ntlm_compat(r)
  local h = r.headers_in['Authorization']
  local step = 'none'
  if h then
    local scheme, tok = h:match('^%s*(%a+)%s*(%S*)')
    scheme = scheme or '?'
    step = scheme
    if (scheme:lower() == 'ntlm' or scheme:lower() == 'negotiate') and tok ~= '' then
      local m = dec(tok)
      if #m >= 12 and m:sub(1, 8) == 'NTLMSSP\0' then
        step = scheme .. '-type' .. string.unpack('<I4', m, 9)
        local fixed, what = fix(m)
        if fixed then
          r.headers_in['Authorization'] = scheme .. ' ' .. enc(fixed)
          r.subprocess_env['NTLM_COMPAT'] = what
        end
      elseif m:byte(1) == 0x60 then step = scheme .. '-spnego-init'
      elseif m:byte(1) == 0xa1 then step = scheme .. '-spnego-resp'
      end
    end
  end
  r.subprocess_env['AUTH_STEP'] = step
  return apache2.DECLINED
end
LUA
}

write_cgi() {
  cat > "$1" <<'CGI'
#!/bin/sh
n=0
if [ "${CONTENT_LENGTH:-0}" -gt 0 ] 2>/dev/null; then n=$(head -c "$CONTENT_LENGTH" | wc -c); fi
printf 'Content-Type: text/plain\r\n\r\n'
printf 'user=%s port=%s method=%s uri=%s mech=%s body=%s\n' "$REMOTE_USER" "$REMOTE_PORT" "$REQUEST_METHOD" "$REQUEST_URI" "$GSS_MECH" "$n"
# a long-lived answer, like an RPC_OUT_DATA channel: "stream=N" in the query
# string writes one line a second for N seconds (at most 3600)
s=$(printf '%s' "$QUERY_STRING" | sed -n 's/.*stream=\([0-9][0-9]*\).*/\1/p')
if [ -n "$s" ]; then
  [ "$s" -gt 3600 ] && s=3600
  i=1
  while [ "$i" -le "$s" ]; do printf 'tick %s user=%s\n' "$i" "$REMOTE_USER"; sleep 1; i=$((i + 1)); done
fi
CGI
  chmod 755 "$1"
}

write_conf() {
  local d=$1 port=$2 scheme=http listen="$BIND:$2"
  local userline="" sslconf=""
  if [ "$(id -u)" = 0 ]; then userline="User www-data
Group www-data"; fi
  if [ "$TLS" = 1 ]; then
    scheme=https
    sslconf="LoadModule ssl_module $MODS/mod_ssl.so
LoadModule socache_shmcb_module $MODS/mod_socache_shmcb.so
SSLSessionCache shmcb:$d/run/ssl_scache(512000)
SSLEngine on
SSLCertificateFile $d/tls/cert.pem
SSLCertificateKeyFile $d/tls/key.pem"
  fi
  cat > "$d/httpd.conf" <<EOF
# generated by ntlm-backend.sh
ServerRoot /usr/lib/apache2
DefaultRuntimeDir $d/run
PidFile $d/run/httpd.pid
ErrorLog $d/logs/error.log
LogLevel notice auth_gssapi:debug
Listen $listen
ServerName $BIND
$userline
LoadModule mpm_event_module $MODS/mod_mpm_event.so
LoadModule authn_core_module $MODS/mod_authn_core.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule authz_user_module $MODS/mod_authz_user.so
LoadModule auth_gssapi_module $MODS/mod_auth_gssapi.so
LoadModule cgid_module $MODS/mod_cgid.so
LoadModule alias_module $MODS/mod_alias.so
LoadModule headers_module $MODS/mod_headers.so
LoadModule lua_module $MODS/mod_lua.so
$sslconf
ScriptSock $d/run/cgid.sock
DocumentRoot $d/cgi
LogFormat "%a:%{remote}p %k \"%u\" \"%r\" %>s step=%{AUTH_STEP}e compat=%{NTLM_COMPAT}e" ntlm
CustomLog $d/logs/access.log ntlm
# IIS keeps idle connections 120 s and has no per-connection request limit
KeepAlive On
KeepAliveTimeout $KA_TIMEOUT
MaxKeepAliveRequests $KA_MAX
Timeout 60
# threads enough that mpm_event never closes idle keep-alive connections to
# make room for requests (it does when all its workers are busy): IIS keeps
# an idle authenticated connection whatever the load
StartServers 2
ServerLimit 2
ThreadLimit 128
ThreadsPerChild 128
MaxRequestWorkers 256
MinSpareThreads 64
MaxSpareThreads 256
LuaHookTranslateName $d/ntlm_compat.lua ntlm_compat early
ScriptAliasMatch ^/ $d/cgi/who
Header always set X-Backend-Peer "expr=%{REMOTE_ADDR}:%{REMOTE_PORT}"
Header always set X-Backend-User "expr=%{REMOTE_USER}"
<Location />
  AuthType GSSAPI
  AuthName "NTLM backend"
  GssapiAllowedMech ntlmssp
  GssapiConnectionBound On
  GssapiSignalPersistentAuth On
  GssapiPublishMech On
  GssapiBasicAuth Off
  Require valid-user
</Location>
EOF
  echo "$scheme://$BIND:$port/"
}

do_start() {
  local d=$1 port=$2; shift 2
  [[ "$port" =~ ^[0-9]+$ ]] || die "PORT must be a number: $port"
  check_packages
  mkdir -p "$d"
  d=$(cd "$d" && pwd)
  if running "$d"; then echo "already running pid $(pid_of "$d") $(cat "$d/url")"; return 0; fi
  (( ${#d} < 80 )) || die "DIR path too long for the cgid unix socket (${#d} chars, keep it under 80): $d"
  rm -rf "$d/run" "$d/logs" "$d/cgi"
  mkdir -p "$d/run" "$d/logs" "$d/cgi"
  write_users "$d/users" "$@"
  write_lua "$d/ntlm_compat.lua"
  write_cgi "$d/cgi/who"
  if [ "$TLS" = 1 ]; then
    mkdir -p "$d/tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$BIND" \
      -addext "subjectAltName=IP:$BIND,DNS:localhost" \
      -keyout "$d/tls/key.pem" -out "$d/tls/cert.pem" 2>/dev/null
    chmod 600 "$d/tls/key.pem"
  fi
  local url; url=$(write_conf "$d" "$port")
  echo "$url" > "$d/url"
  chmod 755 "$d" "$d/cgi"
  chmod 644 "$d/users" "$d/ntlm_compat.lua" "$d/httpd.conf"
  if [ "$(id -u)" = 0 ]; then
    # workers run as www-data: they must reach the users file, the Lua hook and the CGI
    chown www-data "$d/run" "$d/logs"
    setpriv --reuid=www-data --regid=www-data --clear-groups \
      sh -c 'test -r "$1/users" && test -r "$1/ntlm_compat.lua" && test -x "$1/cgi/who"' sh "$d" ||
      die "www-data cannot read $d (a parent directory is not world-searchable?); use a DIR under /tmp"
  fi
  local debugenv=()
  if [ "${NTLM_DEBUG:-0}" = 1 ]; then
    : > "$d/logs/gssntlm.log"; chmod 666 "$d/logs/gssntlm.log"
    debugenv=(GSSNTLMSSP_DEBUG="$d/logs/gssntlm.log")
  fi
  # clean environment: the caller's NTLM_USER_FILE/KRB5_* must not leak into the acceptor
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C \
    NTLM_USER_FILE="$d/users" NETBIOS_COMPUTER_NAME="$COMPUTER" NETBIOS_DOMAIN_NAME="$DOMAIN" \
    "${debugenv[@]}" "$APACHE" -f "$d/httpd.conf" -k start ||
    die "apache2 failed to start; see $d/logs/error.log"
  local i
  for i in $(seq 100); do
    if running "$d" && (exec 3<>"/dev/tcp/$BIND/$port") 2>/dev/null; then
      echo "ntlm-backend pid $(pid_of "$d") on $url (users: $(cut -d: -f1,2 "$d/users" | tr ':' '\\' | paste -sd " "))"
      return 0
    fi
    sleep 0.1
  done
  tail -5 "$d/logs/error.log" >&2 || true
  die "apache2 did not come up on $BIND:$port"
}

do_stop() {
  local d=$1 pid
  pid=$(pid_of "$d")
  [ -n "$pid" ] || { echo "not running ($d)"; return 0; }
  kill "$pid" 2>/dev/null || true
  for i in $(seq 100); do alive "$pid" || break; sleep 0.1; done
  alive "$pid" && die "pid $pid did not exit"
  rm -f "$d/run/httpd.pid"
  echo "ntlm-backend $pid stopped"
}

do_selftest() {  # the README checks against a running instance; exit status = number of failures
  local d=$1 url dom user pw cred who lwho out port fails=0 i c
  set +e
  running "$d" || die "not running ($d)"
  command -v curl >/dev/null || die "selftest needs curl: apt-get install -y curl"
  url=$(cat "$d/url"); url=${url%/}
  IFS=: read -r dom user pw < "$d/users"
  cred="$dom\\$user:$pw"; who="$dom\\$user"; lwho=${who//\\/\\\\}  # access.log escapes the backslash
  c=(-s --max-time 10); [ -f "$d/tls/cert.pem" ] && c+=(--cacert "$d/tls/cert.pem")
  has() { grep -qF -- "$1" <<<"$out"; }
  res() { if [ "$2" = 0 ]; then echo "check $1: PASS"; else echo "check $1: FAIL"; fails=$((fails + 1)); fi; }

  out=$(curl "${c[@]}" -w 'code=%{http_code}\n' --ntlm -u "$cred" "$url/mapi/emsmdb/"); echo "$out"
  has "user=$who port=" && has "uri=/mapi/emsmdb/ " && has code=200; res "1 (NTLM -> 200 as $who)" $?

  out=$(curl "${c[@]}" -o /dev/null -w 'code=%{http_code}\n' --ntlm -u "$who:wrong-$pw" "$url/mapi/emsmdb/"); echo "$out"
  has code=401; res "2 (wrong password -> 401)" $?

  out=$(curl "${c[@]}" -w 'code=%{http_code} local_port=%{local_port}\n' --ntlm -u "$cred" "$url/a" \
        --next "${c[@]}" -w 'code=%{http_code} local_port=%{local_port}\n' --ntlm -u "$cred" "$url/b"); echo "$out"
  port=$(sed -n 's/^code=200 local_port=\([0-9]*\)$/\1/p' <<<"$out" | sort -u | tr '\n' ' ')
  port=${port% }
  for i in $(seq 40); do grep -qF ":$port 2 \"$lwho\" \"GET /b HTTP/1.1\" 200 step=none" "$d/logs/access.log" 2>/dev/null && break; sleep 0.05; done
  grep -F ":$port " "$d/logs/access.log" | tail -3
  [[ "$port" =~ ^[0-9]+$ ]] && has "user=$who port=$port method=GET uri=/b " &&
    grep -qF ":$port 2 \"$lwho\" \"GET /b HTTP/1.1\" 200 step=none" "$d/logs/access.log"
  res "3 (2nd request, same connection, no Authorization header, served as $who)" $?

  if /usr/bin/python3 -c 'import impacket' 2>/dev/null && [ -f "$HERE/ntlm_replay_check.py" ]; then
    /usr/bin/python3 "$HERE/ntlm_replay_check.py" "$url/mapi/emsmdb/" "$who" "$pw"
    res "4 (Type 3 replayed on a new connection -> 401)" $?
  else
    echo "check 4: SKIP (needs /usr/bin/python3 with python3-impacket, and $HERE/ntlm_replay_check.py)"
  fi

  printf '%s:%s:%s\n' "$dom" "$user" "$pw" > "$d/run/client.users"
  out=$(NTLM_USER_FILE="$d/run/client.users" curl "${c[@]}" -w 'code=%{http_code}\n' --negotiate -u "$cred" "$url/owa/"); echo "$out"
  has "user=$who port=" && has "mech=Negotiate/" && has code=200; res "5 (Negotiate: SPNEGO-wrapped NTLM -> 200)" $?

  out=$(curl "${c[@]}" -w 'code=%{http_code}\n' --ntlm -u "$cred" -X RPC_IN_DATA -H 'Content-Length: 0' "$url/rpc/rpcproxy.dll?exch:6001"); echo "$out"
  has "method=RPC_IN_DATA uri=/rpc/rpcproxy.dll?exch:6001 " && has code=200; res "6 (RPC_IN_DATA -> 200)" $?

  echo "selftest: $fails failed"
  return "$fails"
}

HERE=$(cd "$(dirname "$0")" && pwd)
TLS=0
BIND=${NTLM_BIND:-127.0.0.1}
DOMAIN=${NTLM_DOMAIN:-EXAMPLE}
COMPUTER=${NTLM_COMPUTER:-EXCH01}
KA_TIMEOUT=${KEEPALIVE_TIMEOUT:-120}
KA_MAX=${MAX_KEEPALIVE_REQUESTS:-0}
cmd=${1:-}; [ $# -gt 0 ] && shift
args=()
for a in "$@"; do
  if [ "$a" = --tls ]; then TLS=1; else args+=("$a"); fi
done
set -- "${args[@]}"
case "$cmd" in
  start) [ $# -ge 2 ] || usage; do_start "$@" ;;
  stop) [ $# -eq 1 ] || usage; do_stop "$1" ;;
  status) [ $# -eq 1 ] || usage
          if running "$1"; then echo "running pid $(pid_of "$1") $(cat "$1/url")"; else echo stopped; exit 1; fi ;;
  selftest) [ $# -eq 1 ] || usage; do_selftest "$1" ;;
  *) usage ;;
esac
