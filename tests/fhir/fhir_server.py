"""A FHIR R4 server for tests, on a thread: search by type with _count and _lastUpdated=ge,
answered as searchset Bundles paged by Bundle.link "next" (http.server, no network)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FhirServer:
    def __init__(self, resources: list[dict[str, Any]]) -> None:
        self.resources = resources
        self.requests: list[str] = []
        self.fail_with: int | None = None
        self.next_host: str | None = None  # send next links to another host
        self.base = ""

    def search(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        kind = path.rstrip("/").rsplit("/", 1)[-1]
        count = int(query.get("_count", ["50"])[0])
        offset = int(query.get("_offset", ["0"])[0])
        matching = [r for r in self.resources if r["resourceType"] == kind]
        for condition in query.get("_lastUpdated", []):
            assert condition.startswith("ge"), condition
            since = dt.datetime.fromisoformat(condition[2:].replace("Z", "+00:00"))
            matching = [
                r
                for r in matching
                if dt.datetime.fromisoformat(r["meta"]["lastUpdated"].replace("Z", "+00:00"))
                >= since
            ]
        page = matching[offset : offset + count]
        bundle: dict[str, Any] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(matching),
            "link": [
                {
                    "relation": "self",
                    "url": f"{self.base}/{kind}?{urllib.parse.urlencode(query, doseq=True)}",
                }
            ],
            "entry": [
                {
                    "fullUrl": f"{self.base}/{kind}/{r['id']}",
                    "resource": r,
                    "search": {"mode": "match"},
                }
                for r in page
            ],
        }
        if offset + count < len(matching):
            following = {**{k: v[0] for k, v in query.items()}, "_offset": str(offset + count)}
            base = self.next_host or self.base
            bundle["link"].append(
                {"relation": "next", "url": f"{base}/{kind}?{urllib.parse.urlencode(following)}"}
            )
        return 200, bundle


@contextmanager
def serving(resources: list[dict[str, Any]]) -> Iterator[FhirServer]:
    server = FhirServer(resources)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            server.requests.append(self.path)
            if server.fail_with is not None:
                status, body = (
                    server.fail_with,
                    {
                        "resourceType": "OperationOutcome",
                        "issue": [
                            {
                                "severity": "error",
                                "code": "exception",
                                "diagnostics": "database is down",
                            }
                        ],
                    },
                )
            else:
                status, body = server.search(parts.path, urllib.parse.parse_qs(parts.query))
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.base = f"http://127.0.0.1:{httpd.server_address[1]}/fhir"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
