#!/bin/bash
# Checks the README's promise on a truly fresh Debian 12: builds a minimal
# bookworm system with mmdebstrap (variant minbase: the essential packages
# and apt, nothing else) from this machine's apt sources, copies the
# repository's HEAD into it (git archive), and runs the README's two
# commands there as root, in a chroot with /proc, /sys, /dev and /dev/pts
# mounted:
#
#   bash util/demo.sh     the demo; its four answers must be 200 403 200 200
#   bash util/test.sh     the whole suite, plain and sanitized
#
# Each command runs in a network namespace of its own with only loopback,
# so that its servers never meet anything else on this machine.  Loopback
# has no way out, so what the command would fetch first is fetched just
# before it, with the system's network, by the same script the command
# calls (util/deps.sh demo, util/deps.sh test): the install lists are
# checked against the fresh system all the same.  Afterwards every process
# left in the chroot is ended, everything is unmounted and the namespace
# removed, also when a step fails; the system is deleted unless
# FRESH_KEEP=1.  Not part of CI (it takes about an hour).  Root only.
#
# usage: util/fresh-check.sh
# environment: FRESH_DIR (/tmp/exa-fresh), FRESH_KEEP (0), FRESH_SUITE
#              (bookworm)

set -euo pipefail

cd "$(dirname "$0")/.."
repo=$PWD

D=$(realpath -m "${FRESH_DIR:-/tmp/exa-fresh}")
SUITE=${FRESH_SUITE:-bookworm}
NS=exa-fresh-$$
LOG=$D.log
SRC=/root/exchange-access

if [ "$(id -u)" != 0 ]; then
    echo "$0: run as root (mmdebstrap, chroot, mounts)" >&2
    exit 1
fi

bash util/deps.sh fresh

say() { printf '%s fresh-check: %s\n' "$(date +%T)" "$*" | tee -a "$LOG"; }

mounted() { grep -q " $1 " /proc/mounts; }

# the processes whose root is the fresh system (servers a step left)
chroot_pids() {
    local p r
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        [ "$r" = "$D" ] && echo "${p#/proc/}"
    done
    return 0
}

stop_processes() {
    local pids i
    pids=$(chroot_pids)
    [ -z "$pids" ] && return 0
    say "ending processes left in the fresh system: $(echo $pids)"
    kill $pids 2>/dev/null || true
    for i in $(seq 50); do
        pids=$(chroot_pids)
        [ -z "$pids" ] && return 0
        sleep 0.1
    done
    kill -KILL $pids 2>/dev/null || true
    sleep 0.5
}

unmount_all() {
    local m
    for m in "$D/dev/pts" "$D/dev" "$D/sys" "$D/proc"; do
        if mounted "$m"; then
            umount "$m" 2>/dev/null || umount -l "$m"
        fi
    done
}

cleanup() {
    local rc=$?
    set +e
    stop_processes
    unmount_all
    ip netns del "$NS" 2>/dev/null
    if grep -q " $D/" /proc/mounts; then
        say "still mounted under $D, not deleting it:"
        grep " $D/" /proc/mounts | tee -a "$LOG"
    elif [ "${FRESH_KEEP:-0}" != 1 ]; then
        rm -rf "$D"
    fi
    exit $rc
}

# a fresh start: nothing may still be mounted in an old system
for m in "$D/dev/pts" "$D/dev" "$D/sys" "$D/proc"; do
    if mounted "$m"; then
        umount "$m" 2>/dev/null || umount -l "$m"
    fi
done
if grep -q " $D/" /proc/mounts; then
    echo "$0: something is still mounted under $D" >&2
    exit 1
fi
rm -rf "$D"
: > "$LOG"

trap cleanup EXIT
trap 'exit 130' INT TERM

sources=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
         /etc/apt/sources.list.d/*.sources
do
    [ -s "$f" ] && sources+=("$f")
done

say "building a minimal $SUITE system in $D from ${sources[*]}"
t0=$(date +%s)
mmdebstrap --variant=minbase --mode=root "$SUITE" "$D" "${sources[@]}" \
    >> "$LOG" 2>&1 || { say "mmdebstrap failed, see $LOG"; exit 1; }
say "$(chroot "$D" dpkg-query -W -f '.\n' | wc -l) packages installed," \
    "Debian $(cat "$D/etc/debian_version"), $(( $(date +%s) - t0 )) s"

# what an installed machine has and a bare chroot lacks: name resolution
cp -L /etc/resolv.conf "$D/etc/resolv.conf"
if [ ! -s "$D/etc/hosts" ]; then
    printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
        > "$D/etc/hosts"
fi

mkdir -p "$D$SRC"
git -C "$repo" archive --format=tar HEAD | tar -x -C "$D$SRC"
say "copied HEAD $(git -C "$repo" rev-parse --short HEAD) into $SRC" \
    "(git archive: no .git, no build products)"

mount -t proc proc "$D/proc"
mount -t sysfs sysfs "$D/sys"
mount --bind /dev "$D/dev"
mount --bind /dev/pts "$D/dev/pts"

ip netns add "$NS"
ip -n "$NS" link set lo up

# runs a command as root in the fresh system, with a clean environment;
# "net" uses this machine's network, "lo" the namespace with loopback only
in_fresh() {
    local where=$1
    shift
    local cmd=(chroot "$D" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8
               PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
               /bin/bash -c "cd $SRC && $*")
    if [ "$where" = lo ]; then
        ip netns exec "$NS" "${cmd[@]}"
    else
        "${cmd[@]}"
    fi
}

step() {
    local name=$1 where=$2 t rc
    shift 2
    say "$name: $* ($([ "$where" = lo ] && echo 'own network namespace, loopback only' || echo "this machine's network"))"
    t=$(date +%s)
    set +e
    in_fresh "$where" "$@" > "$D.$name.log" 2>&1
    rc=$?
    set -e
    cat "$D.$name.log" >> "$LOG"
    say "$name: exit $rc after $(( $(date +%s) - t )) s (output: $D.$name.log)"
    return $rc
}

result=0

if step deps-demo net bash util/deps.sh demo; then
    if step demo lo bash util/demo.sh; then
        codes=$(sed -n 's/^=> HTTP //p' "$D.demo.log" | tr '\n' ' ')
        if [ "$codes" = "200 403 200 200 " ]; then
            say "demo: the answers are $codes(member, non-member, internal, OWA): as the README says"
        else
            say "demo: the answers are '$codes', not '200 403 200 200 '"
            result=1
        fi
        in_fresh lo 'kill -QUIT $(cat /tmp/exchange-access-demo/logs/nginx.pid)' \
            2>/dev/null || true
        sleep 1
    else
        result=1
        tail -20 "$D.demo.log"
    fi
else
    result=1
    tail -20 "$D.deps-demo.log"
fi

stop_processes

if step deps-test net bash util/deps.sh test; then
    if step test lo bash util/test.sh; then
        :
    else
        result=1
    fi
    grep -E '^(Files=|Result:|Failed |t/.*(ok|Dubious|Failed))|^== ' \
        "$D.test.log" | tee -a "$LOG" || true
else
    result=1
    tail -20 "$D.deps-test.log"
fi

if [ $result = 0 ]; then
    say "PASS: both README commands work on a fresh $SUITE system"
else
    say "FAIL: see $LOG and $D.*.log"
fi

exit $result
