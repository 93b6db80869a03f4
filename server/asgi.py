"""ASGI entry point: HTTP (Django, static files) and the one WebSocket endpoint /ws/."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

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

websocket_app = AllowedHostsOriginValidator(
    AuthMiddlewareStack(IdentityMiddleware(URLRouter([path("ws/", RealtimeConsumer.as_asgi())])))
)

application = ProtocolTypeRouter(
    {
        # Static files are served by the app itself in the embedded shape; in the
        # scaled shape a proxy serves STATIC_ROOT (docs/deploy.md).
        "http": ASGIStaticFilesHandler(get_asgi_application()),
        "websocket": websocket_app,
    }
)
