#!/usr/bin/env bash
# Benchmark: tlsdoctor's scan side by side with sslscan, sslyze, testssl.sh and
# `nmap --script ssl-enum-ciphers`, against the same local nginx servers.
#
# For every server configuration and every tool it measures
#   - wall time: N runs straight against nginx (runs interleaved across tools, so a busy
#     moment on a shared machine hits every tool alike); best and median are reported;
#   - TCP connections: one more run through bench/countproxy.py, which counts accepted
#     connections (timing is not taken from that run: the proxy's cost per connection would
#     penalise the tools that open many);
#   - with --rtt MS (latency mode) instead: the timed runs themselves go through
#     bench/countproxy.py delaying every byte by MS/2 each way, as if nginx were MS away
#     (the TCP handshake's round trip included), and each run also reports its connections,
#     the round trips of all its connections, and the depth: the round trips on its critical
#     path, as the forwarder estimates them (see bench/countproxy.py);
#   - findings: accepted protocol versions and cipher suites per version, parsed from each
#     tool's machine output by bench/compare.py, which prints the table and every
#     disagreement.
#
# Everything listens on 127.0.0.1 only; every process started here is stopped on exit.
#
# Usage: bench/run.sh [--runs N] [--testssl-runs N] [--servers a,b,c] [--tools LIST]
#                     [--rtt MS [--rate-kbit N]] [--out DIR] [--keep]
#   --runs N      timed runs per tool and server (default 5, or $BENCH_RUNS)
#   --testssl-runs N  timed runs of testssl.sh (default 1, or $BENCH_TESTSSL_RUNS): one of its
#                 scans takes 15 s to 2 min here, so more runs only make the benchmark long
#   --servers     which nginx configurations (default a,b,c):
#                   a  TLS 1.2+1.3, ECDSA P-256, Mozilla intermediate suites
#                   b  RSA 2048, TLS 1.0-1.3, ALL:@SECLEVEL=0 (DHE, CBC, 3DES, anon)
#                   c  TLS 1.3 only, all five TLS 1.3 suites
#   --tools       comma list from tlsdoctor,sslscan,sslyze,testssl,nmap (default: these five)
#                 and tlsdoctor-check (`tlsdoctor check --no-live`, the whole diagnosis
#                 without running the local clients; not by default)
#   --rtt MS      latency mode: time every run through a forwarder adding MS ms of round trip
#   --rate-kbit N with --rtt: also cap each direction at N kbit/s, shared by all connections
#   --out DIR     where tool outputs and measurements go (default target/bench/<time>)
#   --keep        keep nginx's temporary directory (certificates, configs, logs)
# Environment: BENCH_RUNS, BENCH_TESTSSL_RUNS (defaults of the run counts), BENCH_VENV
# (sslyze's venv), BENCH_TLSDOCTOR (a tlsdoctor binary to run instead of building this tree),
# BENCH_TLSDOCTOR_ARGS (more arguments for tlsdoctor's scan and check, word-split, e.g.
# "--extra-checks vulns").
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

runs=${BENCH_RUNS:-5}
testssl_runs=${BENCH_TESTSSL_RUNS:-1}
servers=a,b,c
tools=tlsdoctor,sslscan,sslyze,testssl,nmap
rtt=""
rate_kbit=0
out=""
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs=$2; shift 2 ;;
        --testssl-runs) testssl_runs=$2; shift 2 ;;
        --servers) servers=$2; shift 2 ;;
        --tools) tools=$2; shift 2 ;;
        --rtt) rtt=$2; shift 2 ;;
        --rate-kbit) rate_kbit=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
for n in "$runs" "$testssl_runs"; do
    case "$n" in ''|*[!0-9]*|0) echo "run.sh: run counts must be positive integers, got '$n'" >&2; exit 2 ;; esac
done
for n in "$rtt" "$rate_kbit"; do
    case "$n" in *[!0-9.]*|*.*.*|.) echo "run.sh: --rtt and --rate-kbit take a number, got '$n'" >&2; exit 2 ;; esac
