"""The web app manifest: a member puts Branchline on their phone's home screen (or
installs it on a computer) and it opens like an app, in a window of its own, at their
branch's announcements, with its icon and colour. In the language of the page that
asked for it. The icons are drawn from icon.svg by scripts/make_icons.py."""

from __future__ import annotations

from django.http import JsonResponse
from django.templatetags.static import static
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

THEME = "#b3121f"  # app.css's --accent
BACKGROUND = "#f5f6f7"  # app.css's --bg


@require_GET
def manifest(request):
    data = {
        "name": _("Branchline · branch online"),
        "short_name": _("branch online"),
        "description": _("Announcements, forum and meetings of your party branch, live."),
        "lang": get_language(),
        "start_url": "/",
        "scope": "/",
        "id": "/",
        "display": "standalone",
        "background_color": BACKGROUND,
        "theme_color": THEME,
        "icons": [
            {"src": static("frontend/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("frontend/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static("frontend/icon-maskable-512.png"), "sizes": "512x512", "type": "image/png",
             "purpose": "maskable"},
            {"src": static("frontend/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    response = JsonResponse(data, content_type="application/manifest+json",
                            json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "max-age=3600"
    response["Vary"] = "Cookie"  # its language is the page's
    return response
