"""One-line explanations of PostgreSQL errors: what went wrong and what to do, never a password."""

from __future__ import annotations

import re

import psycopg
from psycopg.conninfo import conninfo_to_dict

from cairn.core.errors import StoreError


def safe_url(url: str) -> str:
    """``user@host:port/db`` of a connection string, for messages (the password left out)."""
    try:
        info = conninfo_to_dict(url)
    except psycopg.Error:
        return "(an unreadable PostgreSQL URL)"
    host = str(info.get("host") or "localhost")
    port = str(info.get("port") or "5432")
    user = f"{info['user']}@" if info.get("user") else ""
    return f"postgresql://{user}{host}:{port}/{info.get('dbname') or ''}"


_WRAPPING = re.compile(
    r'^(connection failed: )?(connection to server at "[^"]*"(, port \d+)? failed: )?'
    r"((FATAL|ERROR): +)?"
)


def describe(exc: BaseException) -> str:
    """The server's or libpq's first line, without libpq's "connection to server at ... failed:"
    wrapping (the message names the store already)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return _WRAPPING.sub("", text) or text


def explain_open(where: str, exc: BaseException) -> StoreError:
    msg = describe(exc)
    low = str(exc).lower()
    if isinstance(exc, psycopg.ProgrammingError | ValueError) or (
        "invalid" in low and "dsn" in low
    ):
        return StoreError(
            f"the store URL is not a valid PostgreSQL URL ({msg}); write it as "
            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE in [store] url or CAIRN_STORE"
        )
    if "password authentication failed" in low or "no password supplied" in low:
        return StoreError(
            f"PostgreSQL refused the login to {where} ({msg}); check the user and password in "
            "the store URL (or ~/.pgpass / PGPASSWORD)"
        )
    if "does not exist" in low and "database" in low:
        return StoreError(
            f"the database of {where} does not exist ({msg}); create it first "
            "(`createdb NAME` on the server), then run `cairn init --store URL`"
        )
    if "role" in low and "does not exist" in low:
        return StoreError(f"PostgreSQL has no such user for {where} ({msg}); check the store URL")
    if "refused" in low or "timeout" in low or "could not translate" in low or "no route" in low:
        return StoreError(
            f"cannot reach the PostgreSQL server of {where} ({msg}); check that it is running and "
            "that host and port in the store URL are right"
        )
    return StoreError(f"cannot open the PostgreSQL store {where}: {msg}")