done
if [ "$rate_kbit" != 0 ] && [ -z "$rtt" ]; then
    echo "run.sh: --rate-kbit needs --rtt (use --rtt 0 for a bandwidth cap alone)" >&2; exit 2
fi
latency=0
[ -n "$rtt" ] && latency=1
# The forwarder plays a distant server on 127.0.0.1; tlsdoctor takes a loopback address for
# near unless told, so its automatic connection cap would never see the distance.
[ "$latency" = 1 ] && export TLSDOCTOR_LOOPBACK_IS_FAR=1
IFS=, read -r -a server_list <<< "$servers"
IFS=, read -r -a tool_list <<< "$tools"
for s in "${server_list[@]}"; do
    case "$s" in a|b|c) ;; *) echo "run.sh: unknown server '$s' (a, b or c)" >&2; exit 2 ;; esac
done
for t in "${tool_list[@]}"; do
    case "$t" in tlsdoctor|tlsdoctor-check|sslscan|sslyze|testssl|nmap) ;;
        *) echo "run.sh: unknown tool '$t'" >&2; exit 2 ;; esac
done
has_tool() { [[ ",$tools," == *",$1,"* ]]; }

log() { echo "bench: $*" >&2; }

# ---------------------------------------------------------------- tools --------------------
venv=${BENCH_VENV:-$root/target/bench-venv}
apt_updated=0
apt_install() {
    if [ $apt_updated = 0 ]; then
        log "apt-get update"
        apt-get update -qq >/dev/null
        apt_updated=1
    fi
    log "installing Debian package $1"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >/dev/null
}
for bin in nginx openssl python3; do
    command -v "$bin" >/dev/null || apt_install "$bin"
done
has_tool sslscan && { command -v sslscan >/dev/null || apt_install sslscan; }
has_tool nmap && { command -v nmap >/dev/null || apt_install nmap; }
# Debian's package is testssl.sh; it installs the script as /usr/bin/testssl.
has_tool testssl && { command -v testssl >/dev/null || apt_install testssl.sh; }
if has_tool sslyze && [ ! -x "$venv/bin/sslyze" ]; then
    log "installing sslyze from PyPI into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q sslyze
fi
# $BENCH_TLSDOCTOR runs another tlsdoctor binary (e.g. one built from an older commit, to
# measure before and after a change in the same conditions) instead of building this one.
tlsdoctor=${BENCH_TLSDOCTOR:-$root/target/release/tlsdoctor}
if [ -z "${BENCH_TLSDOCTOR:-}" ] && { has_tool tlsdoctor || has_tool tlsdoctor-check; }; then
    log "cargo build --release (no-op when up to date)"
    (cd "$root" && cargo build --release -q)
fi

tool_version() {
    case "$1" in
        tlsdoctor|tlsdoctor-check) "$tlsdoctor" --version 2>/dev/null | head -1 ;;
        sslscan) sslscan --version 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g' | grep -m1 -o '[0-9][0-9.]*[^ ]*' | sed 's/^/sslscan /' ;;
        sslyze) "$venv/bin/pip" show sslyze 2>/dev/null | awk '/^Version/{print "sslyze " $2}' ;;
        testssl) dpkg-query -W -f='testssl.sh ${Version}' testssl.sh 2>/dev/null ;;
        nmap) nmap --version | head -1 | awk '{print "nmap " $3}' ;;
    esac
}

# ---------------------------------------------------------------- output dir ---------------
[ -n "$out" ] || out=$root/target/bench/$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/tlsdoctor-bench.XXXXXX)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        # SIGTERM: nginx's master then stops its own workers; the proxy exits cleanly.
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ $keep = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
    local port=$1 what=$2
    for _ in $(seq 100); do
        if python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.2); sys.exit(s.connect_ex(('127.0.0.1',$port)))" 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    echo "run.sh: $what did not start listening on 127.0.0.1:$port" >&2
    exit 1
}

