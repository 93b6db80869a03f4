"""备份与恢复 (realtime/backup.py), what is refused and kept: a file that is not a backup,
one of the other engine or of a newer Branchline, paths that would leave MEDIA_ROOT;
`--keep`. The whole round trip on a running server is tests/live/test_backup_restore.py."""

from __future__ import annotations

import io
import json
import tarfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from realtime import backup


def write_backup(path: Path, manifest: dict | None, members: dict[str, bytes] | None = None) -> Path:
    files = dict(members or {})
    if manifest:
        files["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def manifest(**changes) -> dict:
    return {"format": 1, "created": "2026-12-01T00:00:00+00:00", "engine": connection.vendor,
            "migrations": {"accounts": ["0001_initial"]}, "media_files": 0, "media_bytes": 0, "database_bytes": 1,
            **changes}


def restore(path: Path, tmp_path: Path) -> str:
    out = io.StringIO()
    call_command("restore", str(path), "--yes", "--to", str(tmp_path / "kept"), stdout=out)
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("what, content, said", [
    ("not a tar", None, "is not a Branchline backup"),
    ("no manifest", {}, "is not a Branchline backup"),
    ("another format", {"format": 2}, "is not a Branchline backup"),
    ("migrations of another shape", {"migrations": ["accounts.0001_initial"]}, "is not a Branchline backup"),
    ("another engine", {"engine": "postgresql" if connection.vendor == "sqlite" else "sqlite"}, "of the same shape"),
    ("a newer Branchline", {"migrations": {"accounts": ["0001_initial", "9999_from_the_future"]}},
     "made by a newer Branchline (migrations this code does not have: accounts.9999_from_the_future)"),
])
def test_a_backup_this_server_cannot_take_is_refused_and_nothing_changes(tmp_path, what, content, said):
    path = tmp_path / "branchline-x.tar"
    if content is None:
        path.write_bytes(b"not a tar at all" * 100)
    elif not content:
        write_backup(path, None, {"database.sqlite3": b"x"})
    else:
        write_backup(path, manifest(**content), {backup.DATABASE[connection.vendor]: b"x"})
    with pytest.raises(CommandError, match=said.replace("(", r"\(").replace(")", r"\)")):
        restore(path, tmp_path)
    assert not (tmp_path / "kept").exists(), "refused before backing anything up"


@pytest.mark.django_db
def test_a_backup_without_its_database_is_refused(tmp_path):
    path = write_backup(tmp_path / "branchline-x.tar", manifest(), {"media/a.txt": b"a"})
    with pytest.raises(CommandError, match="the backup has no database"):
        restore(path, tmp_path)


def test_media_paths_never_leave_media_root():
    assert backup._safe_relative("attachments/2/abc.pdf") == "attachments/2/abc.pdf"
    for bad in ("../secret_key", "attachments/../../x", "/etc/passwd", ""):
        assert backup._safe_relative(bad) is None, bad


@pytest.mark.django_db(transaction=True)
def test_keep_deletes_all_but_the_newest(tmp_path, monkeypatch, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    (tmp_path / "media" / "attachments").mkdir(parents=True)
    (tmp_path / "media" / "attachments" / "a.pdf").write_bytes(b"%PDF")
    start = datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc)
    folder = tmp_path / "backups"
    for hour in range(4):
        monkeypatch.setattr(backup, "_now", lambda hour=hour: start + timedelta(hours=hour))
        out = io.StringIO()
        call_command("backup", "--to", str(folder), "--keep", "2", stdout=out)
    names = [p.name for p in backup.backups_in(folder)]
    assert names == ["branchline-20261201-050000.tar", "branchline-20261201-060000.tar"]
    assert "1 uploaded files" in out.getvalue() and "SECRET_KEY is not in it" in out.getvalue()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "no partial file or work folder left"
    made = backup.read_manifest(folder / names[-1])
    assert made["engine"] == connection.vendor and made["media_files"] == 1
    assert "0001_initial" in made["migrations"]["accounts"]
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", "--to", str(folder), stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_a_backup_folder_inside_media_root_is_not_backed_up_into_itself(tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    (tmp_path / "media" / "attachments").mkdir(parents=True)
    (tmp_path / "media" / "attachments" / "a.pdf").write_bytes(b"%PDF")
    folder = tmp_path / "media" / "backups"
    first = backup.make(folder)
    second = backup.make(folder, label="-again")
    assert first.manifest["media_files"] == second.manifest["media_files"] == 1
    with tarfile.open(second.path) as tar:
        assert [n for n in tar.getnames() if n.startswith("media/")] == ["media/attachments/a.pdf"]


@pytest.mark.django_db
def test_a_restore_is_refused_while_a_server_process_says_it_runs(tmp_path):
    from realtime.models import ServerProcess

    now = datetime.now(timezone.utc)
    ServerProcess.objects.create(name="web1:4242:abcd", host="web1", pid=4242, started_at=now - timedelta(hours=1),
                                 seen_at=now - timedelta(seconds=20))
    path = write_backup(tmp_path / "branchline-x.tar", manifest(), {"media/a.txt": b"a"})
    with pytest.raises(CommandError, match=r"web1 pid 4242 \(2\d s ago\)\. Stop every daphne process first"):
        restore(path, tmp_path)
    assert not (tmp_path / "kept").exists()  # not even the backup of what is here was begun

    # One that fell silent past 90 s was killed: it no longer holds a restore back.
    ServerProcess.objects.update(seen_at=now - timedelta(seconds=91))
    with pytest.raises(CommandError, match="the backup has no database"):  # the next check's words
        restore(path, tmp_path)
    # And an operator who knows none runs says so.
    ServerProcess.objects.update(seen_at=now)
    out = io.StringIO()
    with pytest.raises(CommandError, match="the backup has no database"):
        call_command("restore", str(path), "--yes", "--server-stopped", "--to", str(tmp_path / "kept2"), stdout=out)
