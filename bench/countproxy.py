#!/usr/bin/env python3
"""A TCP forwarder on 127.0.0.1 that counts what a scanner does, optionally as if far away.

nginx's access log only sees requests that finished a handshake, and polling `ss` misses
short connections, so the benchmark puts this forwarder between each scanner and nginx:
every accepted connection is counted, then its bytes are copied both ways until either side
ends. It also estimates the round trips the scanner waited for (see Rounds below).

Latency mode (--delay-ms D, optionally --rate-kbit R): every chunk read from one side at
time t is written to the other side at t + D, in order, each connection on its own timers,
so a hundred parallel connections each see the delay instead of queueing behind each other.
The TCP handshake to the proxy completes at once on loopback, where a real one costs a round
trip before the client may send; the forwarder adds that cost back: nothing a client sends is
forwarded before one round trip (2 D) after its connection was accepted, and nothing the
server sends reaches the client before 3 D. With --rate-kbit each direction is one link of
that bandwidth shared by all connections (like a site's access line): a chunk waits until
the link has sent the chunks before it, then needs its size / rate on the wire.

Rounds: a connection's client flight is what the client sends between two moments it heard
from the server. It is given the round 1 + the highest round of anything any connection had
delivered to the client by then (a scanner's next step usually depends on some earlier
answer, on this or another connection; this is the pessimistic reading), and the TCP
handshake is one round of its own. The server's answer carries the round of the flight it
answers. `depth` is the highest round seen: the round trips on the critical path, so with a
delay D a tool needs at least depth x 2 D of wall time. `round_trips` counts every answered
client flight plus one TCP handshake per connection, over all connections.

Two listening ports, both on 127.0.0.1 and chosen by the kernel:
  data port     scanners connect here; the forwarder connects to the upstream for each one.
  control port  a connection here gets one line and is not counted:
                  "<accepted> <active> <round_trips> <depth> <late_mean_ms> <late_max_ms>"
                (late_*: how much later than planned the forwarder wrote its chunks, i.e. how
                faithful the delay was). If the client then sends "reset\\n", every counter
                but <active> restarts from zero and "ok" is answered: one measurement per tool.

The chosen ports are written as "<data> <control>" to --port-file once both are listening.
Without a delay the forwarder still adds its own cost per connection, which is why the
benchmark then times the tools against nginx directly and uses it only for the counting run.
"""

import argparse
import asyncio
import os
import signal
import socket
import struct

BUFFER = 64 * 1024
# Chunks in flight per direction and connection; a full queue stops reading from the sender
# (at most 16 MiB per direction), as a full TCP window would.
QUEUE_CHUNKS = 256
CONNECT_TIMEOUT = 10.0
# After one direction ended, how long the other may still run before the connection is cut.
LINGER = 30.0
CONTROL_TIMEOUT = 5.0

DATA, EOF, RESET = "data", "eof", "reset"


class Link:
    """One direction of the simulated path, shared by every connection."""

    def __init__(self, delay, rate_kbit):
        self.delay = delay
        self.bits_per_second = rate_kbit * 1000.0
        self.free_at = 0.0

    def arrival(self, sent_at, size):
        """When a chunk of `size` bytes sent at `sent_at` arrives at the other end."""
        if self.bits_per_second:
            start = max(sent_at, self.free_at)
            self.free_at = start + size * 8 / self.bits_per_second
            sent_at = self.free_at
        return sent_at + self.delay


class Stats:
    def __init__(self):
        self.active = 0
        self.reset()

    def reset(self):
        self.accepted = 0
        self.round_trips = 0
        self.depth = 0
        # The highest round delivered to any client so far (see Rounds in the module doc).
        self.level = 0
        self.late_sum = 0.0
        self.late_max = 0.0
        self.chunks = 0

    def delivered(self, lateness):
        self.chunks += 1
        self.late_sum += max(lateness, 0.0)
        self.late_max = max(self.late_max, lateness)

    def line(self):
        mean = self.late_sum / self.chunks if self.chunks else 0.0
        return (
            f"{self.accepted} {self.active} {self.round_trips} {self.depth} "
            f"{mean * 1000:.2f} {self.late_max * 1000:.2f}"
        )


class Conversation:
    """Round bookkeeping for one connection."""

    def __init__(self, stats):
        self.stats = stats
        self.connect_round = stats.level + 1
        stats.depth = max(stats.depth, self.connect_round)
        stats.round_trips += 1
        self.flights = []  # client flights: [arrival at the server, round]
        self.heard = True  # the client received data since its last flight started
        self.answered = -1  # index of the last flight the server has answered
        self.server_round = self.connect_round

    def client_chunk(self, _read_at, arrives_at):
        if self.heard:
            self.heard = False
            self.flights.append([arrives_at, max(self.stats.level, self.connect_round) + 1])
        return 0

    def server_chunk(self, read_at, _arrives_at):
        # The newest client flight that had reached the server when it sent this.
        i = self.answered
        while i + 1 < len(self.flights) and self.flights[i + 1][0] <= read_at:
            i += 1
        if i > self.answered:
            self.answered = i
            self.server_round = self.flights[i][1]
            self.stats.round_trips += 1
        return self.server_round

    def delivered_to_client(self, rnd):
        self.heard = True
        self.stats.level = max(self.stats.level, rnd)
        self.stats.depth = max(self.stats.depth, rnd)


