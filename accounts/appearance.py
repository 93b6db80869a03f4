"""外观: light or dark pages, and the size of their text. The stylesheet has both themes
(frontend/static/frontend/app.css) and follows the device's setting; a member may fix
one on 我的账号, and may make all text larger (大字, for older members who would not
look for the browser's zoom). Every page they see, on every browser they log in to,
names the choice on <html data-theme data-text-size> (frontend.context_processors).
Visitors and citizens get the device's theme and the standard size. A browser without
CSS light-dark() shows the light pages whatever is chosen.
"""

from __future__ import annotations

from .models import MailSettings

Theme = MailSettings.Theme
TextSize = MailSettings.TextSize
DEFAULT = {"theme": "", "text_size": ""}


def of(user) -> dict[str, str]:
    """The member's choices: `theme` "light", "dark" or "" (as their device is set);
    `text_size` "large", "larger" or "" (standard)."""
    row = MailSettings.objects.filter(user=user).values("theme", "text_size").first()
    return row or dict(DEFAULT)


def choose(user, *, theme: str, text_size: str) -> bool:
    """Keeps both if each is one of its choices; False (nothing changed) if not."""
    if theme not in Theme.values or text_size not in TextSize.values:
        return False
    MailSettings.objects.update_or_create(user=user, defaults={"theme": theme, "text_size": text_size})
    return True
