#!/bin/bash
# Builds the module against the installed nginx with warnings as errors,
# then runs the whole suite: the unit tests and short fuzz runs of the pure
# parsers, and every Test::Nginx suite under t/ against the real nginx.
# On a fresh Debian 12 machine, as root, it first installs what it needs.
#
# usage: util/test.sh [prove arguments, e.g. t/001-sanity.t]
# environment: TEST_NGINX_USE_VALGRIND=1, TEST_NGINX_USE_HUP=1 (see t/README)

set -euo pipefail

cd "$(dirname "$0")/.."

bash util/deps.sh test

make module

if [ $# -eq 0 ]; then
    make unit
    set -- -r t
fi

export TEST_NGINX_LOAD_MODULES="$PWD/build/nginx/objs/ngx_http_exchange_access_module.so"
export TEST_NGINX_BINARY=${TEST_NGINX_BINARY:-/usr/sbin/nginx}

prove "$@"
