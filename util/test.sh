#!/bin/bash
# Builds the module against the installed nginx with warnings as errors,
# then runs the whole suite: the unit tests and short fuzz runs of the pure
# parsers, and every Test::Nginx suite under t/ against the real nginx.
# Then it builds nginx and the module again with AddressSanitizer and
# UndefinedBehaviorSanitizer (make asan) and runs every suite that starts
# nginx once more against that build, failing on any sanitizer report.
# On a fresh Debian 12 machine, as root, it first installs what it needs.
#
# usage: util/test.sh [prove arguments, e.g. t/001-sanity.t]
#   With file arguments only those files run, once, against Debian's nginx
#   (or against the sanitizer build with TEST_NGINX_USE_ASAN=1).
# environment:
#   TEST_NGINX_USE_ASAN  unset: both passes (without file arguments);
#                        1: the sanitizer pass only; 0: the plain pass only
#   TEST_NGINX_USE_VALGRIND=1, TEST_NGINX_USE_HUP=1 (see t/README.md)
#   TEST_NGINX_SCRATCH   where the suites keep their servers' files (t/;
#                        /tmp/exchange-access-tests when the workers could
#                        not reach t/)

set -euo pipefail

cd "$(dirname "$0")/.."

bash util/deps.sh test

make module

asan=${TEST_NGINX_USE_ASAN:-}
unset TEST_NGINX_USE_ASAN

# Run as root, nginx's workers are nobody (and the NTLM backend's www-data):
# the folders where the suites keep their servers' files must be reachable
# for them, and a clone under /root (0700) is not.  Then the suites work in
# a folder of their own under /tmp instead of t/.
if [ "$(id -u)" = 0 ] && [ -z "${TEST_NGINX_SCRATCH:-}" ] \
   && ! runuser -u nobody -- test -x "$PWD/t" 2>/dev/null
then
    export TEST_NGINX_SCRATCH=/tmp/exchange-access-tests
    mkdir -p "$TEST_NGINX_SCRATCH"
    chmod 755 "$TEST_NGINX_SCRATCH"
    echo "$PWD is closed to nobody: the suites work in $TEST_NGINX_SCRATCH"
fi

plain() {
    TEST_NGINX_LOAD_MODULES="$PWD/build/nginx/objs/ngx_http_exchange_access_module.so" \
    TEST_NGINX_BINARY=${TEST_NGINX_BINARY:-/usr/sbin/nginx} \
        prove "$@"
}

sanitized() {
    local nginx=$PWD/build/asan/nginx/objs/nginx

    make -j2 asan

    # the symbolizer runs in the workers too: they must read the binary
    if [ -n "${TEST_NGINX_SCRATCH:-}" ]; then
        cp "$nginx" "$TEST_NGINX_SCRATCH/nginx-asan"
        nginx=$TEST_NGINX_SCRATCH/nginx-asan
    fi

    TEST_NGINX_USE_ASAN=1 \
    TEST_NGINX_LOAD_MODULES= \
    TEST_NGINX_BINARY="$nginx" \
        prove "$@"
}

if [ $# -gt 0 ]; then
    if [ "$asan" = 1 ]; then
        sanitized "$@"
    else
        plain "$@"
    fi
    exit
fi

# the suites that start nginx (the unit tests, the style check, the fuzz
# runs and the Debian package have their own checks or none to repeat)
nginx_suites=$(grep -l -E 'run_tests\(\)|TEST_NGINX_BINARY' t/*.t \
               | grep -v -e '/000-' -e '/003-' -e '/005-' -e '/012-')

# both passes run; the exit status says whether both passed
rc=0

if [ "$asan" != 1 ]; then
    make unit
    plain -r t || rc=1
fi

if [ "$asan" != 0 ]; then
    echo "== the same suites against nginx built with ASan and UBSan"
    sanitized $nginx_suites || rc=1
fi

exit $rc
