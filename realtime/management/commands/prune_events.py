"""Apply event retention to every stream and drop old client-write records.

Streams are also pruned as they grow (every 200 appends); run this daily (cron or a
systemd timer) so quiet streams lose their old events too.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from realtime.events import prune_stream
from realtime.idempotency import prune_client_writes
from realtime.models import Stream


class Command(BaseCommand):
    help = "Apply event retention (EVENT_RETENTION_DAYS / EVENT_RETENTION_EVENTS) to all streams."

    def handle(self, *args, **options):
        removed = 0
        for key in Stream.objects.values_list("key", flat=True).iterator():
            with transaction.atomic():
                removed += prune_stream(key)
        writes = prune_client_writes()
        self.stdout.write(f"removed {removed} events and {writes} client-write records")
