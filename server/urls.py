from django.contrib import admin
from django.urls import include, path

from .api import api
from .health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("meetings.urls")),
    path("", include("frontend.urls")),
]