def hard_close(writer):
    """Close with RST instead of FIN, so a reset by one side reaches the other as a reset."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.close()


async def collect(reader, queue, link, earliest, on_chunk):
    """Read one side and queue every chunk with the time it is due at the other side."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            data = await reader.read(BUFFER)
        except (ConnectionError, OSError):
            data = None
        now = loop.time()
        due = link.arrival(max(now, earliest), len(data or b""))
        if data is None:
            await queue.put((due, RESET, b"", 0))
            return
        if not data:
            await queue.put((due, EOF, b"", 0))
            return
        await queue.put((due, DATA, data, on_chunk(now, due)))


async def deliver(queue, writer, stats, on_delivered):
    """Write each queued chunk when it is due. Returns "eof" after a clean end, "reset" when
    the source broke, "gone" when the destination did (the rest is then discarded)."""
    loop = asyncio.get_running_loop()
    gone = False
    while True:
        due, kind, data, rnd = await queue.get()
        wait = due - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        if kind == RESET:
            return "gone" if gone else "reset"
        if not gone and writer.is_closing():
            gone = True
        if gone:
            if kind == EOF:
                return "gone"
            continue
        try:
            if kind == EOF:
                if writer.can_write_eof():
                    writer.write_eof()
                return "eof"
            stats.delivered(loop.time() - due)
            writer.write(data)
            await writer.drain()
        except (ConnectionError, OSError):
            if kind == EOF:
                return "gone"
            gone = True
            continue
        on_delivered(rnd)


async def relay(stats, upstream, delay, links, client_reader, client_writer):
    loop = asyncio.get_running_loop()
    accepted_at = loop.time()
    stats.accepted += 1
    stats.active += 1
    conversation = Conversation(stats)
    tasks = []
    try:
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(*upstream), CONNECT_TIMEOUT
            )
        except (OSError, asyncio.TimeoutError):
            # A refused connection is known to the client one round trip after it asked.
            await asyncio.sleep(max(0.0, accepted_at + 2 * delay - loop.time()))
            hard_close(client_writer)
            return
        for w in (client_writer, up_writer):
            sock = w.get_extra_info("socket")
            if sock is not None:
                try:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                except OSError:
                    pass  # already reset by the peer: the collectors will see it
        up_link, down_link = links
        forward_q = asyncio.Queue(QUEUE_CHUNKS)
        backward_q = asyncio.Queue(QUEUE_CHUNKS)
        tasks = [
            # A real client may send once its SYN went out and the SYN-ACK came back; a real
            # server once the client's ACK arrived: 2 D and 3 D after the SYN left.
            asyncio.ensure_future(collect(
                client_reader, forward_q, up_link, accepted_at + 2 * delay,
                conversation.client_chunk)),
            asyncio.ensure_future(collect(
                up_reader, backward_q, down_link, accepted_at + 3 * delay,
                conversation.server_chunk)),
        ]
        deliveries = {
            asyncio.ensure_future(deliver(forward_q, up_writer, stats, lambda _r: None)),
            asyncio.ensure_future(deliver(
                backward_q, client_writer, stats, conversation.delivered_to_client)),
        }
        tasks += deliveries
        pending = deliveries
        first = True
        while pending:
            done, pending = await asyncio.wait(
                pending, timeout=None if first else LINGER, return_when=asyncio.FIRST_COMPLETED
            )
            if not done:
                break
            first = False
            if any(t.result() == "reset" for t in done):
                hard_close(client_writer)
                hard_close(up_writer)
        for w in (client_writer, up_writer):
            w.close()
    except asyncio.CancelledError:
        pass  # the forwarder is stopping
    finally:
        for t in tasks:
            t.cancel()
        stats.active -= 1


async def control(stats, reader, writer):
    writer.write(f"{stats.line()}\n".encode())
    try:
        await writer.drain()
        command = await asyncio.wait_for(reader.readline(), CONTROL_TIMEOUT)
        if command.strip() == b"reset":
            stats.reset()
            writer.write(b"ok\n")
            await writer.drain()
    except (ConnectionError, OSError, asyncio.TimeoutError):
        pass
    finally:
        writer.close()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="host:port to forward to (127.0.0.1 only)")
    parser.add_argument("--port-file", required=True, help="where to write '<data> <control>'")
    parser.add_argument("--delay-ms", type=float, default=0.0,
                        help="one-way delay added in each direction (RTT = 2 x this)")
    parser.add_argument("--rate-kbit", type=float, default=0.0,
                        help="bandwidth of each direction, shared by all connections (0: no cap)")
    args = parser.parse_args()
    host, _, port = args.upstream.rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        parser.error("the benchmark only ever forwards to 127.0.0.1")
    if args.delay_ms < 0 or args.rate_kbit < 0:
        parser.error("--delay-ms and --rate-kbit must not be negative")
    upstream = ("127.0.0.1", int(port))
    delay = args.delay_ms / 1000.0
    links = (Link(delay, args.rate_kbit), Link(delay, args.rate_kbit))

    stats = Stats()
    data = await asyncio.start_server(
        lambda r, w: relay(stats, upstream, delay, links, r, w), "127.0.0.1", 0, backlog=1024
    )
    ctl = await asyncio.start_server(lambda r, w: control(stats, r, w), "127.0.0.1", 0)
    data_port = data.sockets[0].getsockname()[1]
    control_port = ctl.sockets[0].getsockname()[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{data_port} {control_port}\n")
    os.replace(tmp, args.port_file)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    data.close()
    ctl.close()


if __name__ == "__main__":
    asyncio.run(main())
