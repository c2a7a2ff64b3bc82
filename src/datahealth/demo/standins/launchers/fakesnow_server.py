"""Starts fakesnow's HTTP server (run with the fakesnow virtualenv's Python: `python fakesnow_server.py PORT`).

Two gaps between fakesnow 0.12.1 and what datahealth's Snowflake client sends, closed here and only here
(in the stand-in, never in what talks to a real Snowflake), each documented in docs/engines.md:

* snowflake-connector-python 5.x refuses a login answer without `masterToken` and its validity fields,
  which fakesnow (written against connector 4.x) omits: they are added to the login answer.
* fakesnow does not implement `ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS` (nor any statement
  timeout): the statement is accepted as a no-op, so profiles run; the time-limit case of the conformance
  suite is not applicable on fakesnow.
"""

from __future__ import annotations

import importlib
import json
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

server = importlib.import_module("fakesnow.server")
LOGIN = "/session/v1/login-request"
IGNORED = [r"ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS\b.*"]


async def login_request(request: Request) -> JSONResponse:
    answer = await server.login_request(request)
    body = json.loads(bytes(answer.body))
    if body.get("success"):
        data = body["data"]
        data.setdefault("masterToken", data["token"])
        data.setdefault("validityInSeconds", 3600)
        data.setdefault("masterValidityInSeconds", 14400)
        data.setdefault("sessionId", 1)
    return JSONResponse(body, status_code=answer.status_code)


def main(port: int) -> None:
    server.shared_fs.nop_regexes = IGNORED
    routes = [
        Route(LOGIN, login_request, methods=["POST"]) if route.path == LOGIN else route
        for route in server.routes
    ]
    uvicorn.run(Starlette(routes=routes), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main(int(sys.argv[1]))
