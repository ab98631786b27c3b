"""`Sandbox`: a scenario served as a live cluster on loopback (Kubernetes API + Prometheus API)."""

from __future__ import annotations

import email.utils
import gc
import importlib
import json
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.kubeapi.handler import KubeApi
from sandbox.kubeapi.http import Request, Response

PROMETHEUS_PREFIX = "/prometheus"


class SandboxError(Exception):
    """The sandbox could not start (bad scenario, port in use, ...)."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    # socketserver's default listen backlog is 5: a burst of clients (many replicas, many
    # investigations at once) would see connections reset, which no API server does.
    request_queue_size = 256


class Sandbox:
    """A scenario's World behind a threaded HTTP server; use as a context manager."""

    def __init__(
        self,
        scenario: Any,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        speed: float = 1.0,
        latency: float = 0.0,
        kubeconfig_out: Path | None = None,
    ) -> None:
        self.scenario = scenario
        self.host = host
        self.port = port
        self.speed = speed
        self.latency = latency
        self.kubeconfig_out = Path(kubeconfig_out) if kubeconfig_out else None
        self.world: Any = None
        self.kubernetes_url = ""
        self.prometheus_url = ""
        self.kubeconfig: Path | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Build the World, bind the port, write the kubeconfig and start serving."""
        if self.world is None:
            from sandbox.world import World

            scenario = self.scenario
            if isinstance(scenario, str | Path):
                from sandbox.scenario import load_scenario

                scenario = load_scenario(Path(scenario))
            self.world = World(scenario, speed=self.speed)
        # The world is long-lived: keep its objects out of the cycle collector's scans, which
        # otherwise stall a request for ~100 ms whenever a full collection walks 5,000 pods.
        gc.collect()
        gc.freeze()
        api = KubeApi(self.world, should_stop=self._stopping.is_set)
        try:
            self._server = _Server((self.host, self.port), _handler_class(self, api))
        except OSError as e:
            raise SandboxError(f"cannot listen on {self.host}:{self.port}: {e}") from e
        host, port = self._server.server_address[:2]
        self.kubernetes_url = f"http://{host}:{port}"
        self.prometheus_url = self.kubernetes_url + PROMETHEUS_PREFIX
        self.kubeconfig = self._write_kubeconfig()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sandbox-{port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: ends watches, closes the socket; idempotent."""
        self._stopping.set()
        gc.unfreeze()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _write_kubeconfig(self) -> Path:
        if self.kubeconfig_out is not None:
            path = self.kubeconfig_out
            path.parent.mkdir(parents=True, exist_ok=True)
        else:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="sre-bot-sandbox-")
            path = Path(self._tmpdir.name) / "kubeconfig"
        # JSON is valid YAML, and every kubeconfig reader accepts it.
        doc = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "sandbox", "cluster": {"server": self.kubernetes_url}}],
            "users": [{"name": "sandbox", "user": {"token": "sandbox-token"}}],
            "contexts": [{"name": "sandbox", "context": {"cluster": "sandbox", "user": "sandbox"}}],
            "current-context": "sandbox",
            "preferences": {},
        }
        path.write_text(json.dumps(doc, indent=2) + "\n")
        return path

    # -- serving -----------------------------------------------------------------------

    def date_header(self) -> str:
        """The HTTP Date header: the sandbox's clock, not the wall clock."""
        return email.utils.format_datetime(self.world.clock.now(), usegmt=True)


def _prometheus(world: Any, req: Request) -> Response:
    try:
        mod = importlib.import_module("sandbox.prometheus_api")
    except ModuleNotFoundError:
        body = json.dumps(
            {
                "status": "error",
                "errorType": "unavailable",
                "error": "the sandbox's Prometheus API is not installed (sandbox/prometheus_api.py is missing)",
            }
        ).encode()
        return Response(404, body)
    status, headers, body = mod.handle(world, req.method, req.path, req.query, req.body)
    ctype = headers.pop("Content-Type", headers.pop("content-type", "application/json"))
    return Response(status, body, ctype, headers=dict(headers))


def _handler_class(sandbox: Sandbox, api: KubeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "sre-bot-sandbox"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # quiet: tests and `sandbox serve` print what matters themselves

        def _serve(self) -> None:
            if sandbox.latency:
                time.sleep(sandbox.latency)  # a simulated network round trip, for benchmarks
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            req = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            if parts.path == PROMETHEUS_PREFIX or parts.path.startswith(PROMETHEUS_PREFIX + "/"):
                resp = _prometheus(sandbox.world, req)
            else:
                resp = api.handle(req)
            self._write(resp)

        def _write(self, resp: Response) -> None:
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Date", sandbox.date_header())
            for k, v in resp.headers.items():
                self.send_header(k, v)
            if resp.stream is None:
                self.send_header("Content-Length", str(len(resp.body)))
                self.end_headers()
                self.wfile.write(resp.body)
                return
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
            try:
                for chunk in resp.stream:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            finally:
                close = getattr(resp.stream, "close", None)
                if close is not None:
                    close()

        def send_response(self, code: int, message: str | None = None) -> None:
            # BaseHTTPRequestHandler adds its own Date (wall clock); ours is the sandbox's.
            self.log_request(code)
            self.send_response_only(code, message)
            self.send_header("Server", self.version_string())

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler
