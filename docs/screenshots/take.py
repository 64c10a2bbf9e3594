"""Take the README's screenshots of the front desk and the supervisor's dashboard."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def main() -> None:
    """Build a throwaway SQLite database with the demo data (`load_demo`, through the command
    handlers), serve it with `runserver` and drive Debian's Chromium with Playwright, as the
    browser tests do; var/crm.sqlite3 is never touched."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=120)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{Path(scratch) / 'demo.sqlite3'}",
            "DEBUG": "1",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "-v0"], env=env, cwd=ROOT, check=True)
        subprocess.run(
            [*manage, "load_demo", "--patients", str(options.patients), "--no-progress"],
            env=env,
            cwd=ROOT,
            check=True,
        )
        subprocess.run([*manage, "run_projections"], env=env, cwd=ROOT, check=True)
        patient = _a_patient_to_show(env)
        port = _free_port()
        server = subprocess.Popen(
            [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(f"http://127.0.0.1:{port}/admin/login/")
            _shoot(f"http://127.0.0.1:{port}", patient)
        finally:
            server.terminate()
            server.wait(timeout=10)


def _a_patient_to_show(env: dict[str, str]) -> dict[str, str]:
    """A demo patient with a phone, upcoming visits, text reminders, open suggestions and a
    long history, as the front desk would meet them: their number typed another way."""
    script = (
        "from crm.models import PatientProfile\n"
        "from engagement.models import Suggestion\n"
        "from reminders.models import Reminder\n"
        "reminded = set(Reminder.objects.filter(state='scheduled')"
        ".values_list('patient_id', flat=True))\n"
        "suggested = set(Suggestion.objects.filter(closed_at__isnull=True)"
        ".values_list('patient_id', flat=True))\n"
        "shown = (PatientProfile.objects.filter(phone__isnull=False, crisis_flag=False,"
        " deceased=False).exclude(upcoming_appointments=[]).order_by('-version'))\n"
        "p = shown.filter(patient_id__in=reminded & suggested).first() or shown.first()\n"
        "print(p.patient_id, p.phone, sep='|')\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup()\n{script}"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    patient_id, phone = found.splitlines()[-1].split("|")
    digits = phone[-10:]
    return {"id": patient_id, "typed": f"{digits[:3]}.{digits[3:6]}.{digits[6:]}"}


def _shoot(base: str, patient: dict[str, str]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(
            base_url=base, viewport={"width": 1280, "height": 1000}, locale="en-US"
        )
        page = context.new_page()
        _login(page, "frontdesk")
        page.get_by_label("Find a patient").fill(patient["typed"])
        page.get_by_role("button", name="Search").click()
        page.wait_for_selector("#result_list")
        page.screenshot(path=OUT / "patient-search.png")

        page.locator(f'#result_list a[href*="{patient["id"]}"]').click()
        page.wait_for_selector("#timeline")
        # Tall enough for the visits, suggestions and reminders, and the timeline's start.
        page.set_viewport_size({"width": 1280, "height": 1500})
        page.screenshot(path=OUT / "patient-page.png")
        page.set_viewport_size({"width": 1280, "height": 1000})

        page.locator("#actions").get_by_role("link", name="Book an appointment").click()
        page.get_by_label("Visit").select_option("annual_wellness")
        page.get_by_label("Time:", exact=True).fill("10:15")
        page.get_by_label("Provider").fill("Dr. Morgan Ashdale")
        page.get_by_label("Location").fill("Main Street Clinic, 2nd floor")
        page.screenshot(path=OUT / "schedule-form.png")
        context.clear_cookies()

        _login(page, "supervisor")
        page.get_by_role("link", name="Supervisor dashboard").click()
        page.wait_for_selector("#chart-calls")
        page.screenshot(path=OUT / "supervisor-dashboard.png", full_page=True)
        browser.close()
    for name in ("patient-search", "patient-page", "schedule-form", "supervisor-dashboard"):
        print(OUT / f"{name}.png")


def _login(page: Any, username: str) -> None:
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(f"demo-{username}-pass")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


if __name__ == "__main__":
    main()
