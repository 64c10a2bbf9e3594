"""Reading FHIR JSON from files: Bundles (transaction, batch, collection, searchset), single
resources and Bulk Data NDJSON, one resource at a time; an NDJSON file is never held whole."""

from __future__ import annotations

import codecs
import gzip
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

# Bundle types that carry resources to import (R4 Bundle.type): a document or a message
# carries a composition or an event, not an EHR's record of patients and visits.
BUNDLE_TYPES = frozenset({"transaction", "batch", "collection", "searchset"})
# NDJSON by name: Bulk Data's .ndjson, and .jsonl (JSON Lines) as other tools name it.
NDJSON_SUFFIXES = (".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")
SUFFIXES = (".json", ".json.gz", *NDJSON_SUFFIXES)
# The order passes take: patients first, so that visits find them; appointments before
# encounters, so an encounter completes the visit its appointment booked.
PASSES = ("Patient", "Appointment", "Encounter")
MAX_DEPTH = 3  # Bundles inside Bundles, as far as read
# One resource per line; a longer line (a whole export minified onto one line, a file with
# no line breaks) is refused unread, never held whole, as the server client caps a page.
MAX_LINE_BYTES = 64 * 1024 * 1024
TOO_DEEP = "invalid JSON: nested too deeply to be a FHIR resource"
_TYPE_NAME = re.compile(r"^[A-Z][A-Za-z]{1,63}$")


@dataclass(frozen=True, slots=True)
class Entry:
    """One resource as read, or why it could not be read, and where it was."""

    file: str
    where: str  # "line 12", "entry 3", "" for a file holding one resource
    resource: dict[str, Any] | None = None
    error: str = ""
    # In a Bundle: its entries' fullUrl -> (type, key), for references by fullUrl (urn:uuid).
    full_urls: dict[str, tuple[str, str]] = field(default_factory=dict)
    full_url: str = ""  # the entry's own fullUrl in a Bundle
    # Worked out once from the resource (each is asked for many times per resource).
    resource_type: str = field(init=False, default="")
    # What names the resource across imports: "Type/id", else its Bundle fullUrl (a
    # transaction's new resource), else "" (it cannot be recognised when sent again).
    key: str = field(init=False, default="")

    def __post_init__(self) -> None:
        value = (self.resource or {}).get("resourceType")
        kind = value if isinstance(value, str) else ""
        rid = (self.resource or {}).get("id")
        key = f"{kind}/{rid}" if isinstance(rid, str) and rid and kind else self.full_url
        object.__setattr__(self, "resource_type", kind)
        object.__setattr__(self, "key", key)

    @property
    def label(self) -> str:
        """The resource as a report names it."""
        if self.key:
            return self.key
        rid = (self.resource or {}).get("id")
        if isinstance(rid, str) and rid:
            return f"resource {rid[:64]}"  # an id, but no type to name it by
        if self.error and self.resource is None:
            return "not read"  # the text is no resource (invalid JSON, not UTF-8, ...)
        return f"{self.resource_type or 'resource'} without id"


