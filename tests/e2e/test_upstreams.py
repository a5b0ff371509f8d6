"""PRODUCT.md section 7: methods served by HTTP upstreams.

The real switchboard process, a real upstream process (upstream_fixture.py,
standard-library http.server) and real WebSocket clients (Python `websockets`).
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import unittest
import urllib.request

import websockets

from harness import Server, curl, run as run_switchboard, write_temp

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "upstream_fixture.py")
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "python-backend")
ABSENT = object()


def run(coro, timeout=30):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def closed_port():
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def internal_error(reason, upstream):
    return {"code": -32603, "message": "Internal error", "data": {"reason": reason, "upstream": upstream}}


def request(method, params=ABSENT, id=ABSENT):
    message = {"jsonrpc": "2.0", "method": method}
    if params is not ABSENT:
        message["params"] = params
    if id is not ABSENT:
        message["id"] = id
    return json.dumps(message)


async def recv(ws, timeout=5):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def call(ws, method, params=ABSENT, id=1, timeout=5):
    await ws.send(request(method, params, id))
    return await recv(ws, timeout)


class Upstream:
    """upstream_fixture.py as a process on a free port."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, FIXTURE], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError(f"the upstream fixture did not start: {line!r}")
        self.port = int(line)

    def url(self, path="/rpc"):
        return f"http://127.0.0.1:{self.port}{path}"

    def _fetch(self, path, data=None):
        req = urllib.request.Request(self.url(path), data=data, method="POST" if data is not None else "GET")
        with urllib.request.urlopen(req, timeout=5) as response:
            return json.load(response)

    def requests(self):
        return self._fetch("/_requests")

    def calls(self, method=None):
        """The bodies Switchboard sent, optionally only those of one method."""
        return [r["body"] for r in self.requests() if method is None or r["body"].get("method") == method]

    def stats(self):
        return self._fetch("/_stats")

    def reset(self):
        # A call of an earlier test may still be sleeping in the fixture.
        self.wait_until(lambda: self.stats()["inFlight"] == 0, "the upstream to be idle")
        self._fetch("/_reset", b"")

    def wait_until(self, condition, what, timeout=5):
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.02)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc.stdout.close()


UPSTREAM_HEADERS = {"Authorization": "Bearer backend-secret", "X-Switchboard-Test": "yes"}


def test_catalog(upstream, gone_port):
    methods = [{"name": name, "handler": {"upstream": "fx"}}
               for name in ("ok", "slow", "fail", "status", "garbage", "noresult", "baderror")]
    methods += [
        {"name": "typed", "params": {"type": "object", "required": ["n"]}, "handler": {"upstream": "fx"}},
        {"name": "quick.slow", "handler": {"upstream": "quick"}},
        {"name": "tight.slow", "handler": {"upstream": "tight"}},
        {"name": "gone.ok", "handler": {"upstream": "gone"}},
        {"name": "mirror", "description": "echo under another name", "handler": {"builtin": "echo"}},
        {"name": "plain", "description": "no handler: the default upstream"},
        {"name": "echo"}, {"name": "subscribe"}, {"name": "unsubscribe"}, {"name": "rpc.discover"},
    ]
    return json.dumps({
        "upstreams": {
            "fx": {"url": upstream.url("/rpc/fx?via=switchboard"), "timeoutMs": 5000, "headers": UPSTREAM_HEADERS},
            "quick": {"url": upstream.url("/rpc/quick"), "timeoutMs": 300},
            "tight": {"url": upstream.url("/rpc/tight"), "timeoutMs": 5000, "maxInFlight": 1},
            "gone": {"url": f"http://127.0.0.1:{gone_port}/rpc", "timeoutMs": 2000},
        },
        "upstream": "fx",
        "methods": methods,
    })


