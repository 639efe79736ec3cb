#!/bin/bash
# Installs, with apt-get, what building, the demo and the tests need, on
# Debian 12 (bookworm) or a derivative, as root.  Packages that are already
# there are left alone.  Daemons that the packages would start (nginx on
# port 80, slapd on 389) are not needed: they are kept from starting while
# packages are installed, and the tests never use their ports.
#
# For "test" it also fetches Debian's nginx source package into
# build/debian-src (util/nginx-source.sh), which the sanitizer build needs.
#
# usage: util/deps.sh [build|demo|test|fresh]
#   fresh: what util/fresh-check.sh needs (mmdebstrap)

set -euo pipefail

what=${1:-test}

pkgs="nginx nginx-dev libldap-dev gcc make curl ca-certificates openssl perl"

case "$what" in
    build|demo) ;;
    test)
        pkgs="$pkgs slapd ldap-utils libauthen-ntlm-perl libnet-ldap-perl
              libnet-ldap-server-perl gss-ntlmssp samba samba-dsdb-modules
              samba-vfs-modules samba-ad-provision ldb-tools
              apache2 apache2-bin libapache2-mod-auth-gssapi python3-impacket
              iproute2 nghttp2-client bc strace
              clang libclang-rt-14-dev llvm-14 valgrind
              dpkg-dev debhelper build-essential" ;;
    fresh) pkgs="mmdebstrap" ;;
    *) echo "usage: $0 [build|demo|test|fresh]" >&2; exit 2 ;;
esac

missing=
for p in $pkgs; do
    if ! dpkg-query -W -f '${Status}' "$p" 2>/dev/null \
         | grep -q 'install ok installed'
    then
        missing="$missing $p"
    fi
done

fetch_source() {
    if [ "$what" = test ]; then
        bash "$(dirname "$0")/nginx-source.sh"
    fi
}

if [ -z "$missing" ]; then
    fetch_source
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "$0: these packages are missing:$missing" >&2
    echo "$0: run as root to install them with apt-get" >&2
    exit 1
fi

# keep packaged daemons from starting during the installation
policy=/usr/sbin/policy-rc.d
own_policy=no
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    own_policy=yes
fi

trap '[ $own_policy = yes ] && rm -f "$policy"' EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -q --no-install-recommends $missing

fetch_source
