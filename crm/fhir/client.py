"""A FHIR R4 search client: GET [base]/[type]?_lastUpdated=ge[since]&_count=n, following the
searchset Bundle's `next` link page by page (http://hl7.org/fhir/R4/http.html#paging)."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from crm.fhir.reading import Entry, _full_urls

MAX_PAGES = 100_000  # a server whose next links never end is a broken server
_MAX_PAGE_BYTES = 64 * 1024 * 1024


class FhirServerError(Exception):
    """The server could not be searched: unreachable, an HTTP error, or not FHIR."""


@dataclass(frozen=True, slots=True)
class FhirClient:
    base_url: str
    page_size: int = 200
    timeout: float = 60.0
    token: str = ""  # a bearer token (SMART backend services) when the server needs one

    def search(self, kind: str, since: dt.datetime | None = None) -> Iterator[Entry]:
        """Every `kind` resource changed since `since` (all of them without), as entries;
        a search's included resources of other types pass too (the importer skips them)."""
        query: dict[str, str] = {"_count": str(self.page_size)}
        if since is not None:
            query["_lastUpdated"] = "ge" + since.astimezone(dt.UTC).isoformat().replace(
                "+00:00", "Z"
            )
        url: str | None = f"{self.base_url.rstrip('/')}/{kind}?{urllib.parse.urlencode(query)}"
        seen: set[str] = set()
        while url is not None:
            if url in seen or len(seen) >= MAX_PAGES:
                raise FhirServerError(f"{url}: the search's next links go round in a circle")
            seen.add(url)
            bundle = self._get(url)
            yield from _page(url, bundle)
            url = self._next(bundle)

    def _next(self, bundle: dict[str, Any]) -> str | None:
        for link in bundle.get("link") or []:
            if isinstance(link, dict) and link.get("relation") == "next" and link.get("url"):
                target = urllib.parse.urljoin(self.base_url, str(link["url"]))
                if _origin(target) != _origin(self.base_url):
                    # Never follow (or send the token) to another host.
                    raise FhirServerError(f"the next page {target} is on another server")
                return target
        return None

    def _get(self, url: str) -> dict[str, Any]:
        headers = {"Accept": "application/fhir+json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read(_MAX_PAGE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise FhirServerError(f"{url}: HTTP {exc.code} {_outcome(exc.read(65536))}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise FhirServerError(f"{url}: {exc}") from None
        if len(body) > _MAX_PAGE_BYTES:
            raise FhirServerError(f"{url}: a page larger than {_MAX_PAGE_BYTES} bytes")
        try:
            bundle = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise FhirServerError(f"{url}: not JSON ({exc})") from None
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            raise FhirServerError(f"{url}: the answer is not a Bundle")
        return bundle


def _page(url: str, bundle: dict[str, Any]) -> Iterator[Entry]:
    entries = bundle.get("entry") or []
    full_urls = _full_urls(entries)
    for number, item in enumerate(entries, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("resource"), dict):
            continue
        if (item.get("search") or {}).get("mode") == "outcome":
            continue
        resource = item["resource"]
        full_url = str(item.get("fullUrl") or "")
        if not isinstance(resource.get("resourceType"), str):
            yield Entry(url, f"entry {number}", resource=resource, error="has no resourceType")
            continue
        yield Entry(
            url, f"entry {number}", resource=resource, full_urls=full_urls, full_url=full_url
        )


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, parts.netloc


def _outcome(body: bytes) -> str:
    """An OperationOutcome's first issue, if the error body is one."""
    try:
        outcome = json.loads(body)
        issue = (outcome.get("issue") or [{}])[0]
        return str(issue.get("diagnostics") or (issue.get("details") or {}).get("text") or "")[:300]
    except (ValueError, AttributeError, IndexError):
        return ""
