"""ASGI entry point: HTTP (Django, static files) and the one WebSocket endpoint /ws/."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

import gc  # noqa: E402

import django  # noqa: E402

django.setup()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402
from django.urls import path  # noqa: E402

from realtime.auth import IdentityMiddleware  # noqa: E402
from realtime.consumer import RealtimeConsumer  # noqa: E402
from realtime.hub import start_with_the_server  # noqa: E402

websocket_app = AllowedHostsOriginValidator(
    AuthMiddlewareStack(IdentityMiddleware(URLRouter([path("ws/", RealtimeConsumer.as_asgi())])))
)

# The garbage collector, measured with 1,000 subscribed sockets: a full collection
# walked Django, the app and every connection's objects for 83-89 ms, a pause every
# socket's next frame waited out (the fan-out benchmark's p99), and a middle one took
# 2.5-4 ms about four times a second. What exists now (modules, settings, the URL
# conf) lives as long as the process: freeze it out of every future collection (that
# alone halved the full pass). And collect the youngest objects every 50,000
# allocations rather than 700, so the older generations are visited far less often
# (one full pass in the benchmark's minute instead of three); cycles are still
# collected, a little later.
gc.freeze()
gc.set_threshold(50_000, 20, 10)

application = ProtocolTypeRouter(
    {
        # Static files are served by the app itself in the embedded shape; in the
        # scaled shape a proxy serves STATIC_ROOT (docs/deploy.md).
        "http": ASGIStaticFilesHandler(get_asgi_application()),
        "websocket": websocket_app,
    }
)

# The periodic jobs run from the first moment, not from the first WebSocket (realtime/hub.py).
start_with_the_server()
