"""Starts bqemulator (run with its virtualenv's Python: `python bqemulator_server.py REST_PORT GRPC_PORT`).

One gap between bqemulator 1.4.0 and the BigQuery DB-API (which sqlalchemy-bigquery uses) is closed here
and only here (in the stand-in, never in what talks to a real BigQuery): the DB-API names query parameters in backticks
(`@\\`tables_1\\``), which bqemulator does not resolve, so every parametrised query silently matched no
rows. Backticked parameter names in request bodies are rewritten to plain ones (`@tables_1`), which is
the same parameter to BigQuery.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import bqemulator.server as emulator
from bqemulator.cli import main

QUOTED_PARAMETER = re.compile(rb"@`([A-Za-z_][A-Za-z0-9_]*)`")
create_app = emulator.create_app


def with_plain_parameter_names(context: Any) -> Any:
    app = create_app(context)

    async def rewrite(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = QUOTED_PARAMETER.sub(rb"@\1", b"".join(chunks))
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
        scope = dict(scope, headers=[*headers, (b"content-length", str(len(body)).encode())])
        delivered = False

        async def replay() -> dict[str, Any]:
            nonlocal delivered
            if delivered:
                return dict(await receive())
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await app(scope, replay, send)

    return rewrite


if __name__ == "__main__":
    emulator.create_app = with_plain_parameter_names
    rest_port, grpc_port = sys.argv[1], sys.argv[2]
    main(
        [
            "start",
            *("--rest-host", "127.0.0.1", "--rest-port", rest_port),
            *("--grpc-host", "127.0.0.1", "--grpc-port", grpc_port),
            *("--ephemeral", "--project", "test", "--log-level", "warning"),
        ]
    )
