"""Seal every 两步验证 key again under the current SECRET_KEY.

After SECRET_KEY has changed (the old key moved to SECRET_KEY_FALLBACKS), each key is
sealed again at its member's next code anyway; this does all of them at once, so that
the old key can leave SECRET_KEY_FALLBACKS. Keys that no configured key opens are
counted, not changed: their members log in with a recovery code and turn it on again.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.two_factor import reseal_all


class Command(BaseCommand):
    help = "Seal every two-step verification key again under the current SECRET_KEY."

    def handle(self, *args, **options):
        resealed, unreadable = reseal_all()
        self.stdout.write(f"sealed {resealed} keys again under the current SECRET_KEY")
        if unreadable:
            self.stderr.write(f"{unreadable} keys open with no configured key: those members log in with a "
                              "recovery code and turn two-step verification on again")
