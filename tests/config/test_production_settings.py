"""Production is safe by default: HTTPS only, short secure sessions, a strict CSP, hashed
static files, and no silent console instead of real texts. `make run` stays plain HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
SECRET = {"SECRET_KEY": "s" * 50}
# Settings the test run itself sets (config/test_settings.py, the browser tests'
# DJANGO_ALLOW_ASYNC_UNSAFE) or a developer may have set.
OURS = (
    "CLINIC_SHORT_NAME",
    "CLINIC_PHONE",
    "DATABASE_URL",
    "DEBUG",
    "SMS_BACKEND",
    "SECRET_KEY",
    "REDIS_URL",
    "CACHE_URL",
)

# Each starts Python with the settings of a case: a second apiece, so not in `make test-fast`.
pytestmark = pytest.mark.processes

SHOW = """
import json, django
django.setup()
from django.conf import settings as s

print(json.dumps({
    "ssl_redirect": s.SECURE_SSL_REDIRECT, "proxy_header": s.SECURE_PROXY_SSL_HEADER,
    "hsts": s.SECURE_HSTS_SECONDS, "hsts_subdomains": s.SECURE_HSTS_INCLUDE_SUBDOMAINS,
    "session_secure": s.SESSION_COOKIE_SECURE, "csrf_secure": s.CSRF_COOKIE_SECURE,
    "session_age": s.SESSION_COOKIE_AGE, "sms_backend": s.SMS_BACKEND,
    "static": s.STORAGES["staticfiles"]["BACKEND"],
    "script_src": s.CONTENT_SECURITY_POLICY["DIRECTIVES"]["script-src"],
}))
"""


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in OURS and not k.startswith(("SECURE_", "DJANGO_"))
    }
    return subprocess.run(
        [sys.executable, *args],
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'crm.sqlite3'}",
            **env,
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _settings(tmp_path: Path, **env: str) -> dict[str, object]:
    result = _run(tmp_path, "-c", SHOW, **env)
    assert result.returncode == 0, result.stderr
    shown: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return shown


def test_production_refuses_to_start_without_an_sms_backend_chosen(tmp_path):
    result = _run(tmp_path, "-c", SHOW, DEBUG="0", **SECRET)

    assert result.returncode != 0
    assert "SMS_BACKEND must be set when DEBUG is off" in result.stderr


def test_real_texts_need_the_clinics_own_name_and_number_not_the_demos(tmp_path):
    twilio = {
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "example-only",
        "TWILIO_FROM_NUMBER": "+16175550100",
    }
    unnamed = _run(tmp_path, "-c", SHOW, DEBUG="0", CLINIC_PHONE="+16175550100", **twilio, **SECRET)
    named = _run(
        tmp_path,
        "-c",
        SHOW,
        DEBUG="0",
        CLINIC_SHORT_NAME="Harbor",
        CLINIC_PHONE="+16175550100",
        **twilio,
        **SECRET,
    )

    assert unnamed.returncode != 0
    assert "CLINIC_SHORT_NAME is required when SMS_BACKEND=twilio" in unnamed.stderr
    assert named.returncode == 0, named.stderr


def test_a_twilio_account_sid_that_is_not_one_stops_the_start_naming_it(tmp_path):
    result = _run(
        tmp_path,
        "-c",
        SHOW,
        DEBUG="0",
        SMS_BACKEND="twilio",
        TWILIO_ACCOUNT_SID="ACexampleonly",
        TWILIO_AUTH_TOKEN="example-only",
        TWILIO_FROM_NUMBER="+16175550100",
        CLINIC_SHORT_NAME="Harbor",
        CLINIC_PHONE="+16175550100",
        **SECRET,
    )

    assert result.returncode != 0
    assert "TWILIO_ACCOUNT_SID must be your account's SID" in result.stderr


def test_production_defaults_are_the_safe_ones(tmp_path):
    shown = _settings(tmp_path, DEBUG="0", SMS_BACKEND="console", **SECRET)

    assert shown["ssl_redirect"] is True
    assert shown["proxy_header"] is None  # trusting a proxy header is an explicit choice
    assert shown["hsts"] == 365 * 86400 and shown["hsts_subdomains"] is True
    assert shown["session_secure"] is True and shown["csrf_secure"] is True
    assert shown["session_age"] == 10 * 3600
    assert shown["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert shown["script_src"] == ["'self'"]


def test_make_run_keeps_plain_http_and_prints_its_texts(tmp_path):
    shown = _settings(tmp_path, DEBUG="1")

    assert shown["sms_backend"] == "console"
    assert shown["ssl_redirect"] is False and shown["hsts"] == 0
    assert shown["session_secure"] is False and shown["csrf_secure"] is False
    assert shown["static"] == "django.contrib.staticfiles.storage.StaticFilesStorage"


def test_the_proxy_header_is_read_from_the_environment(tmp_path):
    shown = _settings(
        tmp_path,
        DEBUG="0",
        SMS_BACKEND="console",
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
        **SECRET,
    )

    assert shown["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto", "SECURE_PROXY_SSL_HEADER='X-Forwarded"),
        ("Q_RETRY_SECONDS", "30", "Q_RETRY_SECONDS must be longer than Q_TIMEOUT_SECONDS"),
        ("SECURE_HSTS_SECONDS", "a year", "SECURE_HSTS_SECONDS='a year' is not a whole number"),
    ],
)
def test_a_malformed_production_setting_stops_the_start_naming_it(
    tmp_path, variable, value, message
):
    result = _run(
        tmp_path, "-c", SHOW, DEBUG="0", SMS_BACKEND="console", **SECRET, **{variable: value}
    )

    assert result.returncode != 0
    assert message in result.stderr


def _read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def test_the_example_environment_passes_djangos_deployment_check(tmp_path):
    example = _read_env_file(ROOT / "deploy" / "env.example")

    result = _run(tmp_path, "manage.py", "check", "--deploy", "--fail-level", "WARNING", **example)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.fixture
def production_http(settings):
    """The security settings production runs with, behind a proxy that ends TLS."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 365 * 86400
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True