# ---------------------------------------------------------------- certificates -------------
log "making certificates in $work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$work/ecdsa.key" -out "$work/ecdsa.crt" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$work/rsa.key" -out "$work/rsa.crt" 2>/dev/null
# RFC 7919 ffdhe2048: named parameters, so nothing to generate; nginx needs explicit DH
# parameters to enable DHE suites at all.
openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out "$work/dh.pem" 2>/dev/null

# ---------------------------------------------------------------- nginx --------------------
server_desc() {
    case "$1" in
        a) echo "TLS1.2+1.3 ECDSA P-256, Mozilla intermediate" ;;
        b) echo "RSA 2048, TLS1.0-1.3, ALL:@SECLEVEL=0 + DHE" ;;
        c) echo "TLS1.3 only, 5 suites" ;;
    esac
}

server_block() {
    local s=$1 port=$2
    case "$s" in
        a) cat <<EOF
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $work/ecdsa.crt;
        ssl_certificate_key $work/ecdsa.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ecdh_curve X25519:prime256v1:secp384r1;
        ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305;
        ssl_prefer_server_ciphers off;
        ssl_session_tickets off;
        location / { return 200 "ok\n"; }
    }
EOF
        ;;
        b) cat <<EOF
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $work/rsa.crt;
        ssl_certificate_key $work/rsa.key;
        ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
        ssl_ciphers ALL:@SECLEVEL=0;
        ssl_dhparam $work/dh.pem;
        ssl_prefer_server_ciphers on;
        location / { return 200 "ok\n"; }
    }
EOF
        ;;
        c) cat <<EOF
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $work/ecdsa.crt;
        ssl_certificate_key $work/ecdsa.key;
        ssl_protocols TLSv1.3;
        ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256;
        location / { return 200 "ok\n"; }
    }
EOF
        ;;
    esac
}

declare -A nginx_port proxy_port control_port
# start_proxy SERVER DIR ARGS...: a bench/countproxy.py in front of the server's nginx; sets
# proxy_port and control_port.
start_proxy() {
    local s=$1 d=$2
    shift 2
    rm -f "$d/proxy.ports"
    python3 "$here/countproxy.py" --upstream "127.0.0.1:${nginx_port[$s]}" --port-file "$d/proxy.ports" \
        "$@" >"$d/proxy.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do [ -s "$d/proxy.ports" ] && break; sleep 0.05; done
    [ -s "$d/proxy.ports" ] || { echo "run.sh: forwarder for $s did not start" >&2; exit 1; }
    read -r proxy_port[$s] control_port[$s] < "$d/proxy.ports"
}
start_server() {
    local s=$1 d=$work/nginx-$1 port
    mkdir -p "$d"
    port=$(free_port)
    {
        echo "daemon off;"
        echo "master_process on;"
        echo "worker_processes 4;"
        echo "user root;"
        echo "error_log $d/error.log warn;"
        echo "pid $d/nginx.pid;"
        echo "events { worker_connections 4096; }"
        echo "http {"
        echo "    access_log off;"
        for t in client_body proxy fastcgi uwsgi scgi; do echo "    ${t}_temp_path $d/$t;"; done
        server_block "$s" "$port"
        echo "}"
    } > "$d/nginx.conf"
    cp "$d/nginx.conf" "$out/nginx-$s.conf"
    nginx -c "$d/nginx.conf" -p "$d" >"$d/stdout.log" 2>&1 &
    pids+=($!)
    wait_port "$port" "nginx ($s)"
    nginx_port[$s]=$port

    if [ $latency = 1 ]; then
        start_proxy "$s" "$d" --delay-ms "$(awk -v r="$rtt" 'BEGIN { print r / 2 }')" \
            --rate-kbit "$rate_kbit"
        log "server $s: nginx 127.0.0.1:$port, forwarder 127.0.0.1:${proxy_port[$s]} with RTT ${rtt} ms ($(server_desc "$s"))"
    else
        start_proxy "$s" "$d"
        log "server $s: nginx 127.0.0.1:$port, counting proxy 127.0.0.1:${proxy_port[$s]} ($(server_desc "$s"))"
    fi
}

