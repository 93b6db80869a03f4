"""The offline page, and the service worker that shows it (/sw.js): an installed
Branchline (frontend/app_manifest.py), or any tab, that cannot load a page because the
device or the server is offline shows a page of ours, in the member's language, which
opens the page asked for by itself when the server answers again, instead of the
browser's error. The worker answers nothing else: pages, data and files always come
from the network while it works (docs/deploy.md, "Offline page").

The worker's version is a digest of what it keeps (the offline page in every language,
its stylesheet and script), so a deploy that changes any of them makes browsers fetch
them again; /sw.js itself is never cached, as browsers expect of a worker script.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET

ASSETS = ("frontend/app.css", "frontend/offline.js")


def _page() -> str:
    return render_to_string("frontend/offline.html", {"languages": [code for code, _name in settings.LANGUAGES]})


@lru_cache(maxsize=1)
def _worker() -> str:
    digest = hashlib.sha256(_page().encode())
    for asset in ASSETS:
        found = finders.find(asset)
        if found:
            with open(found, "rb") as f:
                digest.update(f.read())
    kept = [reverse("offline"), *(static(asset) for asset in ASSETS)]
    return render_to_string("frontend/service_worker.js", {
        "version": digest.hexdigest()[:16], "offline_url": reverse("offline"), "kept": json.dumps(kept)})


@require_GET
def service_worker(request):
    response = HttpResponse(_worker(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def offline(request):
    response = HttpResponse(_page())
    response["Cache-Control"] = "no-cache"
    return response
