from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnnouncementsConfig(AppConfig):
    name = "announcements"
    verbose_name = _("Announcements")

    def ready(self) -> None:
        from . import (
            digest,  # noqa: F401  registers the daily digest's job
            streams,  # noqa: F401  registers the stream type and ops
        )