# proxy_stats CONTROL_PORT [reset|settled]: the forwarder's line "<accepted> <active>
# <round_trips> <depth> <late_mean_ms> <late_max_ms>". With `reset` its counters restart
# afterwards; with `settled` the line is read once no connection is open any more (a tool's
# last ones may still be closing through the forwarder after it exited), waiting at most 10 s.
proxy_stats() {
    python3 - "$@" <<'EOF'
import socket, sys, time
port, mode = int(sys.argv[1]), (sys.argv[2:] or ["now"])[0]
deadline = time.monotonic() + 10
while True:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        f = s.makefile("rwb")
        line = f.readline().decode().strip()
        if mode == "reset":
            f.write(b"reset\n")
            f.flush()
            if f.readline() != b"ok\n":
                sys.exit("run.sh: the forwarder did not confirm the reset")
    if mode != "settled" or line.split()[1] == "0" or time.monotonic() > deadline:
        break
    time.sleep(0.05)
print(line)
EOF
}

# ---------------------------------------------------------------- one tool run -------------
# run_tool TOOL PORT PREFIX: run one scan of 127.0.0.1:PORT, machine output in PREFIX.*
# (the human output in PREFIX.out). Each tool runs the checks closest to tlsdoctor's scan:
# versions, suites per version with order, key exchange groups, and handshake properties.
run_tool() {
    local tool=$1 port=$2 p=$3
    rm -f "$p".*
    case "$tool" in
        tlsdoctor)
            "$tlsdoctor" scan --json --color never ${BENCH_TLSDOCTOR_ARGS:-} "127.0.0.1:$port" >"$p.json" 2>"$p.out" ;;
        tlsdoctor-check)
            # The whole diagnosis: the scan, the chain, full handshakes, client replays. Exit
            # status 1 means findings of severity error (the bench's self-signed certificates).
            # --no-live: without the local clients' own runs (16 programs here, Java and Node
            # among them), whose start-up is this machine's cost, not the server's round trips.
            "$tlsdoctor" check --no-live --json --color never ${BENCH_TLSDOCTOR_ARGS:-} "127.0.0.1:$port" >"$p.json" 2>"$p.out" || [ $? = 1 ] ;;
        sslscan)
            # Default checks: protocols, every suite, groups, renegotiation, compression,
            # heartbleed, fallback SCSV, certificate.
            sslscan --no-colour --xml="$p.xml" "127.0.0.1:$port" >"$p.out" 2>&1 ;;
        sslyze)
            "$venv/bin/sslyze" --json_out="$p.json" --mozilla_config=disable \
                --sslv2 --sslv3 --tlsv1 --tlsv1_1 --tlsv1_2 --tlsv1_3 \
                --elliptic_curves --reneg --compression --fallback --ems \
                "127.0.0.1:$port" >"$p.out" 2>&1 ;;
        testssl)
            # -p protocols, -E suites per protocol, -P server preference, -f forward secrecy
            # (groups), -R renegotiation, -C compression, -Z fallback SCSV. No DNS at all.
            testssl --quiet --warnings off --color 0 --nodns none --jsonfile "$p.json" \
                -p -E -P -f -R -C -Z "127.0.0.1:$port" >"$p.out" 2>&1 ;;
        nmap)
            # `+` runs the script although nmap would not guess TLS on a random port; -n: no DNS.
            nmap -Pn -n -p "$port" --script +ssl-enum-ciphers -oX "$p.xml" 127.0.0.1 \
                >"$p.out" 2>&1 ;;
    esac
}

now_ns() { date +%s%N; }

