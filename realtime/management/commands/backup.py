"""manage.py backup: the database and the uploaded files in one file (realtime/backup.py),
while the server runs; for cron or a systemd timer."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat
from django.utils import translation

from realtime import backup


class Command(BaseCommand):
    help = "Back up the database and MEDIA_ROOT into one file (a tar), while the server runs."

    def add_arguments(self, parser):
        parser.add_argument("--to", default=str(settings.BACKUP_DIR),
                            help="the folder to write it into (default: BACKUP_DIR, backups/ in the checkout)")
        parser.add_argument("--keep", type=int, default=0,
                            help="then delete all but the newest KEEP backups in that folder (0: keep all)")

    def handle(self, *args, **options):
        if options["keep"] < 0:
            raise CommandError("--keep is a number of backups, 0 or more")
        try:
            made = backup.make(Path(options["to"]), keep=options["keep"])
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        m = made.manifest
        with translation.override("en"):  # the operator's words are English; so are the sizes
            self.stdout.write(f"{made.path}: the {m['engine']} database ({filesizeformat(m['database_bytes'])}) and "
                              f"{m['media_files']} uploaded files ({filesizeformat(m['media_bytes'])})")
        self.stdout.write("SECRET_KEY is not in it: keep it (var/secret_key, or your environment file) apart.")
