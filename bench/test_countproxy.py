#!/usr/bin/env python3
"""Checks that bench/countproxy.py delays faithfully and counts what it claims.

Run by hand (bench/ is not part of CI):  python3 bench/test_countproxy.py -v
Everything listens on 127.0.0.1. Nothing may arrive earlier than the delay says (strict
lower bounds); how much later is what a busy machine adds to every process, so the upper
bounds are checked on medians with a margin, BENCH_TEST_SLACK_MS (default 30 ms).
"""

import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import os
import statistics
import unittest
from pathlib import Path

PROXY = Path(__file__).resolve().parent / "countproxy.py"
DELAY = 0.025  # one way: RTT 50 ms
SLACK = float(os.environ.get("BENCH_TEST_SLACK_MS", "30")) / 1000


class Upstream(socketserver.ThreadingTCPServer):
    """Echoes every chunk back and remembers when each arrived, and how each connection ended."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self):
        self.arrivals = []  # (monotonic time, bytes)
        self.ends = []  # (monotonic time, "eof" | "reset")
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), Echo)


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        srv = self.server
        if getattr(srv, "banner", None):
            self.request.sendall(srv.banner)
        if getattr(srv, "answer_once", False):
            try:
                self.request.recv(100)
                self.request.sendall(b"answer")
            except OSError:
                pass  # the client reset first
            return  # closes at once
        while True:
            try:
                data = self.request.recv(65536)
            except ConnectionResetError:
                with srv.lock:
                    srv.ends.append((time.monotonic(), "reset"))
                return
            now = time.monotonic()
            with srv.lock:
                if data:
                    srv.arrivals.append((now, data))
                else:
                    srv.ends.append((now, "eof"))
            if not data:
                return
            if not getattr(srv, "sink", False):
                self.request.sendall(data)


class Proxy:
    def __init__(self, upstream_port, *extra):
        self.dir = tempfile.TemporaryDirectory()
        ports = Path(self.dir.name) / "ports"
        self.proc = subprocess.Popen(
            [sys.executable, str(PROXY), "--upstream", f"127.0.0.1:{upstream_port}",
             "--port-file", str(ports), *extra]
        )
        deadline = time.monotonic() + 10
        while not ports.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("countproxy.py did not start")
            time.sleep(0.02)
        self.port, self.control = (int(w) for w in ports.read_text().split())

    def close(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.dir.cleanup()

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    def stats(self, reset=False):
        with socket.create_connection(("127.0.0.1", self.control), timeout=5) as s:
            f = s.makefile("rwb")
            line = f.readline().decode().split()
            if reset:
                f.write(b"reset\n")
                f.flush()
                assert f.readline() == b"ok\n"
        names = ["accepted", "active", "round_trips", "depth", "late_mean_ms", "late_max_ms"]
        return dict(zip(names, (float(x) for x in line)))

    def settled(self, reset=False):
        """Stats once every connection has ended (closing takes a delay or two)."""
        deadline = time.monotonic() + 10
        while self.stats()["active"] and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.stats(reset)


def ping(s, payload=b"x"):
    t0 = time.monotonic()
    s.sendall(payload)
    got = b""
    while len(got) < len(payload):
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed during ping")
        got += chunk
    return time.monotonic() - t0


class DelayTest(unittest.TestCase):
    def setUp(self):
        self.upstream = Upstream()
        threading.Thread(target=self.upstream.serve_forever, daemon=True).start()
        self.proxy = Proxy(self.upstream.server_address[1], "--delay-ms", str(DELAY * 1000))

    def tearDown(self):
        self.proxy.close()
        self.upstream.shutdown()
        self.upstream.server_close()

    def test_a_ping_takes_one_rtt_and_the_first_one_also_pays_the_tcp_handshake(self):
        t0 = time.monotonic()
        with self.proxy.connect() as s:
            ping(s)  # connect() itself returns at once on loopback
            first = time.monotonic() - t0
            later = [ping(s) for _ in range(10)]
        # The server gets the first byte when it would have behind a real handshake: SYN,
        # SYN-ACK, then the data (3 delays); its answer is back one delay later.
        self.assertGreaterEqual(self.upstream.arrivals[0][0] - t0, 3 * DELAY - 0.002)
        self.assertGreaterEqual(first, 4 * DELAY - 0.002)
        self.assertLess(first, 4 * DELAY + 2 * SLACK)
        self.assertGreaterEqual(min(later), 2 * DELAY - 0.002)
        self.assertLess(statistics.median(later), 2 * DELAY + SLACK, later)

    def test_every_chunk_arrives_one_delay_after_it_was_sent_and_in_order(self):
        sent = []
        with self.proxy.connect() as s:
            time.sleep(3 * DELAY)  # past the emulated handshake
            for i in range(20):
                piece = f"<{i}>".encode()
                sent.append((time.monotonic(), piece))
                s.sendall(piece)
                time.sleep(0.007)
            time.sleep(2 * DELAY)
        deadline = time.monotonic() + 5
        while sum(len(d) for _, d in self.upstream.arrivals) < sum(len(p) for _, p in sent):
            self.assertLess(time.monotonic(), deadline, "not everything arrived")
            time.sleep(0.01)
        got = b"".join(d for _, d in self.upstream.arrivals)
        self.assertEqual(got, b"".join(p for _, p in sent))
        # Match each arrival to the piece that starts it: its delay from sending.
        offset = 0
        starts = {}
        for t, p in sent:
            starts[offset] = t
            offset += len(p)
        offset = 0
        delays = []
        for t, d in self.upstream.arrivals:
            if offset in starts:
                delays.append(t - starts[offset])
            offset += len(d)
        self.assertGreater(len(delays), 5, "pieces were not forwarded one by one")
        self.assertGreaterEqual(min(delays), DELAY - 0.002)
        self.assertLess(statistics.median(delays), DELAY + SLACK, delays)

    def test_many_parallel_connections_each_see_the_delay_without_queueing(self):
        n, pings = 100, 3
        times = [None] * n
        start = threading.Barrier(n + 1)

        errors = []

        def client(i):
            start.wait()
            t0 = time.monotonic()
            try:
                with self.proxy.connect() as s:
                    for _ in range(pings):
                        ping(s)
            except OSError as e:
                errors.append(repr(e))
                return
            times[i] = time.monotonic() - t0

        threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        start.wait()
        t0 = time.monotonic()
        for t in threads:
            t.join(30)
        wall = time.monotonic() - t0
        ideal = (pings + 1) * 2 * DELAY  # the handshake round trip, then the pings
        self.assertEqual(errors, [])
        self.assertGreaterEqual(min(times), ideal - 0.002)
        # Serialised connections would need n x ideal; parallel ones about ideal.
        self.assertLess(wall, 4 * ideal, f"{n} connections took {wall:.3f}s")
        stats = self.proxy.settled()
        self.assertEqual(stats["accepted"], n)
        self.assertEqual(stats["round_trips"], n * (pings + 1))
        # At least the rounds of one client; more where a loaded machine ran a client thread
        # after another's first answer: the estimate then reads it as depending on that one.
        self.assertGreaterEqual(stats["depth"], pings + 1)

    def test_a_clean_close_and_a_reset_reach_the_server_one_delay_later(self):
        s = self.proxy.connect()
        ping(s)
        t0 = time.monotonic()
        s.shutdown(socket.SHUT_WR)
        time.sleep(4 * DELAY)
        s.close()
        s = self.proxy.connect()
        ping(s)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        t1 = time.monotonic()
        s.close()
        deadline = time.monotonic() + 5
        while len(self.upstream.ends) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        ends = sorted(self.upstream.ends)
        self.assertEqual([k for _, k in ends], ["eof", "reset"])
        for (t, _), sent in zip(ends, (t0, t1)):
            self.assertGreaterEqual(t - sent, DELAY - 0.002)
            self.assertLess(t - sent, DELAY + 4 * SLACK)  # a single measurement

    def test_rounds_add_up_along_dependent_connections_but_not_parallel_ones(self):
        self.proxy.stats(reset=True)
        with self.proxy.connect() as s:
            for _ in range(3):
                ping(s)
        stats = self.proxy.settled(reset=True)
        self.assertEqual((stats["accepted"], stats["round_trips"], stats["depth"]), (1, 4, 4))

        for _ in range(2):  # the second connection starts after the first's answer
            with self.proxy.connect() as s:
                ping(s)
        stats = self.proxy.settled(reset=True)
        self.assertEqual((stats["accepted"], stats["round_trips"], stats["depth"]), (2, 4, 4))

        a, b = self.proxy.connect(), self.proxy.connect()
        a.sendall(b"a")
        b.sendall(b"b")
        a.recv(1)
        b.recv(1)
        a.close()
        b.close()
        stats = self.proxy.settled()
        self.assertEqual((stats["accepted"], stats["round_trips"], stats["depth"]), (2, 4, 2))

    def test_a_flight_sent_in_several_writes_is_one_round_trip(self):
        self.proxy.stats(reset=True)
        with self.proxy.connect() as s:
            s.sendall(b"he")
            time.sleep(0.005)
            s.sendall(b"llo")
            got = b""
            while len(got) < 5:
                got += s.recv(10)
        stats = self.proxy.settled()
        self.assertEqual((stats["round_trips"], stats["depth"]), (2, 2))


class ServerFirstTest(unittest.TestCase):
    def test_a_banner_sent_on_accept_arrives_two_round_trips_after_the_syn(self):
        upstream = Upstream()
        upstream.banner = b"220 hello\r\n"
        threading.Thread(target=upstream.serve_forever, daemon=True).start()
        proxy = Proxy(upstream.server_address[1], "--delay-ms", str(DELAY * 1000))
        try:
            t0 = time.monotonic()
            with proxy.connect() as s:
                got = s.recv(100)
                took = time.monotonic() - t0
        finally:
            proxy.close()
            upstream.shutdown()
            upstream.server_close()
        self.assertEqual(got, upstream.banner)
        # SYN, SYN-ACK, ACK (the server's accept), then the banner's way back: 4 delays.
        self.assertGreaterEqual(took, 4 * DELAY - 0.002)
        self.assertLess(took, 4 * DELAY + 2 * SLACK)


class EndingTest(unittest.TestCase):
    def test_connections_end_however_the_two_sides_close(self):
        upstream = Upstream()
        upstream.answer_once = True  # answers, then closes
        threading.Thread(target=upstream.serve_forever, daemon=True).start()
        proxy = Proxy(upstream.server_address[1], "--delay-ms", str(DELAY * 1000))
        try:
            for how in ("before the answer", "after the answer", "half first", "reset"):
                s = proxy.connect()
                s.sendall(b"q")
                if how == "before the answer":
                    # The answer then meets a closed socket, the server's FIN a reset one.
                    time.sleep(3 * DELAY)
                elif how == "after the answer":
                    s.recv(100)
                elif how == "half first":
                    s.shutdown(socket.SHUT_WR)
                    time.sleep(6 * DELAY)
                else:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                s.close()
                deadline = time.monotonic() + 2
                while proxy.stats()["active"] and time.monotonic() < deadline:
                    time.sleep(0.02)
                self.assertEqual(proxy.stats()["active"], 0, f"a connection closed {how} stays open")
        finally:
            proxy.close()
            upstream.shutdown()
            upstream.server_close()


class RateTest(unittest.TestCase):
    def test_a_bandwidth_cap_spreads_a_large_write_over_time(self):
        upstream = Upstream()
        upstream.sink = True
        threading.Thread(target=upstream.serve_forever, daemon=True).start()
        # 400 kbit/s: 50 000 bytes need 1 s on the wire, plus the delay.
        proxy = Proxy(upstream.server_address[1], "--delay-ms", "10", "--rate-kbit", "400")
        try:
            with proxy.connect() as s:
                time.sleep(0.05)
                t0 = time.monotonic()
                s.sendall(b"z" * 50_000)
                deadline = t0 + 10
                while sum(len(d) for _, d in upstream.arrivals) < 50_000:
                    self.assertLess(time.monotonic(), deadline)
                    time.sleep(0.01)
                took = upstream.arrivals[-1][0] - t0
        finally:
            proxy.close()
            upstream.shutdown()
            upstream.server_close()
        self.assertGreaterEqual(took, 1.0)
        self.assertLess(took, 1.0 + 0.010 + 0.2)


class CountOnlyTest(unittest.TestCase):
    def test_without_a_delay_it_forwards_at_once_and_keeps_the_old_control_line(self):
        upstream = Upstream()
        threading.Thread(target=upstream.serve_forever, daemon=True).start()
        proxy = Proxy(upstream.server_address[1])
        try:
            with proxy.connect() as s:
                self.assertLess(min(ping(s) for _ in range(5)), SLACK)
            with socket.create_connection(("127.0.0.1", proxy.control), timeout=5) as c:
                first_two = c.makefile().readline().split()[:2]
            self.assertEqual(first_two[0], "1")
        finally:
            proxy.close()
            upstream.shutdown()
            upstream.server_close()


if __name__ == "__main__":
    unittest.main()