# ---------------------------------------------------------------- the benchmark ------------
{
    echo "# tool versions"
    for t in "${tool_list[@]}"; do echo "$t	$(tool_version "$t")"; done
} > "$out/versions.tsv"
if [ $latency = 1 ]; then
    printf 'server\ttool\trun\tseconds\texit\tconnections\tround_trips\tdepth\tlate_mean_ms\tlate_max_ms\n' \
        > "$out/times.tsv"
    printf 'rtt_ms\t%s\nrate_kbit\t%s\n' "$rtt" "$rate_kbit" > "$out/latency.tsv"
else
    printf 'server\ttool\trun\tseconds\texit\n' > "$out/times.tsv"
fi
printf 'server\ttool\tconnections\n' > "$out/connections.tsv"
for s in "${server_list[@]}"; do
    printf '%s\t%s\n' "$s" "$(server_desc "$s")" >> "$out/servers.tsv"
done

for s in "${server_list[@]}"; do
    start_server "$s"
    port=${nginx_port[$s]}
    for t in "${tool_list[@]}"; do
        # Warm the page cache and Python's bytecode cache; testssl.sh is too slow to matter.
        # Straight to nginx, also in latency mode: only the caches matter here.
        [ "$t" = testssl ] || run_tool "$t" "$port" "$out/$s-$t-warmup" || true
    done
    # In latency mode every timed run goes through the delaying forwarder.
    timed_port=$port
    [ $latency = 1 ] && timed_port=${proxy_port[$s]}
    most=$runs
    has_tool testssl && [ "$testssl_runs" -gt "$most" ] && most=$testssl_runs
    for i in $(seq "$most"); do
        for t in "${tool_list[@]}"; do
            limit=$runs
            [ "$t" = testssl ] && limit=$testssl_runs
            [ "$i" -le "$limit" ] || continue
            [ $latency = 1 ] && proxy_stats "${control_port[$s]}" reset >/dev/null
            t0=$(now_ns)
            rc=0
            run_tool "$t" "$timed_port" "$out/$s-$t" || rc=$?
            t1=$(now_ns)
            secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
            if [ $latency = 1 ]; then
                read -r conns _ trips depth late_mean late_max < <(proxy_stats "${control_port[$s]}" settled)
                printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$t" "$i" "$secs" "$rc" \
                    "$conns" "$trips" "$depth" "$late_mean" "$late_max" >> "$out/times.tsv"
                # The last run's count stands for the tool (its findings are the last run's too).
                [ "$i" = "$limit" ] && printf '%s\t%s\t%s\n' "$s" "$t" "$conns" >> "$out/connections.tsv"
                log "server $s run $i/$limit: $t ${secs}s (exit $rc), $conns connections, $trips round trips, depth $depth"
            else
                printf '%s\t%s\t%s\t%s\t%s\n' "$s" "$t" "$i" "$secs" "$rc" >> "$out/times.tsv"
                log "server $s run $i/$limit: $t ${secs}s (exit $rc)"
            fi
        done
    done
    # Latency mode counted every timed run already; otherwise one counted run per tool.
    counted=()
    [ $latency = 1 ] || counted=("${tool_list[@]}")
    for t in "${counted[@]}"; do
        read -r before _ < <(proxy_stats "${control_port[$s]}")
        run_tool "$t" "${proxy_port[$s]}" "$out/$s-$t-counted" || true
        # Once the proxy has seen every connection of this tool end.
        read -r after _ < <(proxy_stats "${control_port[$s]}" settled)
        printf '%s\t%s\t%s\n' "$s" "$t" "$((after - before))" >> "$out/connections.tsv"
        log "server $s: $t opened $((after - before)) connections"
    done
    rm -f "$out/$s"-*-warmup.*
done

log "outputs in $out"
latency_args=""
[ $latency = 1 ] && latency_args=" --rtt $rtt"
[ "$rate_kbit" != 0 ] && latency_args="$latency_args --rate-kbit $rate_kbit"
echo "\$ bench/run.sh --runs $runs --testssl-runs $testssl_runs --servers $servers --tools $tools$latency_args"
python3 "$here/compare.py" "$out"
