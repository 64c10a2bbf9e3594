"""Project configuration: settings read from the environment, URLs, WSGI/ASGI entry points."""
