#!/usr/bin/env python3
"""Read one benchmark directory written by bench/run.sh and print the comparison.

For every server configuration: a table of wall time (best and median of the timed runs),
the ratio to tlsdoctor's median, TCP connections (counted by bench/countproxy.py), and the
number of accepted versions and suites each tool found; whether tlsdoctor met its speed
target; then every protocol version and cipher suite on which the tools do not all agree.

A directory from latency mode (run.sh --rtt, it holds latency.tsv) adds per tool the medians
over its runs of the round trips of all connections and of the depth (round trips on the
critical path), and the wall time in round trips; the targets are then those of issue 19, and
how late the forwarder wrote its chunks is shown to judge the delay's fidelity.

Findings are read from each tool's machine output of its last timed run:
  tlsdoctor  scan --json             servers[0].protocols / cipher_suites
  tlsdoctor-check  check --json      diagnoses[0].scan, the same fields
  sslscan    --xml                   <protocol enabled=...>, <cipher status=... id=...>
  sslyze     --json_out              scan_result.<version>_cipher_suites.accepted_cipher_suites
  testssl    --jsonfile              ids SSLv2..TLS1_3 and cipher-<version>_x<hex id>
  nmap       -oX ssl-enum-ciphers    <table key="TLSv1.2"><table key="ciphers">...
Suites are compared by their numeric id; names come from tlsdoctor's registry
(data/cipher-suites.tsv), so a tool that spells a suite differently still matches.

Usage: bench/compare.py DIR
"""

import json
import statistics
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ["tlsdoctor", "tlsdoctor-check", "sslscan", "sslyze", "testssl", "nmap"]
VERSIONS = ["ssl2", "ssl3", "tls1_0", "tls1_1", "tls1_2", "tls1_3"]
VERSION_NAMES = {
    "ssl2": "SSLv2",
    "ssl3": "SSLv3",
    "tls1_0": "TLSv1.0",
    "tls1_1": "TLSv1.1",
    "tls1_2": "TLSv1.2",
    "tls1_3": "TLSv1.3",
}
# The speed target of issue 3: at most this fraction of the other tool's wall time.
TARGETS = {"sslscan": 1 / 3, "sslyze": 1 / 10}
# The targets of issue 19, for latency mode at RTT 50 ms: tlsdoctor's scan at most this many
# seconds per server, at most this fraction of the other tools' time, never more connections
# than sslscan, and check within this factor of scan. Measured at commit bf31b64 (README,
# Benchmarks): scan 0.54 s / 6.01 s / 1.16 s on a / b / c, 19x sslscan's and sslyze's time on
# a, 36 / 131 / 34 connections against sslscan's 93 / 184 / 54, check 1.22x / 1.01x / 1.09x
# scan: the connection and check targets are met, the time targets not yet.
RTT_TARGETS = {
    "rtt_ms": 50,
    "scan_seconds": {"a": 0.3, "b": 0.5},
    "fraction_of": {"sslscan": 1 / 25, "sslyze": 1 / 25},
    "connections_at_most": "sslscan",
    "check_over_scan": 1.3,
}


# ----------------------------------------------------------------------- suite registry ---


class Registry:
    """Suite id <-> names, from the same data file tlsdoctor compiles in."""

    def __init__(self, path):
        self.by_name = {}
        self.iana = {}
        header = None
        for line in path.read_text().splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            if header is None:
                header = cols
                continue
            row = dict(zip(header, cols))
            sid = int(row["id"], 16)
            self.iana[sid] = row["iana"]
            names = [row["iana"], row["openssl"]] + row["aliases"].split(",")
            for name in names:
                name = name.strip()
                if name and name != "-":
                    self.by_name.setdefault(name.upper(), sid)

    def id_of(self, name):
        """The id for a suite name in IANA or OpenSSL spelling (nmap's TLS_AKE_WITH_ too)."""
        key = name.strip().upper()
        if key in self.by_name:
            return self.by_name[key]
        # nmap 7.9x names TLS 1.3 suites TLS_AKE_WITH_AES_128_GCM_SHA256.
        if key.startswith("TLS_AKE_WITH_"):
            return self.by_name.get("TLS_" + key[len("TLS_AKE_WITH_"):])
        return None

    def describe(self, sid):
        return f"0x{sid:04x} {self.iana.get(sid, 'unknown')}"


