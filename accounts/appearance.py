"""外观: light or dark pages. The stylesheet has both (frontend/static/frontend/app.css)
and follows the device's setting; a member may fix one on 我的账号, which every page
then names on <html data-theme> (frontend.context_processors.navigation), on every
browser they log in to. Visitors and citizens follow their device. A browser without
CSS light-dark() shows the light pages whatever is chosen.
"""

from __future__ import annotations

from .models import MailSettings

Theme = MailSettings.Theme


def of(user) -> str:
    """The member's choice: "light", "dark", or "" (as their device is set)."""
    return MailSettings.objects.filter(user=user).values_list("theme", flat=True).first() or ""


def choose(user, theme: str) -> bool:
    """Keeps `theme` if it is one of the choices; False (nothing changed) if not."""
    if theme not in Theme.values:
        return False
    MailSettings.objects.update_or_create(user=user, defaults={"theme": theme})
    return True
