from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("Branch meetings")

    def ready(self) -> None:
        from . import review, streams  # noqa: F401  registers the meeting stream type, its ops, the chat review target