# ----------------------------------------------------------------------- findings ---------


class Findings:
    """What one tool says about one server: accepted versions, and suite ids per version."""

    def __init__(self):
        self.versions = set()
        self.suites = {}  # version -> set of suite ids
        self.unparsed = []  # suite names the registry does not know

    def add_suite(self, version, sid, name=""):
        if sid is None:
            self.unparsed.append(f"{version}:{name}")
            return
        self.suites.setdefault(version, set()).add(sid)

    def suite_count(self):
        return sum(len(s) for s in self.suites.values())


def parse_tlsdoctor(path, reg):
    doc = json.loads(path.read_text())
    if not doc.get("servers"):
        raise ValueError("; ".join(e.get("error", "?") for e in doc.get("errors", [])) or "no server")
    return scan_findings(doc["servers"][0])


def parse_tlsdoctor_check(path, reg):
    doc = json.loads(path.read_text())
    scan = (doc.get("diagnoses") or [{}])[0].get("scan")
    if not scan:
        raise ValueError("; ".join(e.get("error", "?") for e in doc.get("errors", [])) or "no scan")
    return scan_findings(scan)


def scan_findings(server):
    """Versions and suites of one tlsdoctor ServerScan (docs/json.md)."""
    f = Findings()
    for p in server["protocols"]:
        if p["accepted"]:
            f.versions.add(p["version"])
    for vs in server["cipher_suites"]:
        for s in vs["suites"]:
            f.add_suite(vs["version"], int(s["id"], 16), s["iana"])
    return f


SSLSCAN_VERSIONS = {
    ("ssl", "2"): "ssl2",
    ("ssl", "3"): "ssl3",
    ("tls", "1.0"): "tls1_0",
    ("tls", "1.1"): "tls1_1",
    ("tls", "1.2"): "tls1_2",
    ("tls", "1.3"): "tls1_3",
}
SSLSCAN_CIPHER_VERSIONS = {
    "SSLv2": "ssl2",
    "SSLv3": "ssl3",
    "TLSv1.0": "tls1_0",
    "TLSv1.1": "tls1_1",
    "TLSv1.2": "tls1_2",
    "TLSv1.3": "tls1_3",
}


def parse_sslscan(path, reg):
    root = ET.parse(path).getroot()
    f = Findings()
    for p in root.iter("protocol"):
        v = SSLSCAN_VERSIONS.get((p.get("type"), p.get("version")))
        if v and p.get("enabled") == "1":
            f.versions.add(v)
    for c in root.iter("cipher"):
        if c.get("status") not in ("accepted", "preferred"):
            continue
        v = SSLSCAN_CIPHER_VERSIONS.get(c.get("sslversion"))
        sid = int(c.get("id"), 16) if c.get("id") else reg.id_of(c.get("cipher", ""))
        f.add_suite(v, sid, c.get("cipher", ""))
    return f


SSLYZE_VERSIONS = {
    "ssl_2_0_cipher_suites": "ssl2",
    "ssl_3_0_cipher_suites": "ssl3",
    "tls_1_0_cipher_suites": "tls1_0",
    "tls_1_1_cipher_suites": "tls1_1",
    "tls_1_2_cipher_suites": "tls1_2",
    "tls_1_3_cipher_suites": "tls1_3",
}


def parse_sslyze(path, reg):
    doc = json.loads(path.read_text())
    f = Findings()
    server = doc["server_scan_results"][0]
    if server.get("scan_status") != "COMPLETED":
        raise ValueError(f"sslyze scan status {server.get('scan_status')}: {server.get('connectivity_error_trace')}")
    for key, v in SSLYZE_VERSIONS.items():
        attempt = server["scan_result"].get(key) or {}
        result = attempt.get("result")
        if not result:
            continue
        accepted = result.get("accepted_cipher_suites") or []
        if accepted:
            f.versions.add(v)
        for a in accepted:
            name = a["cipher_suite"]["name"]
            f.add_suite(v, reg.id_of(name), name)
    return f


