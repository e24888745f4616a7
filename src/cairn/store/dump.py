"""A portable, versioned dump of a store and its checked restore: one mechanism for
``cairn store export FILE``, ``cairn store import FILE`` and ``cairn store copy --to URL``.

The dump is JSON Lines, through the contract's records area (``store/contract/records.py``), so it
moves between any two SQL backends (SQLite → PostgreSQL and back):

- a header ``{"format": "cairn.store_dump/2", "created_at", "dialect", "migrations", "sets"}``;
- per record set ``{"set": NAME, "fields": [...]}``, then one ``{"r": [values], "h": HASH}`` per
  record, then ``{"end": NAME, "count": N, "hash": SET_HASH}``;
- a trailer ``{"done": true, "sets": {NAME: {"count", "hash"}}}``: a dump without it is truncated.

The file stats of ``projections`` (this machine's view of its readable tree) are dumped as null.
Values the store derives from its records (the checkpoint count; ``contract.records.DERIVED``)
are not records: a dump neither writes nor hashes them, a restore derives them again. A
``cairn.store_dump/1`` dump (before that) holds the count as a ``meta`` record: its hash is
checked with the rest of its set, as it was written, and the record itself is not loaded.
A record's hash is the SHA-256 of its fields and values as canonical JSON; a set's hash is the
SHA-256 of its records' hashes in sorted order (so it does not depend on a backend's row order).
A restore checks every record against its hash as it reads it, loads everything in ONE write
transaction, reads the store's records back inside that transaction and compares each set's count
and hash with the dump's before it commits: a damaged or truncated dump, or a store that did not
keep what it was given, changes nothing. It refuses a store that holds any history unless told to
replace it. The source (the dump file, the store copied from) is only read.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cairn.core.errors import StoreError
from cairn.store.contract.records import is_derived, is_empty, source_fields

if TYPE_CHECKING:
    from cairn.store import Store
    from cairn.store.contract.records import RecordsArea

FORMAT = "cairn.store_dump/2"
# The formats a restore reads: /1 held derived values (the checkpoint count) as records.
READS = ("cairn.store_dump/1", FORMAT)
_BATCH = 500
# Fields that describe one machine's files (when the projector last looked at an artifact), not
# the history: dumped as null, so that the target's projector looks at its own files afresh.
_LOCAL = {"projections": ("mtime_ns", "size")}


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, bool):
        return int(value)
    return value


def _stored(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"b64"}:
        return base64.b64decode(value["b64"])
    return value


def record_hash(fields: list[str], values: list[Any]) -> str:
    doc = json.dumps(
        dict(zip(fields, values, strict=True)),
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=False,
    )
    return hashlib.sha256(doc.encode("utf-8")).hexdigest()


def set_hash(digests: Iterable[str]) -> str:
    h = hashlib.sha256()
    for d in sorted(digests):
        h.update(d.encode("ascii"))
    return h.hexdigest()


@dataclass
class Summary:
    """What a dump holds, or what a restore loaded: per record set, its count and hash."""

    sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    fields: dict[str, list[str]] = field(default_factory=dict)  # as the dump gave them

    @property
    def records(self) -> int:
        return sum(int(s["count"]) for s in self.sets.values())


def _line(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"


def dump_lines(store: Store, summary: Summary | None = None) -> Iterator[str]:
    """The dump of ``store``, line by line, from one consistent snapshot."""
    out = summary if summary is not None else Summary()
    with store.read() as tx:
        rec: RecordsArea = tx.records
        sets = rec.sets()  # parents first, meta last: the order a restore loads them in
        if not sets:
            rec.fields("")  # a store without record sets says why (the memory store)
        yield _line(
            {
                "format": FORMAT,
                "created_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "dialect": store.dialect,
                "migrations": rec.migrations(),
                "sets": sets,
            }
        )
        for name in sets:
            fields = rec.fields(name)
            yield _line({"set": name, "fields": fields})
            local = [i for i, f in enumerate(fields) if f in _LOCAL.get(name, ())]
            digests = []
            for row in rec.rows(name):
                values = [None if i in local else _plain(v) for i, v in enumerate(row)]
                digest = record_hash(fields, values)
                digests.append(digest)
                yield _line({"r": values, "h": digest})
            out.sets[name] = {"count": len(digests), "hash": set_hash(digests)}
            yield _line({"end": name, **out.sets[name]})
        yield _line({"done": True, "sets": out.sets})


def _parse(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    for n, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            doc = json.loads(text)
        except ValueError:
            raise StoreError(
                f"line {n} of the dump is not JSON (damaged or cut); nothing was imported"
            ) from None
        if not isinstance(doc, dict):
            raise StoreError(f"line {n} of the dump is not a record line; nothing was imported")
        yield n, doc


def restore(lines: Iterable[str], store: Store, *, replace: bool = False) -> Summary:
    """Load a dump into ``store`` (see the module's rules); returns what was loaded."""
    docs = _parse(lines)
    first = next(docs, None)
    if first is None or first[1].get("format") not in READS:
        got = first[1].get("format") if first else None
        raise StoreError(
            f"not a cairn store dump (format {got!r}, expected {FORMAT!r}); make one with "
            "`cairn store export FILE`"
            if not (isinstance(got, str) and got.startswith("cairn.store_dump/"))
            else f"the dump is {got}, newer than this cairn reads ({FORMAT}); upgrade cairn"
        )
    loaded = Summary()
    with store.write() as tx:
        rec: RecordsArea = tx.records
        have = rec.sets()
        if not have:
            rec.fields("")  # the memory store says why it takes none
        if not is_empty(rec):
            if not replace:
                raise StoreError(
                    "the target store already holds records; import into an empty store "
                    "(a new workspace or database), or pass --replace to replace them"
                )
            rec.clear()
        trailer, in_file = _load(docs, rec, have, loaded)
        for name, want in trailer.items():
            if in_file.get(name) != want:
                raise StoreError(
                    f"record set {name!r}: the dump's trailer says {want}, its records give "
                    f"{in_file.get(name)}; the dump is damaged, nothing was imported"
                )
        rec.derive()
        _check_back(rec, loaded)
    return loaded


def _load(
    docs: Iterator[tuple[int, dict[str, Any]]],
    rec: RecordsArea,
    have: list[str],
    loaded: Summary,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check and load every record; ``loaded`` gets what was loaded (the source records, over
    their source fields: what the read-back compares). Returns the trailer's sets and each set's
    count and hash as the dump holds it (derived records of a /1 dump included)."""
    name: str | None = None
    fields: list[str] = []
    keep: list[int] = []
    batch: list[list[Any]] = []
    digests: list[str] = []
    kept: list[str] = []
    in_file: dict[str, Any] = {}
    for n, doc in docs:
        if "r" in doc:
            if name is None:
                raise StoreError(f"line {n}: a record before its set; the dump is damaged")
            values = doc["r"]
            if not isinstance(values, list) or len(values) != len(fields):
                raise StoreError(f"line {n}: a record of {name!r} with the wrong fields")
            digest = record_hash(fields, values)
            if digest != doc.get("h"):
                raise StoreError(
                    f"line {n}: a record of {name!r} does not match its hash (the dump was "
                    "changed or damaged); nothing was imported"
                )
            digests.append(digest)
            if is_derived(name, fields, values):
                continue  # derived again after the load (a /1 dump's count)
            if len(keep) < len(fields):
                kept.append(record_hash([fields[i] for i in keep], [values[i] for i in keep]))
            else:
                kept.append(digest)
            batch.append([_stored(v) for v in values])
            if len(batch) >= _BATCH:
                rec.load(name, fields, batch)
                batch = []
        elif "set" in doc:
            name, fields, digests, kept = str(doc["set"]), list(doc.get("fields") or []), [], []
            keep = source_fields(name, fields)
            if name not in have:
                raise StoreError(
                    f"the dump holds record set {name!r}, which this store does not have (a dump "
                    "from a newer cairn?); upgrade cairn, nothing was imported"
                )
        elif "end" in doc:
            if name is None or doc["end"] != name:
                raise StoreError(f"line {n}: the end of a set that did not start; damaged dump")
            if batch:
                rec.load(name, fields, batch)
                batch = []
            in_file[name] = {"count": len(digests), "hash": set_hash(digests)}
            if doc.get("count") != len(digests) or doc.get("hash") != in_file[name]["hash"]:
                raise StoreError(
                    f"record set {name!r} does not match its count and hash; the dump is "
                    "damaged, nothing was imported"
                )
            loaded.sets[name] = {"count": len(kept), "hash": set_hash(kept)}
            loaded.fields[name] = [fields[i] for i in keep]
            name = None
        elif doc.get("done") is True:
            sets = doc.get("sets")
            return (dict(sets) if isinstance(sets, dict) else {}), in_file
    raise StoreError(
        "the dump ends before its last line (it was cut short: a full disk, a copy that "
        "stopped); nothing was imported"
    )


def _check_back(rec: RecordsArea, loaded: Summary) -> None:
    """Read what the store now holds and compare it with the dump, before the commit."""
    for name, want in loaded.sets.items():
        # Over the dump's fields only: a newer store may have more (with their defaults).
        fields = loaded.fields[name]
        at = [rec.fields(name).index(f) for f in fields]
        digests = [record_hash(fields, [_plain(row[i]) for i in at]) for row in rec.rows(name)]
        count, hashed = len(digests), set_hash(digests)
        if {"count": count, "hash": hashed} == want:
            continue
        raise StoreError(
            f"record set {name!r} read back from the store gives {count} records, hash "
            f"{hashed[:12]}…, the dump {want['count']}, {str(want['hash'])[:12]}…; nothing was "
            "imported"
        )


def digest(store: Store) -> Summary:
    """The count and hash of every record set of ``store`` (to compare two stores)."""
    out = Summary()
    for _ in dump_lines(store, out):
        pass
    return out


def copy(source: Store, target: Store, *, replace: bool = False) -> Summary:
    """Copy every record of ``source`` into ``target`` through the dump, checked by hashes; the
    source is only read."""
    want = Summary()
    loaded = restore(dump_lines(source, want), target, replace=replace)
    if loaded.sets != want.sets:  # the restore checked the dump; this checks it was the source
        raise StoreError("the copy does not match its source; the target was left unchanged")
    return loaded
