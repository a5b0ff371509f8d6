"""Starts the real switchboard binary and reads its listening lines."""

import os
import re
import signal
import socket
import subprocess
import tempfile
import time

BIN = os.environ.get("SWITCHBOARD_BIN", "switchboard")
LISTENING = re.compile(r"^listening (\w+)://([^\s]+):(\d+)$")


class Server:
    """A `switchboard --headless` process on free ports."""

    def __init__(self, *args, config=None, catalog=None):
        self.config_file = None
        self.catalog_file = None
        self.home = None
        argv = [BIN, "--headless", "--port", "0", *args]
        if config is not None:
            self.config_file = write_temp(config)
            argv += ["--config", self.config_file]
        if catalog is not None:
            self.catalog_file = write_temp(catalog)
            argv += ["--catalog", self.catalog_file]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.listeners = []
        self._read_listening_lines(args)

    @classmethod
    def with_window(cls):
        """`switchboard` with its dashboard (offscreen) on a free port, its
        settings in a private home. The window prints no listening lines, so
        the port is chosen here and polled until it answers."""
        self = cls.__new__(cls)
        self.config_file = None
        self.catalog_file = None
        self.home = tempfile.TemporaryDirectory()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=self.home.name,
                   XDG_CONFIG_HOME=self.home.name + "/config", XDG_DATA_HOME=self.home.name + "/data",
                   XDG_STATE_HOME=self.home.name + "/state", XDG_CACHE_HOME=self.home.name + "/cache")
        # The log goes to a file: an unread pipe would stall a chatty process.
        with open(os.path.join(self.home.name, "stderr.log"), "w") as log:
            self.proc = subprocess.Popen([BIN, "--port", str(port)], stdout=subprocess.DEVNULL,
                                         stderr=log, text=True, env=env)
        self.listeners = [("http", "127.0.0.1", port)]
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError("switchboard with its window did not start listening")
                time.sleep(0.1)

    def _read_listening_lines(self, args):
        deadline = time.monotonic() + 10
        expected = 2 if "--ws-port" in args else 1
        while len(self.listeners) < expected:
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("switchboard did not print its listening lines")
            line = self.proc.stdout.readline()
            if not line:
                err = self.proc.stderr.read()
                code = self.proc.wait()
                self.kill()  # closes the pipes, removes the temporary config and catalog files
                raise RuntimeError(f"switchboard exited early ({code}): {err}")
            match = LISTENING.match(line.strip())
            if match:
                self.listeners.append((match.group(1), match.group(2), int(match.group(3))))

    @property
    def port(self):
        return self.listeners[0][2]

    def url(self, scheme="http", path="/", listener=0):
        _, host, port = self.listeners[listener]
        return f"{scheme}://{host}:{port}{path}"

    def terminate(self, sig=signal.SIGTERM, timeout=10):
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        finally:
            self.kill()
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream and not stream.closed:
                stream.close()
        for name in ("config_file", "catalog_file"):
            if getattr(self, name):
                os.unlink(getattr(self, name))
                setattr(self, name, None)
        if self.home:
            self.home.cleanup()
            self.home = None


def write_temp(text, suffix=".json"):
    fd, path = tempfile.mkstemp(suffix=suffix)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


def run(*args, timeout=10):
    """Runs switchboard to completion: (exit code, stdout, stderr)."""
    proc = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout, proc.stderr


def curl(*args):
    """curl with status on the last line: (status, body)."""
    out = subprocess.run(["curl", "-s", "-S", "-w", "\n%{http_code}", *args],
                         capture_output=True, text=True, timeout=10, check=True).stdout
    body, _, status = out.rpartition("\n")
    return int(status), body