TESTSSL_VERSIONS = {
    "SSLv2": "ssl2",
    "SSLv3": "ssl3",
    "TLS1": "tls1_0",
    "TLS1_1": "tls1_1",
    "TLS1_2": "tls1_2",
    "TLS1_3": "tls1_3",
}
TESTSSL_CIPHER_VERSIONS = {
    "ssl2": "ssl2",
    "ssl3": "ssl3",
    "tls1": "tls1_0",
    "tls1_1": "tls1_1",
    "tls1_2": "tls1_2",
    "tls1_3": "tls1_3",
}


def parse_testssl(path, reg):
    entries = json.loads(path.read_text())
    f = Findings()
    for e in entries:
        ident, finding = e.get("id", ""), e.get("finding", "")
        if ident in TESTSSL_VERSIONS:
            if finding.startswith("offered"):
                f.versions.add(TESTSSL_VERSIONS[ident])
        elif ident.startswith("cipher-") and "_x" in ident:
            # cipher-tls1_2_xc02b: version, then the suite id in hex after "_x".
            ver, _, hexid = ident[len("cipher-"):].rpartition("_x")
            v = TESTSSL_CIPHER_VERSIONS.get(ver)
            if v:
                f.add_suite(v, int(hexid, 16), finding)
    return f


NMAP_VERSIONS = {
    "SSLv2": "ssl2",
    "SSLv3": "ssl3",
    "TLSv1.0": "tls1_0",
    "TLSv1.1": "tls1_1",
    "TLSv1.2": "tls1_2",
    "TLSv1.3": "tls1_3",
}


def parse_nmap(path, reg):
    root = ET.parse(path).getroot()
    f = Findings()
    script = next((s for s in root.iter("script") if s.get("id") == "ssl-enum-ciphers"), None)
    if script is None:
        raise ValueError("no ssl-enum-ciphers result in the XML")
    for table in script.findall("table"):
        v = NMAP_VERSIONS.get(table.get("key"))
        if not v:
            continue
        ciphers = next((t for t in table.findall("table") if t.get("key") == "ciphers"), None)
        names = []
        if ciphers is not None:
            for c in ciphers.findall("table"):
                names += [e.text for e in c.findall("elem") if e.get("key") == "name"]
        if names:
            f.versions.add(v)
        for name in names:
            f.add_suite(v, reg.id_of(name), name)
    return f


PARSERS = {
    "tlsdoctor": ("json", parse_tlsdoctor),
    "tlsdoctor-check": ("json", parse_tlsdoctor_check),
    "sslscan": ("xml", parse_sslscan),
    "sslyze": ("json", parse_sslyze),
    "testssl": ("json", parse_testssl),
    "nmap": ("xml", parse_nmap),
}


# ----------------------------------------------------------------------- measurements -----


def read_lines(path):
    if not path.exists():
        return []
    return [l for l in path.read_text().splitlines() if l and not l.startswith("#")]


def read_tsv(path):
    lines = read_lines(path)
    if not lines:
        return []
    header = lines[0].split("\t")
    return [dict(zip(header, l.split("\t"))) for l in lines[1:]]


def fmt_secs(x):
    return "-" if x is None else f"{x:.3f}"


