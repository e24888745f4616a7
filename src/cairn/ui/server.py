"""Serving the dashboard: where it may listen, and the uvicorn server on a socket bound here.

The socket is bound before uvicorn starts so that ``--port 0`` (any free port) can print the real
address, and so that a port in use is a one-line error, not a traceback.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from typing import TYPE_CHECKING

from cairn.core.errors import UsageError

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace

DEFAULT_PORT = 8471


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(host: str, token: str | None) -> None:
    """Refuse to listen beyond this machine without a token: anyone who can reach the port
    could read every checkpoint."""
    if not is_loopback(host) and not token:
        raise UsageError(
            f"refusing to serve the dashboard on {host} without a token: anyone who reaches "
            "that address could read the workspace; add --token SECRET (or keep the default "
            "--host 127.0.0.1)"
        )
    if token is not None and len(token) < 12:
        raise UsageError("--token is too short to guess-proof; give at least 12 characters")


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; pick another --port "
            "(0: any free port)"
        ) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket, host: str, token: str | None) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def serve(ws: Workspace, *, host: str, port: int, token: str | None) -> None:
    import uvicorn

    from cairn.ui.app import create_app

    check_host(host, token)
    sock = bind(host, port)
    app = create_app(ws, token=token)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    sys.stdout.write(f"cairn ui: serving {ws.root} at {url_of(sock, host, token)} (Ctrl-C stops)\n")
    sys.stdout.flush()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
