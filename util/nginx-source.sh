#!/bin/bash
# Fetches Debian's full nginx source (the source package, with Debian's
# patches applied) into build/debian-src/src, for the sanitizer build
# (make asan).  nginx-dev ships only the headers; this takes the source
# package of the installed nginx version (or, if the archive no longer
# has it, the newest one it has) through apt, which checks it against the
# signed archive index.  The system's apt configuration is not changed:
# a private list of deb-src entries, made from the system's deb entries,
# and private index and cache folders live under build/debian-src/apt.
#
# usage: util/nginx-source.sh        (does nothing if the source is there)

set -euo pipefail

cd "$(dirname "$0")/.."

d=$PWD/build/debian-src

if [ -f "$d/src/src/core/nginx.c" ]; then
    exit 0
fi

rm -rf "$d"
mkdir -p "$d/apt/parts" "$d/apt/lists/partial" \
         "$d/apt/cache/archives/partial"

# the system's deb entries, as deb-src entries
: > "$d/apt/sources.list"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" \
        >> "$d/apt/sources.list"
done
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    sed 's/^Types:.*/Types: deb-src/' "$f" > "$d/apt/parts/${f##*/}"
done

apt_opts=(-q -o "Dir::Etc::SourceList=$d/apt/sources.list"
          -o "Dir::Etc::SourceParts=$d/apt/parts"
          -o "Dir::State::Lists=$d/apt/lists"
          -o "Dir::Cache=$d/apt/cache"
          -o "Debug::NoLocking=1"
          -o "APT::Sandbox::User=root")

apt-get "${apt_opts[@]}" update > "$d/apt-update.log" 2>&1 || {
    cat "$d/apt-update.log" >&2
    echo "$0: apt-get update of the deb-src entries failed" >&2
    exit 1
}

installed=$(dpkg-query -W -f '${Version}' nginx 2>/dev/null || true)
versions=$(apt-cache "${apt_opts[@]}" showsrc nginx \
           | sed -n 's/^Version: //p' | sort -u -r -V)

cd "$d"

for v in $installed $versions; do
    if apt-get "${apt_opts[@]}" source --download-only "nginx=$v" \
           > fetch.log 2>&1
    then
        dpkg-source -x "nginx_$v.dsc" src > extract.log 2>&1 || {
            cat extract.log >&2
            exit 1
        }
        echo "$v" > version
        echo "Debian's nginx source $v (installed: ${installed:-none})" \
             "in build/debian-src/src"
        exit 0
    fi
    rm -f nginx_*
done

cat fetch.log >&2
echo "$0: no nginx source package could be fetched" >&2
exit 1