def print_server(d, server, desc, times, conns, reg, rtt_ms):
    tools = [t for t in TOOLS if any(r["server"] == server and r["tool"] == t for r in times)]
    print(f"\n=== server {server}: {desc} ===")

    findings, errors = {}, {}
    for t in tools:
        ext, parse = PARSERS[t]
        path = d / f"{server}-{t}.{ext}"
        try:
            findings[t] = parse(path, reg)
        except (OSError, ValueError, KeyError, IndexError, ET.ParseError, json.JSONDecodeError) as e:
            errors[t] = f"{type(e).__name__}: {e}"

    secs = {}
    for t in tools:
        rows = [r for r in times if r["server"] == server and r["tool"] == t]
        ok = [float(r["seconds"]) for r in rows]
        failed = [r["run"] for r in rows if r["exit"] != "0"]
        secs[t] = (min(ok), statistics.median(ok), len(ok), failed)
    base = secs.get("tlsdoctor", (None, None))[1]

    latency = rtt_ms is not None
    rounds = {t: run_medians(times, server, t) for t in tools} if latency else {}
    extra = f" {'rtrips':>7} {'depth':>5} {'wall/RTT':>8}" if latency else ""
    head = (
        f"{'tool':<15} {'best s':>8} {'median s':>9} {'x tlsdoctor':>11} {'conns':>6}{extra}"
        f" {'versions':>8} {'suites':>6}"
    )
    print(head)
    print("-" * len(head))
    for t in tools:
        best, median, n, failed = secs[t]
        ratio = f"{median / base:.1f}" if base else "-"
        c = conns.get((server, t), "-")
        f = findings.get(t)
        nv = len(f.versions) if f else "-"
        ns = f.suite_count() if f else "-"
        note = f"  (exit status non-zero in run(s) {','.join(failed)})" if failed else ""
        cols = ""
        if latency:
            r = rounds[t]
            walls = f"{median / (rtt_ms / 1000):.1f}" if rtt_ms else "-"
            cols = f" {fmt_num(r['round_trips']):>7} {fmt_num(r['depth']):>5} {walls:>8}"
        print(
            f"{t:<15} {fmt_secs(best):>8} {fmt_secs(median):>9} {ratio:>11} {c:>6}{cols}"
            f" {nv:>8} {ns:>6}{note}"
        )
    counts = ", ".join(f"{t} {secs[t][2]}" for t in tools)
    if latency:
        lates = [
            (float(r["late_mean_ms"]), float(r["late_max_ms"]))
            for r in times
            if r["server"] == server and r.get("late_max_ms")
        ]
        print(
            f"(timed runs through the forwarder at RTT {rtt_ms:g} ms: {counts}; conns: the last run;"
            " rtrips, depth: medians over the runs)"
        )
        if lates:
            print(
                f"forwarder lateness over these runs: mean {statistics.mean(m for m, _ in lates):.2f} ms,"
                f" worst {max(x for _, x in lates):.1f} ms"
            )
        print_rtt_targets(server, secs, conns)
    else:
        print(f"(timed runs against nginx directly: {counts}; connections: one run through the counting proxy)")

    if "tlsdoctor" in secs and not latency:
        for other, fraction in TARGETS.items():
            if other not in secs:
                continue
            limit = secs[other][1] * fraction
            verdict = "MET" if base <= limit else "MISSED"
            print(
                f"target tlsdoctor <= {other}/{round(1 / fraction)}: "
                f"{base:.3f}s vs {limit:.3f}s -> {verdict}"
            )
    for t in ("tlsdoctor", "tlsdoctor-check"):
        if t not in secs:
            continue
        # Latency mode counts the timed runs: the last one's output goes with its count.
        suffix = "" if latency else "-counted"
        self_count = tlsdoctor_self_count(d / f"{server}-{t}{suffix}.json")
        proxy_count = conns.get((server, t))
        if self_count is not None and proxy_count is not None:
            same = "agrees" if str(self_count) == str(proxy_count) else "DIFFERS"
            print(f"{t}'s own connection count {self_count}, proxy counted {proxy_count}: {same}")

    for t, e in errors.items():
        print(f"{t}: could not read its output: {e}")
    for t, f in findings.items():
        if f.unparsed:
            print(f"{t}: suite names not in the registry: {', '.join(f.unparsed)}")
    print_disagreements(findings, reg)


def print_disagreements(findings, reg):
    tools = list(findings)
    lines = []

    def split(has):
        yes = [t for t in tools if has(findings[t])]
        no = [t for t in tools if t not in yes]
        return yes, no

    for v in VERSIONS:
        yes, no = split(lambda f: v in f.versions)
        if yes and no:
            lines.append(f"  {VERSION_NAMES[v]:<8} accepted per {', '.join(yes)}; not per {', '.join(no)}")
    for v in VERSIONS:
        every = set()
        for f in findings.values():
            every |= f.suites.get(v, set())
        for sid in sorted(every):
            yes, no = split(lambda f: sid in f.suites.get(v, set()))
            if no:
                lines.append(
                    f"  {VERSION_NAMES[v]:<8} {reg.describe(sid):<50} found by {', '.join(yes)}; not by {', '.join(no)}"
                )
    print(f"DISAGREEMENTS ({len(lines)}; among {', '.join(tools)}):")
    for l in lines or ["  none: every tool reports the same versions and suites"]:
        print(l)


