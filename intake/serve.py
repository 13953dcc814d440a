"""The development server: werkzeug's, with its request log and Server header removed."""

from __future__ import annotations

from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    """Logs nothing about requests (they would name the client's address)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log(self, type: str, message: str, *args: object) -> None:
        pass

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() != "server":
            super().send_header(keyword, value)


def serve(app: Flask, host: str, port: int) -> None:
    server = make_server(host, port, app, threaded=True, request_handler=QuietHandler)
    server.serve_forever()
