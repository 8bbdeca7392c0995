#!/usr/bin/env bash
# Fleet benchmark: tlsdoctor's `scan -i` against the batch modes of sslyze (`--targets_in`)
# and testssl.sh (`--file --parallel`), on the same local fleet: one nginx process listening
# on N endpoints spread over 127.0.0.2 … 127.0.0.(H+1) (TLS 1.2 + 1.3, ECDSA P-256, Mozilla
# intermediate suites).
#
# Two inventories, the same for every tool:
#   full       versions, suites per version, groups/curves, certificate
#              tlsdoctor scan (default checks);  sslyze --sslv2 … --tlsv1_3 --elliptic_curves
#              --certinfo;  testssl -p -E -f -S
#   inventory  versions and certificate
#              tlsdoctor scan --checks protocols,certificate;  sslyze --sslv2 … --tlsv1_3
#              --certinfo (sslyze learns versions only by enumerating suites);  testssl -p -S
# For each it prints wall time, targets per second and tlsdoctor's ratio to the tool, and the
# peak memory (Maximum resident set size from /usr/bin/time -v) of tlsdoctor's inventory
# with 100 and with 10,000 input targets (the 10,000 lines cycle over the fleet).
# testssl.sh takes tens of seconds per target, so it scans only the first --testssl-targets.
#
# Everything listens on loopback only; every process started here is stopped on exit.
#
# Usage: bench/fleet.sh [--targets N] [--hosts H] [--concurrency C] [--testssl-targets N]
#                       [--tools tlsdoctor,sslyze,testssl] [--no-memory] [--no-build] [--out DIR]
#   --no-build   use target/release/tlsdoctor as it is (no `cargo build --release` first)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

targets=200
hosts=40
concurrency=64
testssl_targets=5
tools=tlsdoctor,sslyze,testssl
memory=1
build=1
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --targets) targets=$2; shift 2 ;;
        --hosts) hosts=$2; shift 2 ;;
        --concurrency) concurrency=$2; shift 2 ;;
        --testssl-targets) testssl_targets=$2; shift 2 ;;
        --tools) tools=$2; shift 2 ;;
        --no-memory) memory=0; shift ;;
        --no-build) build=0; shift ;;
        --out) out=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "fleet.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
for n in "$targets" "$hosts" "$concurrency" "$testssl_targets"; do
    case "$n" in ''|*[!0-9]*|0) echo "fleet.sh: counts must be positive integers, got '$n'" >&2; exit 2 ;; esac
done
[ "$hosts" -le 250 ] || { echo "fleet.sh: at most 250 hosts (127.0.0.2-251)" >&2; exit 2; }
has_tool() { [[ ",$tools," == *",$1,"* ]]; }
log() { echo "bench: $*" >&2; }

# ---------------------------------------------------------------- tools --------------------
# As bench/run.sh: Debian packages when missing, sslyze from PyPI into a venv.
venv=${BENCH_VENV:-$root/target/bench-venv}
apt_updated=0
apt_install() {
    if [ $apt_updated = 0 ]; then apt-get update -qq >/dev/null; apt_updated=1; fi
    log "installing Debian package $1"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
}
for bin in nginx openssl python3; do command -v "$bin" >/dev/null || apt_install "$bin"; done
[ -x /usr/bin/time ] || apt_install time
has_tool testssl && { command -v testssl >/dev/null || apt_install testssl.sh; }
if has_tool sslyze && [ ! -x "$venv/bin/sslyze" ]; then
    log "installing sslyze from PyPI into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q sslyze
fi
tlsdoctor=$root/target/release/tlsdoctor
if [ $build = 1 ]; then
    log "cargo build --release (no-op when up to date)"
    (cd "$root" && nice -n 10 cargo build --release -q)
fi
[ -x "$tlsdoctor" ] || { echo "fleet.sh: no $tlsdoctor (run without --no-build)" >&2; exit 1; }

