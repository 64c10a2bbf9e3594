"""Prints texts instead of sending them (`make run`), and keeps a record of them in a
JSON-lines file (SMS_CONSOLE_LOG) so a restarted worker can still reconcile."""

from __future__ import annotations

import datetime as dt
import json
import sys
import uuid
from pathlib import Path
from typing import TextIO

from django.conf import settings

from reminders.backends.base import BaseSmsBackend, Sms


class ConsoleBackend(BaseSmsBackend):
    def __init__(self, stream: TextIO | None = None, log_path: str | None = None) -> None:
        self.stream = stream or sys.stdout
        self.log_path = Path(log_path or settings.SMS_CONSOLE_LOG)

    def send(self, sms: Sms) -> str:
        sid = "SM" + uuid.uuid4().hex
        at = dt.datetime.now(dt.UTC)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("a", encoding="utf-8") as log:
            record = {"sid": sid, "to": sms.to, "body": sms.body, "at": at.isoformat()}
            log.write(json.dumps(record) + "\n")
        self.stream.write(f"SMS to {sms.to} [{sid}]\n{sms.body}\n{'-' * 40}\n")
        self.stream.flush()
        return sid

    def find_sent(self, *, to: str, body: str, since: dt.datetime) -> str | None:
        if not self.log_path.exists():
            return None
        found = None
        with self.log_path.open(encoding="utf-8") as log:
            for line in log:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a crash was never a hand-over
                if (
                    record["to"] == to
                    and record["body"] == body
                    and dt.datetime.fromisoformat(record["at"]) >= since
                ):
                    found = str(record["sid"])
        return found
