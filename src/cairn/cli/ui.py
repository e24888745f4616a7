"""``cairn ui``: the live, read-only dashboard of this workspace in a browser."""

from __future__ import annotations

import argparse
from typing import Any

ORDER = 65


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port; give 1-65535 (0: any free one)")
    return value


def register(sub: Any) -> None:
    p = sub.add_parser(
        "ui",
        help="serve a live, read-only dashboard of this workspace on 127.0.0.1 "
        "(pip install 'cairn-agent[ui]')",
        description="Serve a live, read-only web dashboard of this workspace: tasks and "
        "phases, checkpoints and their diffs, progress and streams, compactions, budget, "
        "reviews, workers and subagents. It updates within a second of any change.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=None, help="port (default 8471; 0: any free port)")
    p.add_argument(
        "--token",
        default=None,
        help="a secret every request must carry (required for any address but loopback; "
        "default $CAIRN_UI_TOKEN, which keeps it out of the process list)",
    )
    p.set_defaults(func=cmd_ui)


def cmd_ui(args: argparse.Namespace) -> int:
    import os

    from cairn.core.errors import UsageError

    token = args.token or os.environ.get("CAIRN_UI_TOKEN") or None

    try:
        from cairn.ui import server
    except ModuleNotFoundError as exc:  # pragma: no cover - the extra is missing
        raise UsageError("the dashboard needs its extra: pip install 'cairn-agent[ui]'") from exc
    server.check_host(args.host, token)
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ModuleNotFoundError as exc:
        raise UsageError(
            "the dashboard needs starlette and uvicorn: pip install 'cairn-agent[ui]'"
        ) from exc
    from cairn.domain.workspace import Workspace

    ws = Workspace.open(args.workspace, listeners=())
    try:
        server.serve(
            ws,
            host=args.host,
            port=server.DEFAULT_PORT if args.port is None else args.port,
            token=token,
        )
    except KeyboardInterrupt:
        pass
    finally:
        ws.store.close()
    return 0
