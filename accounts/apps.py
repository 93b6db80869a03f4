from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and branches")

    def ready(self) -> None:
        from . import devices  # noqa: F401  records logins and logouts (signal receivers)
        from . import notification_mail  # noqa: F401  mails notifications still unread (periodic job)
        from . import party_dates  # noqa: F401  greets members on their political birthday (periodic job)
        from . import security  # noqa: F401  the security log's wrong passwords and codes, and its pruning
        from . import streams  # noqa: F401  registers the inbox stream type
        from . import throttle  # noqa: F401  counts failed logins (signal receivers)