[ -n "$out" ] || out=$root/target/bench/fleet-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/tlsdoctor-fleet-bench.XXXXXX)
nginx_pid=""
cleanup() {
    if [ -n "$nginx_pid" ]; then
        kill -TERM "$nginx_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$nginx_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- the fleet ----------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$work/ecdsa.key" -out "$work/ecdsa.crt" 2>/dev/null
base=$(( 20000 + RANDOM % 20000 ))
per_host=$(( (targets + hosts - 1) / hosts ))
: > "$work/targets.txt"
listens=""
for i in $(seq 0 $((targets - 1))); do
    ep="127.0.0.$(( 2 + i % hosts )):$(( base + i / hosts ))"
    echo "$ep" >> "$work/targets.txt"
    listens+="        listen $ep ssl;"$'\n'
done
cat > "$work/nginx.conf" <<CONF
worker_processes 2;
error_log $work/error.log;
pid $work/nginx.pid;
events { worker_connections 8192; }
http {
    access_log off;
    server {
$listens
        ssl_certificate $work/ecdsa.crt;
        ssl_certificate_key $work/ecdsa.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ecdh_curve X25519:prime256v1:secp384r1;
        ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305;
        ssl_prefer_server_ciphers off;
        location / { return 200 "ok\n"; }
    }
}
CONF
nginx -c "$work/nginx.conf" -p "$work" -g 'daemon off;' >"$work/nginx.out" 2>&1 &
nginx_pid=$!
last=$(tail -1 "$work/targets.txt")
for _ in $(seq 100); do
    python3 -c "import socket,sys; h,p='$last'.rsplit(':',1); s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex((h,int(p))))" 2>/dev/null && break
    kill -0 "$nginx_pid" 2>/dev/null || { cat "$work/nginx.out" "$work/error.log" >&2; exit 1; }
    sleep 0.05
done
log "fleet: $targets endpoints on $hosts loopback addresses, ports from $base (one nginx)"
cp "$work/targets.txt" "$out/targets.txt"
head -n "$testssl_targets" "$work/targets.txt" > "$work/testssl-targets.txt"

# ---------------------------------------------------------------- runs ---------------------
# timed NAME CMD...: run CMD under /usr/bin/time -v; sets $secs and $rss_kib.
timed() {
    local name=$1; shift
    /usr/bin/time -v -o "$out/$name.time" "$@" >"$out/$name.stdout" 2>"$out/$name.stderr" || {
        log "$name failed (exit $?): see $out/$name.stderr"; }
    secs=$(awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$out/$name.time")
    rss_kib=$(awk -F': ' '/Maximum resident set size/{print $2}' "$out/$name.time")
}
declare -A rate
row() { # tool inventory targets secs
    local r
    r=$(python3 -c "print(f'{$3/$4:.4g}' if $4 > 0 else 'inf')")
    rate[$1/$2]=$r
    printf '%-10s %-10s %8s %9.2f %10s\n' "$1" "$2" "$3" "$4" "$r"
}
results=$out/results.txt
{
printf '%-10s %-10s %8s %9s %10s\n' tool inventory targets seconds targets/s
if has_tool tlsdoctor; then
    timed td-full "$tlsdoctor" scan -i "$work/targets.txt" --concurrency "$concurrency" -o "$out/td-full.jsonl"
    row tlsdoctor full "$targets" "$secs"
    timed td-inventory "$tlsdoctor" scan -i "$work/targets.txt" --concurrency "$concurrency" \
        --checks protocols,certificate -o "$out/td-inventory.jsonl"
    row tlsdoctor inventory "$targets" "$secs"
fi
if has_tool sslyze; then
    versions="--sslv2 --sslv3 --tlsv1 --tlsv1_1 --tlsv1_2 --tlsv1_3"
    # shellcheck disable=SC2086
    timed sslyze-full "$venv/bin/sslyze" --targets_in "$work/targets.txt" $versions \
        --elliptic_curves --certinfo --json_out "$out/sslyze-full.json"
    row sslyze full "$targets" "$secs"
    # shellcheck disable=SC2086
    timed sslyze-inventory "$venv/bin/sslyze" --targets_in "$work/targets.txt" $versions \
        --certinfo --json_out "$out/sslyze-inventory.json"
    row sslyze inventory "$targets" "$secs"
fi
if has_tool testssl; then
    for inv in full inventory; do
        case $inv in full) opts="-p -E -f -S" ;; inventory) opts="-p -S" ;; esac
        sed "s/^/$opts /" "$work/testssl-targets.txt" > "$work/testssl-$inv.txt"
        rm -rf "$out/testssl-$inv"; mkdir -p "$out/testssl-$inv"
        timed "testssl-$inv" testssl --file "$work/testssl-$inv.txt" --parallel --warnings off \
            --jsonfile "$out/testssl-$inv" --color 0
        row testssl "$inv" "$testssl_targets" "$secs"
    done
fi
echo
for inv in full inventory; do
    for t in sslyze testssl; do
        [ -n "${rate[tlsdoctor/$inv]:-}" ] && [ -n "${rate[$t/$inv]:-}" ] || continue
        python3 -c "print(f'ratio tlsdoctor/$t ($inv): {${rate[tlsdoctor/$inv]}/${rate[$t/$inv]}:.1f}x')"
    done
done
if has_tool tlsdoctor; then
    ok=$(grep -c '"status":"ok"' "$out/td-full.jsonl" || true)
    echo "tlsdoctor full: $ok of $targets lines ok"
fi
if [ $memory = 1 ]; then
    head -n 100 "$work/targets.txt" > "$work/t100.txt"
    awk -v n=10000 '{a[NR]=$0} END {for (i=0; i<n; i++) print a[i % NR + 1]}' "$work/targets.txt" > "$work/t10000.txt"
    timed mem-100 "$tlsdoctor" scan -i "$work/t100.txt" --concurrency "$concurrency" --checks protocols,certificate -o "$out/mem-100.jsonl"
    m100=$rss_kib; s100=$secs
    timed mem-10000 "$tlsdoctor" scan -i "$work/t10000.txt" --concurrency "$concurrency" --checks protocols,certificate -o "$out/mem-10000.jsonl"
    m10k=$rss_kib; s10k=$secs
    echo "peak RSS, inventory: 100 targets ${m100} KiB (${s100} s); 10000 targets ${m10k} KiB (${s10k} s, $(python3 -c "print(f'{10000/$s10k:.0f}')") targets/s); ratio $(python3 -c "print(f'{$m10k/$m100:.2f}')")"
fi
} | tee "$results"
log "outputs in $out"
