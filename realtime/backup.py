"""备份与恢复: one file holding the database and the uploaded files, made while the server
runs (`manage.py backup`, for cron), and put back with `manage.py restore`.

A backup is a plain tar (the files are PDFs and pictures, which do not compress):
`manifest.json` (when, which database engine, the migrations applied, what it holds),
the database (SQLite: a copy made with SQLite's online backup, consistent while
writers go on; PostgreSQL: `pg_dump --format=custom`), and `media/`, every file under
MEDIA_ROOT. The database is copied first: a file uploaded meanwhile may be in the tar
without its row (never served), but a row in the copy always has its file.

It leaves out SECRET_KEY (`var/secret_key` in the embedded shape): secret votes'
counts and two-step keys are sealed with it, so whoever holds a backup and the key
could read more than the backup alone tells. Keep the key, once, somewhere else
(docs/deploy.md, section 10).

A restore first backs up what is there now (into the same folder), then puts the
database and the files back and migrates, so a backup of an older Branchline comes
forward to this one. Stop every daphne process first (a restore refuses while one
says it runs, realtime/processes.py): a page open during the restore gets `resync`
when it comes back (its streams' heads moved back).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import connection, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE = {"sqlite": "database.sqlite3", "postgresql": "database.dump"}
MEDIA = "media/"
PREFIX = "branchline-"
SUFFIX = ".tar"


class BackupError(Exception):
    """What went wrong, in words for the operator; nothing was changed."""


@dataclass
class Made:
    path: Path
    manifest: dict


def engine() -> str:
    vendor = connection.vendor
    if vendor not in DATABASE:
        raise BackupError(f"backups know SQLite and PostgreSQL, not {vendor}")
    return vendor


def make(folder: Path, *, keep: int = 0, label: str = "") -> Made:
    """A backup of the database and MEDIA_ROOT into `folder`, named by the time (UTC);
    written under a temporary name and renamed when whole, so a backup that is there is
    complete. `keep`: then delete all but the newest `keep` backups in the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    vendor = engine()
    stamp = _now().strftime("%Y%m%d-%H%M%S")
    final = folder / f"{PREFIX}{stamp}{label}{SUFFIX}"
    if final.exists():
        raise BackupError(f"{final} already exists; wait a second and run it again")
    partial = folder / f".{final.name}.partial"
    applied = _applied()
    with tempfile.TemporaryDirectory(dir=folder, prefix=".backup-") as work:
        dump = Path(work) / DATABASE[vendor]
        (_copy_sqlite if vendor == "sqlite" else _pg_dump)(dump)
        try:
            with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
                tar.add(dump, arcname=DATABASE[vendor], recursive=False)
                root, files, size = Path(settings.MEDIA_ROOT), 0, 0
                for rel, _size in _media_files(skip=folder):
                    try:
                        member = tar.gettarinfo(root / rel, arcname=MEDIA + rel)
                        with open(root / rel, "rb") as content:
                            tar.addfile(member, content)
                    except FileNotFoundError:
                        continue  # deleted since it was listed (an upload never attached, say)
                    files, size = files + 1, size + member.size
                manifest = {
                    "format": FORMAT,
                    "created": _now().isoformat(timespec="seconds"),
                    "engine": vendor,
                    "migrations": applied,
                    "database_bytes": dump.stat().st_size,
                    "media_files": files,
                    "media_bytes": size,
                }
                # Last, with what was really written (read by name, wherever it is).
                _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
            with open(partial, "rb") as written:
                os.fsync(written.fileno())
            os.replace(partial, final)
        finally:
            partial.unlink(missing_ok=True)
    if keep:
        for old in backups_in(folder)[:-keep]:
            old.unlink(missing_ok=True)
    return Made(final, manifest)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def backups_in(folder: Path) -> list[Path]:
    """The folder's backups, oldest first (their names sort by time)."""
    return sorted(p for p in folder.glob(f"{PREFIX}*{SUFFIX}") if p.is_file())


