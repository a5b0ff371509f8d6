"""PRODUCT.md section 1: the command line and process-level rules."""

import json
import socket
import unittest

from harness import Server, curl, run, write_temp


class ProcessRules(unittest.TestCase):
    def assert_fails_with(self, args, fragment):
        code, out, err = run(*args)
        self.assertEqual(code, 2, err)
        lines = err.strip().splitlines()
        self.assertEqual(len(lines), 1, f"expected one line on stderr, got: {err!r}")
        self.assertIn(fragment, lines[0])
        self.assertEqual(out, "")

    def test_version_and_help(self):
        code, out, _ = run("--version")
        self.assertEqual(code, 0)
        self.assertRegex(out, r"^switchboard \d+\.\d+\.\d+\n$")
        code, out, _ = run("--help")
        self.assertEqual(code, 0)
        for flag in ("--headless", "--host", "--port", "--ws-port", "--config", "--catalog",
                     "--plugins", "--token", "--client-token", "--version", "--help"):
            self.assertIn(flag, out)

    def test_bad_flags(self):
        self.assert_fails_with(["--headless", "--bogus"], "bogus")
        self.assert_fails_with(["--headless", "--port", "70000"], "--port")
        self.assert_fails_with(["--headless", "--port", "abc"], "--port")
        self.assert_fails_with(["--headless", "--port"], "port")

    def test_taken_port(self):
        with socket.socket() as blocker:
            blocker.bind(("127.0.0.1", 0))
            blocker.listen()
            port = blocker.getsockname()[1]
            self.assert_fails_with(["--headless", "--port", str(port)], str(port))

    def test_bad_config_files(self):
        self.assert_fails_with(["--headless", "--config", "/nonexistent/switchboard.json"],
                               "/nonexistent/switchboard.json")
        for text, fragment in (("{not json", "invalid config file"),
                               ("[1, 2]", "JSON object"),
                               ('{"port": "eighty"}', '"port"'),
                               ('{"colour": "blue"}', '"colour"'),
                               ('{"limits": {"maxHeadBytes": -1}}', "limits.maxHeadBytes")):
            path = write_temp(text)
            try:
                self.assert_fails_with(["--headless", "--config", path], fragment)
            finally:
                import os
                os.unlink(path)

    def test_beyond_loopback_needs_admin_token(self):
        self.assert_fails_with(["--headless", "--host", "0.0.0.0", "--port", "0"], "token")

    def test_flags_override_config(self):
        server = Server("--port", "0", config=json.dumps({"port": 1, "host": "127.0.0.1"}))
        try:
            self.assertNotEqual(server.port, 1)
            status, body = curl(server.url(path="/health"))
            self.assertEqual((status, json.loads(body)), (200, {"status": "ok"}))
        finally:
            self.assertEqual(server.terminate(), 0)

    def test_listening_lines_and_sigint(self):
        server = Server("--ws-port", "0")
        try:
            self.assertEqual([l[0] for l in server.listeners], ["http", "ws"])
            self.assertNotEqual(server.listeners[0][2], server.listeners[1][2])
            status, body = curl(server.url(path="/health"))
            self.assertEqual(status, 200)
            # A plain request on the WebSocket port is told to upgrade.
            status, _ = curl(server.url(path="/health", listener=1))
            self.assertEqual(status, 426)
        finally:
            import signal
            self.assertEqual(server.terminate(signal.SIGINT), 0)

    def test_http_side_with_curl(self):
        server = Server()
        try:
            status, body = curl(server.url(path="/health"))
            self.assertEqual((status, json.loads(body)), (200, {"status": "ok"}))
            status, body = curl(server.url(path="/no/such/thing"))
            self.assertEqual(status, 404)
            self.assertEqual(json.loads(body)["status"], 404)
            # An upgrade without a subprotocol is refused before the upgrade.
            status, body = curl("-H", "Connection: Upgrade", "-H", "Upgrade: websocket",
                                "-H", "Sec-WebSocket-Version: 13",
                                "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                                server.url(path="/ws"))
            self.assertEqual(status, 400)
            self.assertIn("supported", json.loads(body))
        finally:
            self.assertEqual(server.terminate(), 0)


if __name__ == "__main__":
    unittest.main()
