#!/usr/bin/env python3
"""A TCP forwarder on 127.0.0.1 that counts the connections a scanner opens.

nginx's access log only sees requests that finished a handshake, and polling `ss` misses
short connections, so the benchmark puts this proxy between each scanner and nginx: every
accepted connection is counted, then its bytes are copied both ways until either side ends.

Two listening ports, both on 127.0.0.1 and chosen by the kernel:
  data port     scanners connect here; the proxy connects to the upstream for each one.
  control port  a connection here gets one line "<accepted> <active>" and is closed; it is
                not counted. The benchmark reads it before and after a tool's run.

The chosen ports are written as "<data> <control>" to --port-file once both are listening.
The proxy adds the same per-connection cost to every tool, which is why the benchmark times
the tools against nginx directly and uses the proxy only for the counting run.
"""

import argparse
import asyncio
import os
import signal
import socket
import struct

BUFFER = 64 * 1024


class Counter:
    def __init__(self):
        self.accepted = 0
        self.active = 0


def hard_close(writer):
    """Close with RST instead of FIN, so a reset by one side reaches the other as a reset."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.close()


async def pump(reader, writer):
    """Copy reader to writer. Returns "eof" on a clean end, "reset" when the source broke."""
    try:
        while True:
            data = await reader.read(BUFFER)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return "eof"
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        return "reset"


async def relay(counter, upstream, client_reader, client_writer):
    counter.accepted += 1
    counter.active += 1
    try:
        try:
            up_reader, up_writer = await asyncio.open_connection(*upstream)
        except OSError:
            hard_close(client_writer)
            return
        for w in (client_writer, up_writer):
            sock = w.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        forward = asyncio.ensure_future(pump(client_reader, up_writer))
        backward = asyncio.ensure_future(pump(up_reader, client_writer))
        done, _ = await asyncio.wait({forward, backward}, return_when=asyncio.FIRST_COMPLETED)
        if any(t.result() == "reset" for t in done):
            hard_close(client_writer)
            hard_close(up_writer)
        # Each side closes only after both directions ended (or one side reset).
        await asyncio.wait({forward, backward}, timeout=30)
        for w in (client_writer, up_writer):
            w.close()
    finally:
        counter.active -= 1


async def report(counter, _reader, writer):
    writer.write(f"{counter.accepted} {counter.active}\n".encode())
    try:
        await writer.drain()
    finally:
        writer.close()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="host:port to forward to (127.0.0.1 only)")
    parser.add_argument("--port-file", required=True, help="where to write '<data> <control>'")
    args = parser.parse_args()
    host, _, port = args.upstream.rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        parser.error("the benchmark only ever forwards to 127.0.0.1")
    upstream = ("127.0.0.1", int(port))

    counter = Counter()
    data = await asyncio.start_server(
        lambda r, w: relay(counter, upstream, r, w), "127.0.0.1", 0, backlog=1024
    )
    control = await asyncio.start_server(lambda r, w: report(counter, r, w), "127.0.0.1", 0)
    data_port = data.sockets[0].getsockname()[1]
    control_port = control.sockets[0].getsockname()[1]
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
    control.close()


if __name__ == "__main__":
    asyncio.run(main())
