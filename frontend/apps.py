from django.apps import AppConfig


class FrontendConfig(AppConfig):
    name = "frontend"

    def ready(self) -> None:
        from . import streams  # noqa: F401  registers notifications.recent
        from . import weekly  # noqa: F401  registers the weekly summary's job