def read_manifest(path: Path) -> dict:
    try:
        with tarfile.open(path, "r:") as tar:
            member = tar.extractfile(MANIFEST)
            manifest = json.load(member) if member else None
    except (OSError, tarfile.TarError, KeyError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("engine") not in DATABASE \
            or not _migrations_shape(manifest.get("migrations")):
        raise BackupError(f"{path} is not a Branchline backup (no manifest this version understands)")
    return manifest


def _migrations_shape(migrations) -> bool:
    """{app: [migration name, …]}, as `make` writes it."""
    return isinstance(migrations, dict) and all(
        isinstance(app, str) and isinstance(names, list) and all(isinstance(n, str) for n in names)
        for app, names in migrations.items())


def check_server_stopped() -> None:
    """Refuses while a server process says it runs (realtime/processes.py): it would go on
    serving from caches of the database being replaced, and on SQLite write into it."""
    from .processes import ALIVE_WITHIN, running

    alive = running()
    if alive:
        now = _now()
        names = ", ".join(f"{p.host} pid {p.pid} ({int((now - p.seen_at).total_seconds())} s ago)" for p in alive)
        raise BackupError(
            f"{len(alive)} server process(es) said in the last {int(ALIVE_WITHIN.total_seconds())} s that they run: "
            f"{names}. Stop every daphne process first (they say when they stop; one that was killed is "
            f"forgotten {int(ALIVE_WITHIN.total_seconds())} s after its last word), or pass --server-stopped "
            "if you know that none runs.")


def check_restorable(manifest: dict) -> None:
    """Refuses a backup this server cannot take: another engine, or migrations this code
    does not have (a backup of a newer Branchline)."""
    vendor = engine()
    if manifest["engine"] != vendor:
        raise BackupError(f"this backup is of a {manifest['engine']} database and this server uses {vendor}; "
                          "restore it on a server of the same shape")
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = sorted(f"{app}.{name}" for app, names in manifest["migrations"].items() for name in names
                     if (app, name) not in known)
    if unknown:
        raise BackupError("this backup was made by a newer Branchline (migrations this code does not have: "
                          f"{', '.join(unknown[:5])}{' …' if len(unknown) > 5 else ''}); update the code first")


def restore(path: Path, *, folder: Path, backup_first: bool = True) -> tuple[dict, Made | None]:
    """Put back the database and the files of the backup at `path`. First, unless told
    not to, a backup of what is here now, into `folder`. Returns the backup's manifest
    and that first backup."""
    manifest = read_manifest(path)
    check_restorable(manifest)
    folder.mkdir(parents=True, exist_ok=True)
    before = make(folder, label="-before-restore") if backup_first else None
    vendor = manifest["engine"]
    with tempfile.TemporaryDirectory(dir=folder, prefix=".restore-") as work, tarfile.open(path, "r:") as tar:
        dump = Path(work) / DATABASE[vendor]
        _extract_file(tar, DATABASE[vendor], dump)
        connections.close_all()
        (_put_sqlite if vendor == "sqlite" else _pg_restore)(dump)
        root = Path(settings.MEDIA_ROOT)
        for member in tar:
            if member.name.startswith(MEDIA) and member.isfile():
                rel = _safe_relative(member.name[len(MEDIA):])
                if rel is not None:
                    _extract_file(tar, member.name, root / rel)
    connections.close_all()
    return manifest, before


# -- the database ------------------------------------------------------------------------


def _applied() -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in sorted(MigrationRecorder(connection).applied_migrations()):
        applied.setdefault(app, []).append(name)
    return applied


def _sqlite_path() -> str:
    return str(connection.settings_dict["NAME"])


def _copy_sqlite(dump: Path) -> None:
    """SQLite's online backup, in one step: a consistent copy while writers go on (WAL
    lets them; the copy is of the last commit before it began)."""
    source = sqlite3.connect(f"file:{_sqlite_path()}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(dump)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _put_sqlite(dump: Path) -> None:
    """The backup's pages into the live file (its WAL and locks respected), not a copy
    over it, which a -wal file beside it would then corrupt."""
    Path(_sqlite_path()).parent.mkdir(parents=True, exist_ok=True)  # a new machine's checkout has no var/
    source = sqlite3.connect(dump)
    target = sqlite3.connect(_sqlite_path(), timeout=30)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _pg_tool(tool: str) -> str:
    found = shutil.which(tool)
    if not found:
        raise BackupError(f"{tool} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _pg_args(tool: str) -> tuple[list[str], dict[str, str]]:
    """`tool` with the configured database's connection options (the password through
    the environment, never the command line)."""
    s = connection.settings_dict
    args = [_pg_tool(tool), "--no-password"]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if s.get(key):
            args += [flag, str(s[key])]
    env = dict(os.environ)
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    return args, env


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {done.stderr.strip() or done.stdout.strip()}")


def _pg_dump(dump: Path) -> None:
    args, env = _pg_args("pg_dump")
    _run([*args, "--format=custom", "--no-owner", "--file", str(dump), "--dbname", connection.settings_dict["NAME"]],
         env)


def _pg_restore(dump: Path) -> None:
    """Into the configured database, all or nothing: its schema emptied (tables a later
    migration made too, which `migrate` then makes again) and the backup's put back,
    in one transaction."""
    script = dump.with_suffix(".sql")  # pg_restore only turns the dump into SQL: no connection
    _run([_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--file", str(script), str(dump)],
         dict(os.environ))
    args, env = _pg_args("psql")
    _run([*args, "--quiet", "--single-transaction", "--set", "ON_ERROR_STOP=1",
          "--command", "DROP SCHEMA public CASCADE", "--command", "CREATE SCHEMA public",
          "--file", str(script), "--dbname", connection.settings_dict["NAME"]], env)


# -- the files ---------------------------------------------------------------------------


def _media_files(*, skip: Path) -> list[tuple[str, int]]:
    """Every file under MEDIA_ROOT, but none under `skip` (the backups' own folder, were
    it put inside MEDIA_ROOT)."""
    root = Path(settings.MEDIA_ROOT)
    if not root.is_dir():
        return []
    skip = skip.resolve()
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and not path.resolve().is_relative_to(skip):
            found.append((path.relative_to(root).as_posix(), path.stat().st_size))
    return found


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(timezone.utc).timestamp())
    tar.addfile(info, io.BytesIO(data))


def _safe_relative(name: str) -> str | None:
    """A member's path under media/, or None for one that would land outside it."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or any(part in ("", "..") for part in path.parts):
        return None
    return path.as_posix()


def _extract_file(tar: tarfile.TarFile, name: str, to: Path) -> None:
    """One regular file of the tar to `to`, written beside it and renamed into place."""
    try:
        member = tar.getmember(name)
    except KeyError:
        raise BackupError(f"the backup has no {name}") from None
    source = tar.extractfile(member) if member.isfile() else None
    if source is None:
        raise BackupError(f"the backup's {name} is not a file")
    to.parent.mkdir(parents=True, exist_ok=True)
    partial = to.with_name(f".{to.name}.partial")
    with source, open(partial, "wb") as out:
        shutil.copyfileobj(source, out, 1024 * 1024)
    os.replace(partial, to)
