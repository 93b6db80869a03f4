from django.contrib import admin
from django.urls import include, path

from frontend.app_manifest import manifest
from frontend.offline import offline, service_worker
from frontend.two_factor_views import admin_login
from frontend.views import set_language
from realtime.metrics import metrics

from .api import api
from .csp import csp_report
from .health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),  # Prometheus, per process (realtime/metrics.py)
    path("csp-report", csp_report, name="csp-report"),
    path("manifest.webmanifest", manifest, name="manifest"),
    # The offline page, and the service worker that shows it (frontend/offline.py).
    path("sw.js", service_worker, name="service-worker"),
    path("offline/", offline, name="offline"),
    # One way in: the site's login, which asks for the two-step code (accounts/two_factor.py).
    path("admin/login/", admin_login),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    # Django's language switch, which also keeps a member's choice (accounts/language.py).
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("meetings.urls")),
    path("", include("frontend.urls")),
]

# /api/ paths answer errors as JSON in the API's shape; pages get the site's error pages.
handler404 = "frontend.views.page_not_found"
handler500 = "frontend.views.server_error"
