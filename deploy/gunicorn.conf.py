"""gunicorn's settings for the CRM's web tier, read from the environment (deploy/README.md):
`gunicorn -c deploy/gunicorn.conf.py`."""

from __future__ import annotations

import gc
import os

wsgi_app = "config.wsgi:application"
# Everything but the desk's event streams: a stream stays open for minutes and would hold a
# sync worker all that time (and be killed at GUNICORN_TIMEOUT). The proxy sends
# /api/v1/desk/stream to uvicorn instead (deploy/README.md, "The desk's streams").
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Processes per host; the web tier is stateless, so add hosts rather than giant hosts.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# A fresh process now and then bounds any slow leak, staggered so workers never restart
# together. Each restart stalls the lookups queued at that worker: at 2,000 the screen pop's
# p99 at 200 lookups/s was 2 s (six restarts a minute), at 20,000 15.5 ms
# (docs/benchmarks.md, "API lookup").
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
# Workers are forked from a master that has loaded Django, so a restarted worker serves at
# once instead of spending 1.8 s of CPU importing it while the others queue. New code then
# takes a restart of the service (or USR2, then QUIT to the old master), not a HUP.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"


def pre_fork(server: object, worker: object) -> None:
    """No database connection crosses a fork: a child sharing the master's socket would
    interleave its queries with another process's. Django opens none at import; this keeps
    it so whatever a later import does. Without preloading the master never loads Django."""
    from django.conf import settings

    if settings.configured:
        from django.db import connections

        connections.close_all()
    # What the master holds (Django, the views, the compiled caches: config/warmup.py) is
    # set aside from the cyclic collector: a worker's full collections then skip it (26 ->
    # 4 ms each), and do not write to every inherited object, which would copy the whole
    # heap page by page into each new worker.
    gc.freeze()


# The proxies whose X-Forwarded-* gunicorn believes (Django reads the scheme from
# SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# No runtime control socket (gunicorn 24+): nothing to manage the server through but signals.
control_socket_disable = True
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The path without its query string: the screen pop and the search carry a phone number or
# a name there, which must not end up in a log.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