def print_rtt_targets(server, secs, conns):
    """Issue 19's targets for this server, each MET or MISSED."""
    if "tlsdoctor" not in secs:
        return
    scan = secs["tlsdoctor"][1]
    lines = []
    limit = RTT_TARGETS["scan_seconds"].get(server)
    if limit is not None:
        lines.append((f"tlsdoctor scan <= {limit}s", f"{scan:.3f}s", scan <= limit))
    for other, fraction in RTT_TARGETS["fraction_of"].items():
        if other in secs:
            bound = secs[other][1] * fraction
            lines.append(
                (f"tlsdoctor scan <= {other}/{round(1 / fraction)}", f"{scan:.3f}s vs {bound:.3f}s", scan <= bound)
            )
    other = RTT_TARGETS["connections_at_most"]
    mine, theirs = conns.get((server, "tlsdoctor")), conns.get((server, other))
    if mine is not None and theirs is not None:
        lines.append((f"tlsdoctor connections <= {other}'s", f"{mine} vs {theirs}", int(mine) <= int(theirs)))
    if "tlsdoctor-check" in secs:
        factor = RTT_TARGETS["check_over_scan"]
        check = secs["tlsdoctor-check"][1]
        lines.append((f"check <= {factor} x scan", f"{check:.3f}s vs {scan * factor:.3f}s", check <= scan * factor))
    for what, values, ok in lines:
        print(f"target (issue 19, at RTT {RTT_TARGETS['rtt_ms']} ms) {what}: {values} -> {'MET' if ok else 'MISSED'}")


def run_medians(times, server, tool):
    """Medians over a tool's latency-mode runs of its round trips and depth."""
    out = {}
    for key in ("round_trips", "depth"):
        vals = [float(r[key]) for r in times if r["server"] == server and r["tool"] == tool and r.get(key)]
        out[key] = statistics.median(vals) if vals else None
    return out


def fmt_num(x):
    return "-" if x is None else f"{x:g}"


def tlsdoctor_self_count(path):
    try:
        doc = json.loads(path.read_text())
        if "diagnoses" in doc:
            # Every connection of the diagnosis; older versions only counted the scan's.
            diagnosis = doc["diagnoses"][0]
            return diagnosis.get("connections", diagnosis["scan"]["connections"])
        return doc["servers"][0]["connections"]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def main():
    if len(sys.argv) != 2:
        print("usage: compare.py DIR (a directory written by bench/run.sh)", file=sys.stderr)
        return 2
    d = Path(sys.argv[1])
    times = read_tsv(d / "times.tsv")
    if not times:
        print(f"compare.py: {d} has no times.tsv; run bench/run.sh first", file=sys.stderr)
        return 1
    conns = {(r["server"], r["tool"]): r["connections"] for r in read_tsv(d / "connections.tsv")}
    servers = [l.split("\t", 1) for l in (d / "servers.tsv").read_text().splitlines() if l]
    reg = Registry(ROOT / "data" / "cipher-suites.tsv")
    setup = {r[0]: r[1] for r in (l.split("\t") for l in read_lines(d / "latency.tsv")) if len(r) == 2}
    rtt_ms = float(setup["rtt_ms"]) if "rtt_ms" in setup else None

    versions = d / "versions.tsv"
    if versions.exists():
        tv = [l.split("\t") for l in versions.read_text().splitlines() if l and not l.startswith("#")]
        print("tools: " + "; ".join(v[1] or v[0] for v in tv if len(v) > 1))
    if rtt_ms is not None:
        rate = float(setup.get("rate_kbit", 0))
        cap = f", each direction capped at {rate:g} kbit/s" if rate else ""
        print(f"latency mode: RTT {rtt_ms:g} ms through bench/countproxy.py{cap}")
    for server, desc in servers:
        print_server(d, server, desc, times, conns, reg, rtt_ms)
    return 0


if __name__ == "__main__":
    sys.exit(main())