@pytest.mark.django_db
def test_plain_http_is_sent_to_https_but_the_load_balancers_probe_is_answered(production_http):
    client = Client()

    page = client.get("/admin/login/")
    probe = client.get("/healthz")

    assert page.status_code == 301
    assert page["Location"] == "https://testserver/admin/login/"
    assert probe.status_code == 200


@pytest.mark.django_db
def test_a_sign_in_through_the_proxy_gets_hsts_a_csp_and_a_secure_short_session(
    production_http, django_user_model
):
    django_user_model.objects.create_user(
        "desk.oak", password="not-a-real-password-42", is_staff=True
    )
    client = Client(headers={"X-Forwarded-Proto": "https"})

    page = client.get("/admin/login/")
    signed_in = client.post(
        "/admin/login/", {"username": "desk.oak", "password": "not-a-real-password-42"}
    )

    assert page.status_code == 200
    assert page["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    session = signed_in.cookies["sessionid"]
    assert session["secure"] is True and session["httponly"] is True
    assert not session["max-age"]  # ends with the browser; the server ends it after a day


def test_the_deployment_check_warns_behind_a_proxy_that_names_no_client(tmp_path):
    example = _read_env_file(ROOT / "deploy" / "env.example")
    example.pop("NUM_PROXIES")

    result = _run(tmp_path, "manage.py", "check", "--deploy", "--fail-level", "WARNING", **example)

    assert result.returncode != 0
    assert "crm.W001" in result.stderr and "NUM_PROXIES" in result.stderr


def test_the_number_of_proxies_is_read_from_the_environment(tmp_path):
    show = (
        "import django; django.setup(); "
        "from rest_framework.settings import api_settings; print(api_settings.NUM_PROXIES)"
    )

    result = _run(tmp_path, "-c", show, DEBUG="1", NUM_PROXIES="1")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "1"


SHOW_DATABASE = """
import json, django
django.setup()
from django.conf import settings as s

print(json.dumps(s.DATABASES["default"]["OPTIONS"]))
"""


@pytest.mark.parametrize(
    ("threshold", "options"),
    [
        ("", {}),  # Django's own: parameters bound in the client, nothing prepared
        ("5", {"prepare_threshold": 5, "server_side_binding": True}),
    ],
)
def test_prepared_statements_bind_every_query_on_the_server(tmp_path, threshold, options):
    # Django's client-side binding sends each query as one-off text, which PostgreSQL cannot
    # prepare: without server_side_binding the threshold would reach only raw psycopg cursors.
    result = _run(
        tmp_path,
        "-c",
        SHOW_DATABASE,
        DATABASE_URL="postgres://crm@127.0.0.1:5432/crm",
        DATABASE_PREPARE_THRESHOLD=threshold,
        DEBUG="1",
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == options
