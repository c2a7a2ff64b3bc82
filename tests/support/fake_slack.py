"""A local HTTP server that speaks enough of Slack for datahealth's alerts, recording every request.

It implements `chat.postMessage`, `chat.update` and incoming webhooks (`/services/...`) on a free loopback
port, checks what real Slack checks and what datahealth could get wrong (the token, chat.update needs a
channel *id*, a thread_ts must exist, at most 50 blocks and 3,000 characters per text), and keeps the
channel history so tests can assert what a user would see. It is scriptable: queue responses such as
429 with `Retry-After: 1.5` or 500, or take it down entirely (connection refused) and bring it back.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from tests.support.ports import free_port, wait_for_port

TOKEN = "xoxb-fake-test-token-1234567890"


@dataclass
class Request:
    """One request as received: the API method (or webhook path), its status and its JSON body."""

    path: str
    method: str
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    reply_broadcast: bool = False
    edits: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Scripted:
    status: int
    headers: dict[str, str]
    body: str


class FakeSlack:
    """Start with `FakeSlack().start()` (or as a context manager); `api_url` is the slack_sdk base_url."""

    def __init__(self, token: str = TOKEN, channels: set[str] | None = None) -> None:
        self.token = token
        self.port = free_port()
        self.requests: list[Request] = []
        self.messages: list[Message] = []
        self.webhook_messages: dict[str, list[dict[str, Any]]] = {}
        self._known = channels  # None: any channel exists
        self._ids: dict[str, str] = {}
        self._script: deque[Scripted] = deque()
        self._ts = 1_790_000_000
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -----------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def webhook_url(self, name: str = "T000/B000/default") -> str:
        return f"http://127.0.0.1:{self.port}/services/{name}"

    def start(self) -> FakeSlack:
        handler = _handler_for(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-slack", daemon=True)
        self._thread.start()
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        """Go down: the port refuses connections until `start()` again (the history is kept)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # scripting -----------------------------------------------------------------------------------

    def fail_next(
        self, times: int = 1, status: int = 500, retry_after: str | None = None, body: str | None = None
    ) -> None:
        """Answer the next `times` requests with `status` (429 gets `Retry-After: retry_after`)."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        default = (
            json.dumps({"ok": False, "error": "ratelimited"})
            if status == 429
            else "<html>Server Error</html>"
        )
        with self._lock:
            for _ in range(times):
                self._script.append(Scripted(status, headers, body if body is not None else default))

    def only_channels(self, names: set[str]) -> None:
        """From now on, channels other than `names` do not exist (or the bot is not in them)."""
        with self._lock:
            self._known = set(names)

    def clear_script(self) -> None:
        with self._lock:
            self._script.clear()

    # what a user would see -----------------------------------------------------------------------

    def channel_id(self, name: str) -> str:
        with self._lock:
            return self._channel_id(name)

    def top_level(self, channel: str) -> list[Message]:
        cid = self.channel_id(channel) if channel.startswith("#") else channel
        return [m for m in self.messages if m.channel == cid and m.thread_ts is None]

    def replies(self, parent: Message) -> list[Message]:
        return [m for m in self.messages if m.channel == parent.channel and m.thread_ts == parent.ts]

    def delete(self, message: Message) -> None:
        """A user deletes a message (and Slack its thread)."""
        with self._lock:
            self.messages = [
                m
                for m in self.messages
                if m is not message and not (m.channel == message.channel and m.thread_ts == message.ts)
            ]

    def calls(self, method: str, ok_only: bool = True) -> list[Request]:
        return [r for r in self.requests if r.path == method and (r.status == 200 or not ok_only)]

    # request handling ----------------------------------------------------------------------------

    def _channel_id(self, name: str) -> str:
        if name not in self._ids:
            self._ids[name] = f"C{len(self._ids) + 1:08d}"
        return self._ids[name]

    def _next_ts(self) -> str:
        self._ts += 1
        return f"{self._ts}.000100"

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], str]:
        body = _parse_body(headers, raw)
        with self._lock:
            if self._script:
                scripted = self._script.popleft()
                self.requests.append(Request(_method(path), "POST", scripted.status, body, headers))
                return scripted.status, scripted.headers, scripted.body
            status, out_headers, text = self._answer(path, headers, body)
            self.requests.append(Request(_method(path), "POST", status, body, headers))
            return status, out_headers, text

    def _answer(
        self, path: str, headers: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, dict[str, str], str]:
        if path.startswith("/services/"):
            problem = _limits_problem(body)
            if problem:
                return 400, {}, "invalid_blocks"
            self.webhook_messages.setdefault(path.removeprefix("/services/"), []).append(body)
            return 200, {}, "ok"
        method = _method(path)
        if headers.get("authorization") != f"Bearer {self.token}":
            return _ok(False, error="invalid_auth")
        if method == "chat.postMessage":
            return self._post(body)
        if method == "chat.update":
            return self._update(body)
        return _ok(False, error="unknown_method")

    def _resolve_channel(self, channel: str) -> str | None:
        if channel in self._ids.values():
            return channel
        if not channel.startswith("#"):
            return None
        if self._known is not None and channel not in self._known:
            return None
        return self._channel_id(channel)

    def _post(self, body: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        cid = self._resolve_channel(str(body.get("channel", "")))
        if cid is None:
            return _ok(False, error="channel_not_found")
        if not body.get("text") and not body.get("blocks"):
            return _ok(False, error="no_text")
        problem = _limits_problem(body)
        if problem:
            return _ok(False, error="invalid_blocks", detail=problem)
        thread_ts = body.get("thread_ts")
        if thread_ts and not any(
            m.channel == cid and m.ts == thread_ts and m.thread_ts is None for m in self.messages
        ):
            return _ok(False, error="thread_not_found")
        message = Message(
            cid,
            self._next_ts(),
            str(body.get("text", "")),
            list(body.get("blocks") or []),
            thread_ts=thread_ts,
            reply_broadcast=bool(body.get("reply_broadcast")),
        )
        self.messages.append(message)
        return _ok(True, channel=cid, ts=message.ts, message={"text": message.text, "ts": message.ts})

    def _update(self, body: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        channel = str(body.get("channel", ""))
        if channel not in self._ids.values():  # real Slack: chat.update wants the channel id
            return _ok(False, error="channel_not_found")
        problem = _limits_problem(body)
        if problem:
            return _ok(False, error="invalid_blocks", detail=problem)
        for message in self.messages:
            if message.channel == channel and message.ts == body.get("ts"):
                message.edits.append({"text": message.text, "blocks": message.blocks})
                message.text = str(body.get("text", ""))
                message.blocks = list(body.get("blocks") or [])
                return _ok(True, channel=channel, ts=message.ts, text=message.text)
        return _ok(False, error="message_not_found")


def _method(path: str) -> str:
    if path.startswith("/api/"):
        return path.removeprefix("/api/").split("?", 1)[0]
    return path


def _ok(ok: bool, **fields: Any) -> tuple[int, dict[str, str], str]:
    return 200, {"Content-Type": "application/json"}, json.dumps({"ok": ok, **fields})


def _parse_body(headers: dict[str, str], raw: bytes) -> dict[str, Any]:
    text = raw.decode("utf-8") if raw else ""
    if "json" in headers.get("content-type", ""):
        return dict(json.loads(text or "{}"))
    parsed = {k: v[0] for k, v in parse_qs(text).items()}
    if isinstance(parsed.get("blocks"), str):
        parsed["blocks"] = json.loads(parsed["blocks"])  # type: ignore[assignment]
    return parsed


def _limits_problem(body: dict[str, Any]) -> str | None:
    """What real Slack rejects: more than 50 blocks, a text over 3,000 characters, a header over 150."""
    blocks = body.get("blocks") or []
    if len(blocks) > 50:
        return f"{len(blocks)} blocks (max 50)"
    for block in blocks:
        texts = (
            [block.get("text") or {}] + list(block.get("fields") or []) + list(block.get("elements") or [])
        )
        limit = 150 if block.get("type") == "header" else 3000
        for item in texts:
            if isinstance(item, dict) and len(str(item.get("text", ""))) > limit:
                return (
                    f"a {block.get('type')} text of {len(str(item.get('text', '')))} characters (max {limit})"
                )
    return None


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, out_headers, text = fake.handle(self.path, headers, raw)
            data = text.encode("utf-8")
            self.send_response(status)
            out_headers = {"Content-Type": "text/plain; charset=utf-8", **out_headers}
            for key, value in out_headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            return

    return Handler
