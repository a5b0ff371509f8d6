"""The real process with an outside WebSocket client (Python `websockets`)."""

import asyncio
import json
import os
import unittest

import websockets

from harness import Server


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 20))


class WebSocketClients(unittest.TestCase):
    def setUp(self):
        self.server = Server()

    def tearDown(self):
        self.server.kill()

    def ws_url(self, path="/rpc"):
        return self.server.url("ws", path)

    def test_jsonrpc_calls(self):
        async def scenario():
            async with websockets.connect(self.ws_url(), subprotocols=["nope", "jsonrpc"]) as ws:
                self.assertEqual(ws.subprotocol, "jsonrpc")
                await ws.send(json.dumps({"jsonrpc": "2.0", "method": "echo",
                                          "params": {"a": [1, 2]}, "id": "r1"}))
                self.assertEqual(json.loads(await ws.recv()),
                                 {"jsonrpc": "2.0", "result": {"a": [1, 2]}, "id": "r1"})
                await ws.send(json.dumps({"jsonrpc": "2.0", "method": "sum", "params": [1, 2, 3.5], "id": 7}))
                self.assertEqual(json.loads(await ws.recv()), {"jsonrpc": "2.0", "result": 6.5, "id": 7})
                await ws.send("{not json")
                reply = json.loads(await ws.recv())
                self.assertEqual((reply["error"]["code"], reply["id"]), (-32700, None))
        run(scenario())

    def test_dm_rpc_calls(self):
        async def scenario():
            async with websockets.connect(self.ws_url(), subprotocols=["dm-rpc"]) as ws:
                self.assertEqual(ws.subprotocol, "dm-rpc")
                await ws.send(json.dumps(["echo", {"x": 1}, "q1"]))
                self.assertEqual(json.loads(await ws.recv()), ["echo", {"x": 1}, "q1"])
        run(scenario())

    def test_unsupported_subprotocol_refused(self):
        async def scenario():
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as caught:
                async with websockets.connect(self.ws_url(), subprotocols=["mqtt"]):
                    pass
            self.assertEqual(caught.exception.status_code, 400)
        run(scenario())

    def test_sigterm_sends_1001_and_exits_0(self):
        async def scenario():
            async with websockets.connect(self.ws_url(), subprotocols=["jsonrpc"]) as ws:
                self.server.proc.terminate()
                await ws.wait_closed()
                self.assertEqual(ws.close_code, 1001)
        run(scenario())
        self.assertEqual(self.server.proc.wait(10), 0)


@unittest.skipUnless(os.environ.get("SWITCHBOARD_WITH_GUI") == "1", "built without the dashboard")
class WindowProcess(unittest.TestCase):
    """The dashboard build, window open (offscreen): SIGTERM must stop it as
    cleanly as the headless server (the session manager or `kill` ends it)."""

    def test_sigterm_with_window_sends_1001_and_exits_0(self):
        server = Server.with_window()
        try:
            async def scenario():
                async with websockets.connect(server.url("ws", "/rpc"), subprotocols=["jsonrpc"]) as ws:
                    await ws.send(json.dumps({"jsonrpc": "2.0", "method": "echo", "params": [1], "id": 1}))
                    self.assertEqual(json.loads(await ws.recv())["result"], [1])
                    server.proc.terminate()
                    await ws.wait_closed()
                    self.assertEqual(ws.close_code, 1001)
            run(scenario())
            self.assertEqual(server.proc.wait(15), 0)
        finally:
            server.kill()


if __name__ == "__main__":
    unittest.main()