class UpstreamCalls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.upstream = Upstream()
        try:
            cls.server = Server(catalog=test_catalog(cls.upstream, closed_port()))
        except BaseException:
            cls.upstream.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.server.kill()
        cls.upstream.stop()

    def setUp(self):
        self.assertIsNone(self.server.proc.poll(), "switchboard exited")
        self.upstream.reset()

    def connect(self, subprotocol="jsonrpc", path="/app", **kwargs):
        return websockets.connect(self.server.url("ws", path), subprotocols=[subprotocol], **kwargs)

    def connection_id(self, ws):
        """The id /api/connections lists for this client (matched by its address)."""
        peer = "%s:%d" % ws.local_address[:2]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            status, body = curl(self.server.url(path="/api/connections"))
            self.assertEqual(status, 200, body)
            for entry in json.loads(body):
                if entry["peer"] == peer:
                    return entry["id"]
            time.sleep(0.05)
        self.fail(f"{peer} is not in /api/connections")

    def assert_healthy(self):
        self.assertIsNone(self.server.proc.poll(), "switchboard exited")
        status, body = curl(self.server.url(path="/health"))
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["status"], "ok")

    # --- results and the body the upstream gets -------------------------------

    def test_result_and_the_exact_body_the_upstream_received(self):
        async def scenario():
            async with self.connect(path="/app", origin="https://app.example.com") as ws:
                connection = {"id": self.connection_id(ws), "subprotocol": "jsonrpc", "path": "/app",
                              "peer": "%s:%d" % ws.local_address[:2], "origin": "https://app.example.com",
                              "user": None}
                sent = [("ok", {"a": [1, 2], "b": None}, "r1"),
                        ("ok", "a bare string", 7),
                        ("ok", ABSENT, 8),
                        ("ok", [1, "two"], None)]
                for method, params, id in sent:
                    reply = await call(ws, method, params, id)
                    body = {"method": method, "params": None if params is ABSENT else params, "id": id,
                            "connection": connection}
                    self.assertEqual(reply, {"jsonrpc": "2.0", "result": body, "id": id})
                return connection, sent
        connection, sent = run(scenario())

        received = self.upstream.requests()
        self.assertEqual([r["body"] for r in received],
                         [{"method": m, "params": None if p is ABSENT else p, "id": i, "connection": connection}
                          for m, p, i in sent])
        for r in received:
            self.assertEqual(r["path"], "/rpc/fx?via=switchboard")
            self.assertEqual(r["httpVersion"], "HTTP/1.1")
            headers = {k.lower(): v for k, v in r["headers"]}
            self.assertEqual(headers["content-type"].split(";")[0].strip(), "application/json")
            self.assertEqual(headers["authorization"], "Bearer backend-secret")
            self.assertEqual(headers["x-switchboard-test"], "yes")
            self.assertNotEqual(headers.get("connection", "").lower(), "close")
        # Keep-alive: one connection's calls one after another reuse one TCP connection.
        self.assertEqual(len({r["peer"] for r in received}), 1, [r["peer"] for r in received])

    def test_connection_without_origin_has_origin_null(self):
        async def scenario():
            async with self.connect(path="/") as ws:
                reply = await call(ws, "ok", {"x": 1}, "n1")
                self.assertEqual(reply["result"]["connection"],
                                 {"id": self.connection_id(ws), "subprotocol": "jsonrpc", "path": "/",
                                  "peer": "%s:%d" % ws.local_address[:2], "origin": None, "user": None})
        run(scenario())

    def test_upstream_error_is_passed_through(self):
        async def scenario():
            async with self.connect() as ws:
                reply = await call(ws, "fail", {"card": "4000"}, 3)
                self.assertEqual(reply, {"jsonrpc": "2.0", "id": 3, "error": {
                    "code": 4001, "message": "card declined",
                    "data": {"method": "fail", "params": {"card": "4000"}}}})
        run(scenario())

    # --- the upstream's failures ----------------------------------------------

    def test_failure_reasons(self):
        cases = [("status", None, internal_error("status 502", "fx")),
                 ("status", {"status": 503}, internal_error("status 503", "fx")),
                 ("status", {"status": 404}, internal_error("status 404", "fx")),
                 ("garbage", None, internal_error("invalid reply", "fx")),
                 ("noresult", None, internal_error("invalid reply", "fx")),
                 ("baderror", None, internal_error("invalid reply", "fx")),
                 ("gone.ok", None, internal_error("unreachable", "gone"))]

        async def scenario():
            async with self.connect() as ws:
                for n, (method, params, error) in enumerate(cases):
                    with self.subTest(method=method, params=params):
                        reply = await call(ws, method, params, n)
                        self.assertEqual(reply, {"jsonrpc": "2.0", "error": error, "id": n})
                # The connection is still good after all that.
                self.assertEqual((await call(ws, "ok", 1, "after"))["result"]["params"], 1)
        run(scenario())
        self.assertEqual(len(self.upstream.calls()), 7)  # six to the fixture, and "after"

    def test_timeout(self):
        async def scenario():
            async with self.connect() as ws:
                started = time.monotonic()
                reply = await call(ws, "quick.slow", {"ms": 3000}, "t")
                elapsed = time.monotonic() - started
                self.assertEqual(reply, {"jsonrpc": "2.0", "error": internal_error("timeout", "quick"), "id": "t"})
                self.assertGreaterEqual(elapsed, 0.25)  # timeoutMs is 300
                self.assertLess(elapsed, 2.5)
                # The same upstream answers a call that is quick enough.
                reply = await call(ws, "quick.slow", {"ms": 10}, "t2")
                self.assertEqual(reply["result"]["method"], "quick.slow")
        run(scenario())

    def test_overloaded_is_refused_at_once(self):
        async def scenario():
            async with self.connect() as first, self.connect() as second:
                await first.send(request("tight.slow", {"ms": 1500}, 1))
                await asyncio.to_thread(self.upstream.wait_until,
                                        lambda: len(self.upstream.calls("tight.slow")) == 1,
                                        "the first call at the upstream")
                started = time.monotonic()
                reply = await call(second, "tight.slow", {"ms": 10}, 2, timeout=5)
                self.assertLess(time.monotonic() - started, 0.7, "overloaded must be refused at once")
                self.assertEqual(reply, {"jsonrpc": "2.0", "error": internal_error("overloaded", "tight"), "id": 2})
                first_reply = await recv(first)
                self.assertEqual((first_reply["id"], first_reply["result"]["method"]), (1, "tight.slow"))
                # The slot is free again once the first call is answered.
                reply = await call(second, "tight.slow", {"ms": 10}, 3)
                self.assertEqual(reply["result"]["params"], {"ms": 10})
        run(scenario())
        self.assertEqual(len(self.upstream.calls("tight.slow")), 2)  # the refused one never went out
        self.assertEqual(self.upstream.stats()["maxInFlight"], 1)

    # --- waiting calls ---------------------------------------------------------

    def test_client_that_leaves_while_its_call_waits(self):
        async def scenario():
            async with self.connect() as other:
                polite = await self.connect()
                await polite.send(request("slow", {"ms": 800}, "p"))
                rude = await self.connect()
                await rude.send(request("slow", {"ms": 800}, "r"))
                await asyncio.to_thread(self.upstream.wait_until,
                                        lambda: len(self.upstream.calls("slow")) == 2, "both slow calls")
                await polite.close()            # a close handshake while the call waits
                rude.transport.abort()          # the TCP connection just drops
                # Others are served meanwhile and afterwards.
                self.assertEqual((await call(other, "ok", "meanwhile", 1))["result"]["params"], "meanwhile")
                await asyncio.to_thread(self.upstream.wait_until,
                                        lambda: self.upstream.stats()["completed"] >= 3, "the slow calls to end")
                await asyncio.sleep(0.3)        # the replies reach connections that are gone
                self.assertEqual((await call(other, "ok", "after", 2))["result"]["params"], "after")
                async with self.connect() as fresh:
                    self.assertEqual((await call(fresh, "ok", "fresh", 3))["result"]["params"], "fresh")
        run(scenario())
        self.assert_healthy()

    def test_calls_on_one_connection_are_answered_as_each_finishes(self):
        async def scenario():
            async with self.connect() as ws:
                started = time.monotonic()
                await ws.send(request("slow", {"ms": 1000}, "slow"))
                await ws.send(request("ok", "quick", "fast"))
                first = await recv(ws)
                fast_after = time.monotonic() - started
                second = await recv(ws)
                self.assertEqual(first["id"], "fast")
                self.assertEqual(first["result"]["params"], "quick")
                self.assertLess(fast_after, 0.8, "the fast call waited for the slow one")
                self.assertEqual(second["id"], "slow")
                self.assertEqual(second["result"]["params"], {"ms": 1000})
        run(scenario())

    def test_notifications_are_forwarded_and_get_no_reply(self):
        async def scenario():
            async with self.connect() as ws:
                await ws.send(request("ok", {"n": 1}))
                await ws.send(request("fail", {"n": 2}))
                await ws.send(request("status", {"n": 3}))
                await asyncio.to_thread(self.upstream.wait_until, lambda: len(self.upstream.calls()) == 3,
                                        "the three notifications at the upstream")
                reply = await call(ws, "ok", "call", 9)
                self.assertEqual((reply["id"], reply["result"]["params"]), (9, "call"))
                with self.assertRaises(asyncio.TimeoutError):
                    message = await recv(ws, timeout=0.5)
                    self.fail(f"a notification was answered: {message}")
        run(scenario())
        notes = [b for b in self.upstream.calls() if b["params"] != "call"]
        self.assertEqual(sorted((b["method"], b["params"]["n"], b["id"]) for b in notes),
                         [("fail", 2, None), ("ok", 1, None), ("status", 3, None)])

    # --- dm-rpc ------------------------------------------------------------------

    def test_dm_rpc_result(self):
        async def scenario():
            async with self.connect("dm-rpc", path="/dm") as ws:
                self.assertEqual(ws.subprotocol, "dm-rpc")
                await ws.send(json.dumps(["ok", {"x": 1}, "q1"]))
                reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
                connection = {"id": self.connection_id(ws), "subprotocol": "dm-rpc", "path": "/dm",
                              "peer": "%s:%d" % ws.local_address[:2], "origin": None, "user": None}
                self.assertEqual(reply, ["ok", {"method": "ok", "params": {"x": 1}, "id": "q1",
                                                "connection": connection}, "q1"])
                await ws.send(json.dumps(["ok", "bare", "q2"]))
                self.assertEqual(json.loads(await asyncio.wait_for(ws.recv(), 5))[1]["params"], "bare")
        run(scenario())

    def test_dm_rpc_upstream_failure_closes_1011(self):
        for method in ("status", "garbage", "gone.ok"):
            with self.subTest(method=method):
                async def scenario():
                    async with self.connect("dm-rpc") as ws:
                        await ws.send(json.dumps([method, None, "q"]))
                        with self.assertRaises(websockets.exceptions.ConnectionClosed):
                            message = await asyncio.wait_for(ws.recv(), 5)
                            self.fail(f"got {message} instead of a close")
                        self.assertEqual(ws.close_code, 1011)
                run(scenario())
        self.assert_healthy()

    # --- handlers in the catalog ---------------------------------------------

    def test_builtin_under_another_name(self):
        async def scenario():
            async with self.connect() as ws:
                self.assertEqual(await call(ws, "mirror", {"x": [1, 2]}, 1),
                                 {"jsonrpc": "2.0", "result": {"x": [1, 2]}, "id": 1})
        run(scenario())
        self.assertEqual(self.upstream.requests(), [])

    def test_default_upstream_serves_a_method_without_handler(self):
        async def scenario():
            async with self.connect() as ws:
                reply = await call(ws, "plain", "hi", 1)
                self.assertEqual((reply["result"]["method"], reply["result"]["params"]), ("plain", "hi"))
                # A built-in without handler stays the built-in, default upstream or not.
                self.assertEqual(await call(ws, "echo", [5], 2), {"jsonrpc": "2.0", "result": [5], "id": 2})
        run(scenario())
        received = self.upstream.requests()
        self.assertEqual([r["body"]["method"] for r in received], ["plain"])
        self.assertEqual(received[0]["path"], "/rpc/fx?via=switchboard")

    def test_validators_run_before_the_upstream(self):
        async def scenario():
            async with self.connect() as ws:
                reply = await call(ws, "typed", {"m": 1}, 1)
                self.assertEqual(reply["error"]["code"], -32602)
                reply = await call(ws, "typed", {"n": 1}, 2)
                self.assertEqual(reply["result"]["params"], {"n": 1})
        run(scenario())
        self.assertEqual([b["params"] for b in self.upstream.calls()], [{"n": 1}])

    def test_rpc_discover_lists_upstream_methods(self):
        async def scenario():
            async with self.connect() as ws:
                reply = await call(ws, "rpc.discover", ABSENT, 1)
                names = {m["name"] for m in reply["result"]["methods"]}
                self.assertLessEqual({"ok", "slow", "fail", "typed", "quick.slow", "tight.slow", "gone.ok",
                                      "mirror", "plain", "echo"}, names)
        run(scenario())
        self.assertEqual(self.upstream.requests(), [])