def files(paths: Iterable[str | Path], passed_over: list[Path] | None = None) -> list[Path]:
    """The files to read: each file given, and every FHIR file under each directory, in a
    stable order (sorted by name). The other files under a directory, hidden ones aside,
    are added to `passed_over` if given, so that the report can name them."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                if not p.is_file() or _hidden(p.relative_to(path)):
                    continue
                if _is_fhir(p):
                    found.append(p)
                elif passed_over is not None:
                    passed_over.append(p)
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")
    return found


def _hidden(relative: Path) -> bool:
    """A hidden file or one in a hidden directory under the one given: macOS's ._Patient.ndjson
    beside each file of an unzipped export, a .git directory; none of them FHIR."""
    return any(part.startswith(".") for part in relative.parts)


def _is_fhir(path: Path) -> bool:
    return path.name.lower().endswith(SUFFIXES)


def _open(path: Path) -> IO[str]:
    # utf-8-sig: a byte-order mark, as Windows tools write one, is read past.
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig")
    return path.open(encoding="utf-8-sig")


def _open_bytes(path: Path) -> BinaryIO:
    if path.name.lower().endswith(".gz"):
        return cast(BinaryIO, gzip.open(path, "rb"))
    return path.open("rb")


def read(
    path: Path, wanted: Callable[[str], bool] | None = None, hint: str = ""
) -> Iterator[Entry]:
    """The entries of one file. NDJSON is read line by line (a line whose text does not
    name `hint` is passed over unparsed); a JSON file is read whole, then entry by entry."""
    name = str(path)
    try:
        if path.name.lower().endswith(NDJSON_SUFFIXES):
            yield from _ndjson(path, name, wanted, hint)
        else:
            yield from _json(path, name, wanted, hint)
    except (OSError, UnicodeDecodeError) as exc:
        yield Entry(name, "", error=f"cannot be read: {exc}")


def _ndjson(
    path: Path, name: str, wanted: Callable[[str], bool] | None, hint: str
) -> Iterator[Entry]:
    # Read as bytes and decoded a line at a time, so that one line that is not UTF-8 is
    # refused with its number and the lines after it still import.
    tag = hint.encode()
    with _open_bytes(path) as stream:
        for number, raw in enumerate(_lines(stream), start=1):
            if raw is None:
                if wanted is None:
                    yield Entry(
                        name,
                        f"line {number}",
                        error=f"longer than {MAX_LINE_BYTES // 2**20} MB, not read: NDJSON "
                        "holds one resource per line",
                    )
                continue
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            if not raw.strip() or (tag and tag not in raw and b"\\u" not in raw):
                # Passed over unparsed: the line does not name the type, nor has a \u escape
                # that could spell it ("Appointm\u0065nt" is JSON for "Appointment").
                continue
            where = f"line {number}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                if wanted is None:
                    yield Entry(
                        name,
                        where,
                        error=f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column "
                        f"{exc.start + 1}); FHIR JSON is UTF-8",
                    )
                continue
            try:
                resource = json.loads(line)
            except json.JSONDecodeError as exc:
                if wanted is None:  # reported once, by the pass that reads every line
                    yield Entry(name, where, error=f"invalid JSON: {exc.msg} (column {exc.colno})")
                continue
            except RecursionError:
                if wanted is None:
                    yield Entry(name, where, error=TOO_DEEP)
                continue
            if isinstance(resource, dict) and resource.get("resourceType") == "Bundle":
                # A Bundle on a line (a tool that writes one per patient): its entries are
                # read as a Bundle file's are, each named by its line and its place.
                yield from _bundle(name, resource, wanted, where)
                continue
            entry = _entry(name, where, resource)
            if wanted is None or wanted(entry.resource_type):
                yield entry


def _lines(stream: BinaryIO) -> Iterator[bytes | None]:
    """Each line of `stream`, or None for one longer than MAX_LINE_BYTES, which is read past
    a piece at a time."""
    while raw := stream.readline(MAX_LINE_BYTES + 1):
        if len(raw) <= MAX_LINE_BYTES or raw.endswith(b"\n"):
            yield raw
            continue
        while (rest := stream.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
            pass
        yield None


def _json(
    path: Path, name: str, wanted: Callable[[str], bool] | None, hint: str = ""
) -> Iterator[Entry]:
    with _open(path) as text:
        try:
            document = json.load(text)
        except RecursionError:
            if wanted is None:
                yield Entry(name, "", error=TOO_DEEP)
            return
        except json.JSONDecodeError as exc:
            if exc.msg == "Extra data" and exc.lineno > 1 and exc.colno == 1:
                # One resource per line under a .json name (Bulk Data output saved as
                # Patient.json): read as the NDJSON it is.
                yield from _ndjson(path, name, wanted, hint)
            elif wanted is None:
                yield Entry(name, "", error=f"invalid JSON: {exc.msg} (line {exc.lineno})")
            return
    if not isinstance(document, dict) or document.get("resourceType") != "Bundle":
        entry = _entry(name, "", document)
        if wanted is None or wanted(entry.resource_type):
            yield entry
        return
    yield from _bundle(name, document, wanted)


def _bundle(
    name: str,
    bundle: dict[str, Any],
    wanted: Callable[[str], bool] | None,
    place: str = "",
    depth: int = 0,
) -> Iterator[Entry]:
    kind = bundle.get("type")
    if kind not in BUNDLE_TYPES:
        if wanted is None:
            yield Entry(
                name,
                place,
                error=f"a Bundle of type {kind!r} is not imported "
                f"(only {', '.join(sorted(BUNDLE_TYPES))})",
            )
        return
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        if wanted is None:
            yield Entry(name, place, error="Bundle.entry is not a list")
        return
    full_urls = _full_urls(entries)
    for number, item in enumerate(entries, start=1):
        where = f"{place}, entry {number}" if place else f"entry {number}"
        yield from _item(name, where, item, wanted, full_urls, depth)


def _item(
    name: str,
    where: str,
    item: Any,
    wanted: Callable[[str], bool] | None,
    full_urls: dict[str, tuple[str, str]],
    depth: int,
) -> Iterator[Entry]:
    if not isinstance(item, dict):
        if wanted is None:
            yield Entry(name, where, error="a Bundle entry is not a JSON object")
        return
    resource = item.get("resource")
    if resource is None:
        # A DELETE in a transaction carries a request and no resource: nothing to record.
        # An entry with neither breaks R4's bdl-5 and is reported.
        if wanted is None and not item.get("request") and not item.get("response"):
            yield Entry(name, where, error="a Bundle entry with no resource (R4 bdl-5)")
        return
    if isinstance(resource, dict) and resource.get("resourceType") == "Bundle":
        # A Bundle of Bundles (a collection of transactions, say): each inner Bundle is read
        # as its own, its fullUrls its own; nested no deeper than MAX_DEPTH.
        if depth + 1 < MAX_DEPTH:
            yield from _bundle(name, resource, wanted, where, depth + 1)
        elif wanted is None:
            yield Entry(name, where, error=f"Bundles nested deeper than {MAX_DEPTH}")
        return
    if (item.get("search") or {}).get("mode") == "outcome":
        return  # a search's OperationOutcome about the search, not a record
    full_url = str(item.get("fullUrl") or "")
    entry = _entry(name, where, resource, full_urls, full_url)
    if wanted is None or wanted(entry.resource_type):
        yield entry


def _full_urls(entries: list[Any]) -> dict[str, tuple[str, str]]:
    urls: dict[str, tuple[str, str]] = {}
    for item in entries:
        if not isinstance(item, dict) or not isinstance(item.get("resource"), dict):
            continue
        full_url, resource = item.get("fullUrl"), item["resource"]
        kind, rid = resource.get("resourceType"), resource.get("id")
        if isinstance(full_url, str) and isinstance(kind, str):
            urls[full_url] = (kind, f"{kind}/{rid}" if isinstance(rid, str) and rid else full_url)
    return urls


def _entry(
    name: str,
    where: str,
    resource: Any,
    full_urls: dict[str, tuple[str, str]] | None = None,
    full_url: str = "",
) -> Entry:
    if not isinstance(resource, dict):
        return Entry(name, where, error="not a FHIR resource (a JSON object)")
    kind = resource.get("resourceType")
    if not isinstance(kind, str):
        return Entry(name, where, resource=resource, error="has no resourceType")
    if not _TYPE_NAME.match(kind):
        # FHIR names its types in UpperCamelCase: "patient" is a mistake, not a type to skip.
        return Entry(name, where, error=f"resourceType {kind[:40]!r} is not a FHIR type name")
    return Entry(name, where, resource=resource, full_urls=full_urls or {}, full_url=full_url)
