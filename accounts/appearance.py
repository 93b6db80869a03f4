"""外观: light or dark pages, and the size of their text. The stylesheet has both themes
(frontend/static/frontend/app.css) and follows the device's setting; a member may fix
one on 我的账号, and may make all text larger (大字, for older members and citizens who
would not look for the browser's zoom), there or with the header's 大字 button. Every
page they see, on every browser they log in to, names the choice on
<html data-theme data-text-size> (frontend.context_processors). Visitors and citizens
get the device's theme, and the header's button keeps their text size in a cookie of
this browser. A browser without CSS light-dark() shows the light pages whatever is
chosen.
"""

from __future__ import annotations

from .models import MailSettings

Theme = MailSettings.Theme
TextSize = MailSettings.TextSize
DEFAULT = {"theme": "", "text_size": ""}
TEXT_SIZE_COOKIE = "bl_text_size"  # a visitor's or citizen's, from the header's button
TEXT_SIZE_COOKIE_AGE = 365 * 86400


def for_request(request) -> dict[str, str]:
    """What this page should look like: a member's choices, or a visitor's text size."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return of(user)
    size = request.COOKIES.get(TEXT_SIZE_COOKIE, "")
    return {"theme": "", "text_size": size if size in TextSize.values else ""}


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


def choose_text_size(user, text_size: str) -> bool:
    """The header's button, for a member: the size alone (their theme is not touched)."""
    if text_size not in TextSize.values:
        return False
    MailSettings.objects.update_or_create(user=user, defaults={"text_size": text_size})
    return True
