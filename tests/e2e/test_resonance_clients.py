"""PRODUCT.md section 3: requests as Resonance's clients send them, and
clients that offer no subprotocol ("defaultSubprotocol").

The Resonance messages are the exact texts of its documentation: the echo
example with a bare string as params and a uuid4 string as id, and the chat
tutorial's request without an id. The 101 response's headers are read from a
raw socket, since a client library would hide what the server sent."""

import asyncio
import base64
import hashlib
import json
import os
import socket
import struct
import time
import unittest
import uuid

import websockets
from websockets.exceptions import InvalidStatusCode

from harness import Server, curl, run, write_temp

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def run_async(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


def same_json(a, b):
    """Equal as JSON texts: unlike ==, 1 is not true and 1.0 is not 1."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


class RawWebSocket:
    """A WebSocket handshake and frames written by hand on a plain socket."""

    def __init__(self, port, subprotocols=None, path="/rpc"):
        self.key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {self.key}", "Sec-WebSocket-Version: 13"]
        if subprotocols is not None:
            lines.append("Sec-WebSocket-Protocol: " + ", ".join(subprotocols))
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise AssertionError(f"connection closed before a complete response head: {data!r}")
            data += chunk
        head, _, self.buffer = data.partition(b"\r\n\r\n")
        status_line, *fields = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split(" ")[1])
        self.headers = [(name.strip().lower(), value.strip())
                        for name, _, value in (field.partition(":") for field in fields)]
        self.body = b""
        if self.status != 101:
            # A refusal is a complete response, then the server closes.
            while True:
                chunk = self.sock.recv(4096)
                if not chunk:
                    break
                self.buffer += chunk
            self.body = self.buffer
            self.sock.close()

    def header(self, name):
        values = [value for key, value in self.headers if key == name.lower()]
        return values[0] if values else None

    def header_names(self):
        return [key for key, _ in self.headers]

    def expected_accept(self):
        return base64.b64encode(hashlib.sha1(self.key.encode() + WS_GUID).digest()).decode()

    def send_frame(self, opcode, payload):
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def send_text(self, text):
        self.send_frame(0x1, text.encode())

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError("connection closed by the server")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def recv_frame(self):
        """(opcode, payload) of one unfragmented, unmasked server frame."""
        b0, b1 = self._read(2)
        if b1 & 0x80:
            raise AssertionError("the server masked a frame")
        length = b1 & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._read(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._read(8))[0]
        return b0 & 0x0F, self._read(length)

    def recv_json(self):
        opcode, payload = self.recv_frame()
        if opcode != 0x1:
            raise AssertionError(f"expected a text frame, got opcode {opcode}: {payload!r}")
        return json.loads(payload)

    def close(self):
        """Sends close 1000 and returns the code of the server's close frame."""
        self.send_frame(0x8, struct.pack("!H", 1000))
        opcode, payload = self.recv_frame()
        self.sock.close()
        if opcode != 0x8:
            raise AssertionError(f"expected a close frame, got opcode {opcode}")
        return struct.unpack("!H", payload[:2])[0]


class ServerCase(unittest.TestCase):
    config = None

    def setUp(self):
        self.server = Server(config=self.config)

    def tearDown(self):
        self.server.kill()

    def ws_url(self, path="/rpc"):
        return self.server.url("ws", path)

    def connections(self, count=1):
        """GET /api/connections once it lists `count` connections."""
        deadline = time.monotonic() + 5
        while True:
            status, body = curl(self.server.url(path="/api/connections"))
            self.assertEqual(status, 200, body)
            entries = json.loads(body)
            if len(entries) == count or time.monotonic() > deadline:
                self.assertEqual(len(entries), count, entries)
                return entries
            time.sleep(0.05)


class ResonanceRequests(ServerCase):
    """Resonance's request envelope, accepted unchanged on `jsonrpc`."""

    def test_echo_example_with_uuid_id(self):
        request_id = str(uuid.uuid4())
        text = '{"jsonrpc":"2.0","method":"echo","params":"hello","id":"%s"}' % request_id

        async def scenario():
            async with websockets.connect(self.ws_url(), subprotocols=["jsonrpc"]) as ws:
                self.assertEqual(ws.subprotocol, "jsonrpc")
                await ws.send(text)
                return json.loads(await ws.recv())
        reply = run_async(scenario())
        self.assertEqual(reply, {"jsonrpc": "2.0", "result": "hello", "id": request_id})

    def test_params_of_every_json_type(self):
        params_texts = ['"hello"', '""', '42', '0', '-7.25', 'true', 'false', 'null',
                        '{"message":"hi","nested":{"list":[1,{}]}}', '{}',
                        '[1,"two",null,true,{"x":[]}]', '[]']

        async def scenario():
            replies = []
            async with websockets.connect(self.ws_url(), subprotocols=["jsonrpc"]) as ws:
                for i, params in enumerate(params_texts):
                    request_id = str(uuid.uuid4())
                    await ws.send('{"jsonrpc":"2.0","method":"echo","params":%s,"id":"%s"}' % (params, request_id))
                    replies.append((params, request_id, json.loads(await ws.recv())))
            return replies
        for params, request_id, reply in run_async(scenario()):
            with self.subTest(params=params):
                expected = {"jsonrpc": "2.0", "result": json.loads(params), "id": request_id}
                self.assertTrue(same_json(reply, expected), f"{reply!r} != {expected!r}")

    def test_request_without_id_is_a_notification_by_default(self):
        # The chat tutorial's request: no id. JSON-RPC 2.0 answers nothing,
        # so the reply to the next call must be the next message.
        for config in (None, '{"resonanceCompat": false}'):
            with self.subTest(config=config):
                server = Server(config=config) if config else self.server

                async def scenario():
                    async with websockets.connect(server.url("ws", "/chat"), subprotocols=["jsonrpc"]) as ws:
                        await ws.send('{"jsonrpc":"2.0","method":"echo","params":{"message":"hi"}}')
                        await ws.send('{"jsonrpc":"2.0","method":"echo","params":["after"],"id":"after-1"}')
                        first = json.loads(await ws.recv())
                        await ws.send('{"jsonrpc":"2.0","method":"echo","params":{"again":true},"id":2}')
                        second = json.loads(await ws.recv())
                        return first, second
                try:
                    first, second = run_async(scenario())
                finally:
                    if server is not self.server:
                        server.kill()
                self.assertEqual(first, {"jsonrpc": "2.0", "result": ["after"], "id": "after-1"})
                self.assertEqual(second, {"jsonrpc": "2.0", "result": {"again": True}, "id": 2})


class ResonanceCompat(ServerCase):
    config = '{"resonanceCompat": true}'

    def test_request_without_id_gets_reply_with_null_id(self):
        async def scenario():
            async with websockets.connect(self.ws_url("/chat"), subprotocols=["jsonrpc"]) as ws:
                await ws.send('{"jsonrpc":"2.0","method":"echo","params":{"message":"hi"}}')
                first = json.loads(await ws.recv())
                await ws.send('{"jsonrpc":"2.0","method":"echo","params":"with id","id":"x1"}')
                second = json.loads(await ws.recv())
                return first, second
        first, second = run_async(scenario())
        self.assertIn("id", first)
        self.assertEqual(first, {"jsonrpc": "2.0", "result": {"message": "hi"}, "id": None})
        self.assertEqual(second, {"jsonrpc": "2.0", "result": "with id", "id": "x1"})

    def test_uuid_ids_unchanged(self):
        request_id = str(uuid.uuid4())

        async def scenario():
            async with websockets.connect(self.ws_url(), subprotocols=["jsonrpc"]) as ws:
                await ws.send('{"jsonrpc":"2.0","method":"echo","params":"hello","id":"%s"}' % request_id)
                return json.loads(await ws.recv())
        self.assertEqual(run_async(scenario()), {"jsonrpc": "2.0", "result": "hello", "id": request_id})


class NoSubprotocolByDefault(ServerCase):
    def test_handshake_without_subprotocol_refused_with_400(self):
        raw = RawWebSocket(self.server.port)
        self.assertEqual(raw.status, 400, raw.body)
        for name in ("jsonrpc", "dm-rpc"):
            self.assertIn(name.encode(), raw.body, "the body names the supported subprotocols")

        async def scenario():
            with self.assertRaises(InvalidStatusCode) as caught:
                async with websockets.connect(self.ws_url()):
                    pass
            self.assertEqual(caught.exception.status_code, 400)
        run_async(scenario())
        self.connections(0)


class DefaultJsonRpc(ServerCase):
    config = '{"defaultSubprotocol": "jsonrpc"}'

    def test_101_names_no_subprotocol_and_the_connection_speaks_jsonrpc(self):
        raw = RawWebSocket(self.server.port, path="/plain")
        self.assertEqual(raw.status, 101, raw.body)
        self.assertEqual(raw.header("sec-websocket-accept"), raw.expected_accept())
        self.assertNotIn("sec-websocket-protocol", raw.header_names(),
                         "RFC 6455 4.2.2: no subprotocol the client did not offer")
        entry, = self.connections(1)
        self.assertEqual(entry["subprotocol"], "jsonrpc")
        self.assertIs(entry.get("subprotocolDefaulted"), True)
        self.assertEqual(entry["path"], "/plain")

        request_id = str(uuid.uuid4())
        raw.send_text('{"jsonrpc":"2.0","method":"echo","params":"hello","id":"%s"}' % request_id)
        self.assertEqual(raw.recv_json(), {"jsonrpc": "2.0", "result": "hello", "id": request_id})
        raw.send_text('{"jsonrpc":"2.0","method":"sum","params":[1,2,3.5],"id":7}')
        self.assertEqual(raw.recv_json(), {"jsonrpc": "2.0", "result": 6.5, "id": 7})
        raw.send_text('{"jsonrpc":"2.0","method":"no.such.method","id":8}')
        reply = raw.recv_json()
        self.assertEqual((reply["id"], reply["error"]["code"], reply["error"]["data"]),
                         (8, -32601, {"reason": "unknown"}))
        self.assertEqual(raw.close(), 1000)

    def test_websockets_client_offering_nothing(self):
        async def scenario():
            async with websockets.connect(self.ws_url()) as ws:
                self.assertIsNone(ws.subprotocol)
                entry, = await asyncio.to_thread(self.connections, 1)
                self.assertEqual((entry["subprotocol"], entry.get("subprotocolDefaulted")), ("jsonrpc", True))
                await ws.send(json.dumps({"jsonrpc": "2.0", "method": "subscribe", "params": {"topic": "t"}, "id": 1}))
                self.assertEqual(json.loads(await ws.recv()), {"jsonrpc": "2.0", "result": True, "id": 1})
                await ws.send(json.dumps({"jsonrpc": "2.0", "method": "publish",
                                          "params": {"topic": "t", "data": [1, "x"]}, "id": 2}))
                messages = [json.loads(await ws.recv()), json.loads(await ws.recv())]
                self.assertIn({"jsonrpc": "2.0", "result": 1, "id": 2}, messages)
                self.assertIn({"jsonrpc": "2.0", "method": "event", "params": {"topic": "t", "data": [1, "x"]}},
                              messages)
        run_async(scenario())

    def test_offered_subprotocols_still_named_and_not_defaulted(self):
        for offered, chosen in ((["dm-rpc"], "dm-rpc"), (["mqtt", "jsonrpc"], "jsonrpc")):
            with self.subTest(offered=offered):
                raw = RawWebSocket(self.server.port, subprotocols=offered)
                self.assertEqual(raw.status, 101, raw.body)
                self.assertEqual(raw.header("sec-websocket-protocol"), chosen)
                entry, = self.connections(1)
                self.assertEqual(entry["subprotocol"], chosen)
                self.assertFalse(entry.get("subprotocolDefaulted", False))
                self.assertEqual(raw.close(), 1000)
                self.connections(0)

        async def scenario():
            async with websockets.connect(self.ws_url(), subprotocols=["dm-rpc"]) as ws:
                self.assertEqual(ws.subprotocol, "dm-rpc")
                await ws.send(json.dumps(["echo", {"x": 1}, "q1"]))
                self.assertEqual(json.loads(await ws.recv()), ["echo", {"x": 1}, "q1"])
        run_async(scenario())

    def test_only_unsupported_offers_still_refused(self):
        raw = RawWebSocket(self.server.port, subprotocols=["mqtt", "soap"])
        self.assertEqual(raw.status, 400, raw.body)
        self.assertIn(b"jsonrpc", raw.body)

        async def scenario():
            with self.assertRaises(InvalidStatusCode) as caught:
                async with websockets.connect(self.ws_url(), subprotocols=["mqtt"]):
                    pass
            self.assertEqual(caught.exception.status_code, 400)
        run_async(scenario())
        self.connections(0)


class DefaultDmRpc(ServerCase):
    config = '{"defaultSubprotocol": "dm-rpc"}'

    def test_tuples_without_an_offer(self):
        raw = RawWebSocket(self.server.port)
        self.assertEqual(raw.status, 101, raw.body)
        self.assertNotIn("sec-websocket-protocol", raw.header_names())
        entry, = self.connections(1)
        self.assertEqual((entry["subprotocol"], entry.get("subprotocolDefaulted")), ("dm-rpc", True))
        raw.send_text('["echo","hello","r1"]')
        self.assertEqual(raw.recv_json(), ["echo", "hello", "r1"])
        self.assertEqual(raw.close(), 1000)
        self.connections(0)

        async def scenario():
            async with websockets.connect(self.ws_url()) as ws:
                self.assertIsNone(ws.subprotocol)
                await ws.send(json.dumps(["sum", [1, 2, 3.5], 9]))
                self.assertEqual(json.loads(await ws.recv()), ["sum", 6.5, 9])
            # Offering jsonrpc still gets jsonrpc.
            async with websockets.connect(self.ws_url(), subprotocols=["jsonrpc"]) as ws:
                self.assertEqual(ws.subprotocol, "jsonrpc")
                await ws.send('{"jsonrpc":"2.0","method":"echo","params":"hello","id":"j"}')
                self.assertEqual(json.loads(await ws.recv()), {"jsonrpc": "2.0", "result": "hello", "id": "j"})
        run_async(scenario())


class ConfigValues(unittest.TestCase):
    def test_valid_values_start(self):
        for text in ('{"defaultSubprotocol": "jsonrpc"}', '{"defaultSubprotocol": "dm-rpc"}',
                     '{"resonanceCompat": true, "defaultSubprotocol": "jsonrpc"}', '{"resonanceCompat": false}'):
            with self.subTest(config=text):
                server = Server(config=text)
                try:
                    status, body = curl(server.url(path="/health"))
                    self.assertEqual(status, 200, body)
                finally:
                    self.assertEqual(server.terminate(), 0)

    def test_invalid_values_refuse_to_start(self):
        for text, key in (('{"defaultSubprotocol": "soap"}', "defaultSubprotocol"),
                          ('{"defaultSubprotocol": ""}', "defaultSubprotocol"),
                          ('{"defaultSubprotocol": 1}', "defaultSubprotocol"),
                          ('{"resonanceCompat": "yes"}', "resonanceCompat")):
            with self.subTest(config=text):
                path = write_temp(text)
                try:
                    code, out, err = run("--headless", "--port", "0", "--config", path)
                finally:
                    os.unlink(path)
                self.assertEqual(code, 2, err)
                lines = err.strip().splitlines()
                self.assertEqual(len(lines), 1, f"expected one line on stderr, got: {err!r}")
                self.assertIn(key, lines[0])
                self.assertEqual(out, "")


if __name__ == "__main__":
    unittest.main()
