"""Many idle WebSocket connections must not cost the busy ones a reply
(issue 15): 5,000 idle connections stay open while 20 active connections
each make a few hundred calls, every reply checked; then all 5,000 are still
open, on the server's count and on the client's sockets."""

import asyncio
import base64
import errno
import hashlib
import json
import os
import resource
import selectors
import socket
import time
import unittest
import urllib.request

import websockets

from harness import Server

IDLE = 5000
ACTIVE = 20
CALLS = 300           # per active connection
IN_FLIGHT = 16        # outstanding calls per active connection
HANDSHAKES_AT_ONCE = 128
REPLY_WAIT_S = 5      # a reply not there by then is lost
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def raise_descriptor_limit(needed):
    """Soft RLIMIT_NOFILE to the hard limit, for this process and the server it starts."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        return False
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return True


def open_idle(port, count, deadline):
    """`count` WebSocket connections (subprotocol jsonrpc, 101 checked), at most
    HANDSHAKES_AT_ONCE handshakes in flight; returns the open sockets."""
    selector = selectors.DefaultSelector()
    opened, in_flight, started = [], 0, 0
    try:
        while len(opened) < count:
            while in_flight < HANDSHAKES_AT_ONCE and started < count:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setblocking(False)
                err = sock.connect_ex(("127.0.0.1", port))
                if err not in (0, errno.EINPROGRESS):
                    sock.close()
                    raise AssertionError(f"connect: {os.strerror(err)} after {len(opened)} connections")
                key = base64.b64encode(os.urandom(16))
                selector.register(sock, selectors.EVENT_WRITE, {"key": key, "head": b""})
                in_flight += 1
                started += 1
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(opened)} of {count} idle connections opened in time")
            for entry, events in selector.select(timeout=1):
                sock, state = entry.fileobj, entry.data
                if events & selectors.EVENT_WRITE:
                    err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        raise AssertionError(f"connect: {os.strerror(err)} after {len(opened)} connections")
                    sock.send(b"GET /idle HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                              b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n"
                              b"Sec-WebSocket-Protocol: jsonrpc\r\n\r\n" % (port, state["key"]))
                    selector.modify(sock, selectors.EVENT_READ, state)
                    continue
                data = sock.recv(4096)
                if not data:
                    raise AssertionError(f"handshake: connection closed after {len(opened)} connections")
                state["head"] += data
                if b"\r\n\r\n" not in state["head"]:
                    continue
                head, _, rest = state["head"].partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                fields = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
                accept = base64.b64encode(hashlib.sha1(state["key"] + GUID).digest()).decode()
                if not lines[0].startswith("HTTP/1.1 101") or fields.get("sec-websocket-accept") != accept \
                        or fields.get("sec-websocket-protocol") != "jsonrpc" or rest:
                    raise AssertionError(f"handshake {len(opened) + 1}: {state['head'][:300]!r}")
                selector.unregister(sock)
                opened.append(sock)
                in_flight -= 1
        return opened
    except BaseException:
        for entry in list(selector.get_map().values()):
            entry.fileobj.close()
        for sock in opened:
            sock.close()
        raise
    finally:
        selector.close()


def still_open(sock):
    """True while the server has neither closed the connection nor sent a
    close frame (a ping, which the server sends every 30 s, is fine)."""
    try:
        data = sock.recv(65536, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    except OSError:
        return False
    if not data:
        return False
    opcode = data[0] & 0x0F
    return opcode in (0x9, 0xA)


def metric(server, name):
    with urllib.request.urlopen(server.url(path="/metrics"), timeout=10) as reply:
        for line in reply.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    raise AssertionError(f"/metrics has no {name}")


async def call_many(url, index):
    """CALLS echo calls, IN_FLIGHT outstanding; returns the problems seen."""
    problems, expected = [], {}
    async with websockets.connect(url, subprotocols=["jsonrpc"], max_queue=None) as ws:
        sent = 0

        async def send_next():
            nonlocal sent
            call_id = f"a{index}-{sent}"
            params = {"conn": index, "call": sent, "text": "x" * (sent % 50)}
            expected[call_id] = params
            await ws.send(json.dumps({"jsonrpc": "2.0", "method": "echo", "params": params, "id": call_id}))
            sent += 1

        for _ in range(IN_FLIGHT):
            await send_next()
        received = 0
        while received < CALLS:
            try:
                reply = json.loads(await asyncio.wait_for(ws.recv(), REPLY_WAIT_S))
            except asyncio.TimeoutError:
                break  # the calls still expected are reported below
            received += 1
            call_id = reply.get("id")
            if call_id not in expected:
                problems.append(f"connection {index}: reply with an unknown or repeated id: {reply}")
                continue
            params = expected.pop(call_id)
            if reply.get("jsonrpc") != "2.0" or reply.get("result") != params or "error" in reply:
                problems.append(f"connection {index}: wrong reply to {call_id}: {reply}")
            if sent < CALLS:
                await send_next()
    if expected:
        problems.append(f"connection {index}: {len(expected)} calls unanswered after {REPLY_WAIT_S} s, "
                        f"e.g. {next(iter(expected))}")
    return problems


class ManyIdleConnections(unittest.TestCase):
    def setUp(self):
        if not raise_descriptor_limit(IDLE + ACTIVE + 500):
            self.skipTest(f"the descriptor limit (hard) is below {IDLE + ACTIVE + 500}")
        config = {"limits": {"maxConnections": IDLE + ACTIVE + 100, "maxPendingSockets": IDLE + ACTIVE + 100}}
        self.server = Server(config=json.dumps(config))
        self.idle = []

    def tearDown(self):
        for sock in self.idle:
            sock.close()
        self.server.kill()

    def test_active_connections_get_every_reply_beside_5000_idle(self):
        started = time.monotonic()
        self.idle = open_idle(self.server.port, IDLE, deadline=started + 15)
        self.assertEqual(metric(self.server, "switchboard_connections"), IDLE)

        async def active():
            url = self.server.url("ws", "/active")
            results = await asyncio.gather(*(call_many(url, i) for i in range(ACTIVE)))
            return [p for problems in results for p in problems]

        problems = asyncio.run(asyncio.wait_for(active(), 20))
        self.assertEqual(problems[:10], [], f"{len(problems)} problems")

        # The idle ones all stay open: the server counts them (the active ones
        # are gone once their close handshakes are done) and no socket was closed.
        deadline = time.monotonic() + 5
        while metric(self.server, "switchboard_connections") != IDLE and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(metric(self.server, "switchboard_connections"), IDLE)
        self.assertEqual(metric(self.server, "switchboard_connections_opened_total"), IDLE + ACTIVE)
        closed = [i for i, sock in enumerate(self.idle) if not still_open(sock)]
        self.assertEqual(closed[:10], [], f"{len(closed)} idle connections were closed")
        print(f"\n{IDLE} idle + {ACTIVE} x {CALLS} calls: {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    unittest.main()
