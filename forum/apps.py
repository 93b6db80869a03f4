from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ForumConfig(AppConfig):
    name = "forum"
    verbose_name = _("Micro-forum")

    def ready(self) -> None:
        from . import discussions, review, streams  # noqa: F401  registers ops, streams, review targets, jobs