class CatalogStartUp(unittest.TestCase):
    def assert_refused(self, catalog, fragment):
        path = write_temp(json.dumps(catalog))
        try:
            code, out, err = run_switchboard("--headless", "--port", "0", "--catalog", path)
        finally:
            os.unlink(path)
        self.assertEqual(code, 2, err)
        lines = err.strip().splitlines()
        self.assertEqual(len(lines), 1, f"expected one line on stderr, got: {err!r}")
        self.assertIn(fragment, lines[0])
        self.assertEqual(out, "")

    def test_method_without_builtin_handler_or_default_upstream(self):
        self.assert_refused({"methods": [{"name": "echo"}, {"name": "orders.create"}]}, "orders.create")

    def test_handler_naming_an_upstream_that_is_not_defined(self):
        self.assert_refused({"upstreams": {"fx": {"url": "http://127.0.0.1:9/rpc"}},
                             "methods": [{"name": "orders.create", "handler": {"upstream": "ghost"}}]}, "ghost")


class ExampleBackend(unittest.TestCase):
    """examples/python-backend as a user runs it: the backend, Switchboard with
    the example's catalog, a subscriber that sees notes.add's publish."""

    TOKEN = "example-admin-token"

    def setUp(self):
        with socket.socket() as probe:  # Switchboard's port, for the backend's server-API calls
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.backend = subprocess.Popen(
            [sys.executable, os.path.join(EXAMPLE, "backend.py"), "--port", "0",
             "--switchboard", f"http://127.0.0.1:{port}", "--token", self.TOKEN],
            stdout=subprocess.PIPE, text=True)
        line = self.backend.stdout.readline().strip()
        self.assertTrue(line.startswith("listening http://127.0.0.1:"), line)
        with open(os.path.join(EXAMPLE, "catalog.json")) as f:
            catalog = json.load(f)
        catalog["upstreams"]["notes"]["url"] = line.split(" ", 1)[1] + "/rpc"
        try:
            self.server = Server("--port", str(port), "--token", self.TOKEN, catalog=json.dumps(catalog))
        except BaseException:
            self.stop_backend()
            raise

    def stop_backend(self):
        self.backend.terminate()
        self.backend.wait(10)
        self.backend.stdout.close()

    def tearDown(self):
        self.server.kill()
        self.stop_backend()

    def test_notes_reach_a_subscriber(self):
        url = self.server.url("ws", "/")

        async def scenario():
            async with websockets.connect(url, subprotocols=["jsonrpc"]) as watcher, \
                    websockets.connect(url, subprotocols=["jsonrpc"]) as writer:
                self.assertEqual(await call(watcher, "subscribe", {"topic": "notes"}, 1),
                                 {"jsonrpc": "2.0", "result": True, "id": 1})
                self.assertEqual(await call(writer, "greet", {"name": "Ada"}, 1),
                                 {"jsonrpc": "2.0", "result": "Hello, Ada!", "id": 1})
                added = await call(writer, "notes.add", {"text": "buy milk"}, 2)
                note = added["result"]
                self.assertEqual((note["id"], note["text"], note["reached"]), (1, "buy milk", 1))
                del note["reached"]
                self.assertEqual(await recv(watcher), {"jsonrpc": "2.0", "method": "event",
                                                       "params": {"topic": "notes", "data": {"added": note}}})
                self.assertEqual(await call(watcher, "notes.list", ABSENT, 2),
                                 {"jsonrpc": "2.0", "result": [note], "id": 2})
                self.assertEqual((await call(watcher, "notes.mine", ABSENT, 3))["result"], [])
                self.assertEqual((await call(writer, "notes.mine", ABSENT, 3))["result"], [note])
                # The catalog's schema refuses bad params before the backend sees them.
                self.assertEqual((await call(writer, "notes.add", {"txt": "x"}, 4))["error"]["code"], -32602)
        run(scenario())


if __name__ == "__main__":
    unittest.main()
