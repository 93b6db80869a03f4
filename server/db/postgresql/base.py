"""PostgreSQL without a health-check round trip on a connection that was just used.

With CONN_HEALTH_CHECKS Django runs `SELECT 1` before the first query of every
request cycle, and every `database_sync_to_async` hop of the WebSocket server is one:
a network round trip (100-200 µs here) per op and per batch of writes, more than some
of the op's own statements. A connection that ran a query less than
`FRESH_SECONDS` ago is taken as healthy; an idle one (where a server restart or a
dropped TCP connection shows up) is still checked, and any error a query meets makes
Django check it at the next hop as before.
"""

from __future__ import annotations

import time

from django.db.backends.postgresql import base

from ..savepoints import SuspendableSavepoints

FRESH_SECONDS = 1.0


class DatabaseWrapper(SuspendableSavepoints, base.DatabaseWrapper):
    used_at = 0.0

    def create_cursor(self, name=None):
        self.used_at = time.monotonic()
        return super().create_cursor(name)

    def close_if_health_check_failed(self):
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and time.monotonic() - self.used_at < FRESH_SECONDS
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
