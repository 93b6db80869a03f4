"""manage.py restore FILE: puts back a backup made by `manage.py backup` (realtime/backup.py),
after backing up what is here now; then migrates."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from realtime import backup


class Command(BaseCommand):
    help = "Put back a backup made by `manage.py backup` (stop every daphne process first)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the backup (branchline-<time>.tar)")
        parser.add_argument("--yes", action="store_true", help="do it (without it, say what would happen)")
        parser.add_argument("--to", default=str(settings.BACKUP_DIR),
                            help="where the backup of what is here now goes first (default: BACKUP_DIR)")
        parser.add_argument("--no-backup-first", action="store_true",
                            help="do not back up what is here now first")
        parser.add_argument("--server-stopped", action="store_true",
                            help="restore although a server process said within 90 s that it runs "
                                 "(one you know was killed)")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            manifest = backup.read_manifest(path)
            backup.check_restorable(manifest)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        what = (f"the {manifest['engine']} database and {manifest['media_files']} uploaded files "
                f"as they were at {manifest['created']}")
        if not options["yes"]:
            self.stdout.write(f"This would replace the database, and put back into MEDIA_ROOT, {what}. "
                              "Stop every daphne process first, then run it again with --yes.")
            return
        try:
            if not options["server_stopped"]:
                backup.check_server_stopped()
            _manifest, before = backup.restore(path, folder=Path(options["to"]),
                                               backup_first=not options["no_backup_first"])
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        if before is not None:
            self.stdout.write(f"What was here before: {before.path}")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(f"Restored {what}, and migrated. Start the server again; open pages catch up by "
                          "themselves.")
