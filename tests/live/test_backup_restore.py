"""备份与恢复 (realtime/backup.py) on a running server, in both shapes: `manage.py backup`
while a secretary keeps posting gives a consistent copy (every post acked before it
began, then an unbroken run of the later ones, the stream's log gapless to its head);
after more posts and a file deleted from disk, `manage.py restore --yes` with daphne
stopped puts back exactly the backup's posts and the file, which daphne then serves;
what it replaced is kept in a backup of its own."""

from __future__ import annotations

import asyncio
import re
import tarfile
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.servers import (
    Client,
    Daphne,
    ServerHandle,
    TempDir,
    db_counts,
    django_shell,
    manage,
    pg_create_database,
    pg_drop_database,
    pg_unavailable_reason,
    prepare_database,
    require_service,
    server_env,
)

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _attach_file(env: dict[str, str], branch_id: int) -> dict:
    """An announcement with a file, through the actions (a process that is not daphne)."""
    return django_shell(env, (
        "from django.contrib.auth import get_user_model\n"
        "from django.core.files.uploadedfile import SimpleUploadedFile\n"
        "from accounts.identity import identity_for_user\n"
        "from announcements import actions, attachments\n"
        "ident = identity_for_user(get_user_model().objects.get(username='shuji'))\n"
        f"f = attachments.upload_attachment(identity=ident, branch_id={branch_id},\n"
        f"    uploaded=SimpleUploadedFile('学习材料.pdf', {PDF!r}))\n"
        f"actions.post_announcement(identity=ident, branch_id={branch_id}, title='带附件', body='见附件',\n"
        "    attachments=[f.pk])\n"
        "result = {'id': f.pk, 'path': f.file.path}\n"
    ))


def _download(server: ServerHandle, attachment_id: int) -> tuple[int, bytes]:
    request = urllib.request.Request(f"{server.daphne.base_url}/attachments/{attachment_id}/{quote('学习材料.pdf')}",
                                     headers={"Cookie": server.cookie("dangyuan")})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def _numbers(titles: list[str], prefix: str) -> list[int]:
    return sorted(int(t[len(prefix):]) for t in titles if t.startswith(prefix))


async def _scenario(server: ServerHandle, backups: Path) -> None:
    env, branch = server.env, server.b1
    stream = f"announcements:{branch}"
    file = _attach_file(env, branch)
    writer = await Client.open(server.daphne, server.cookie("shuji"), label="writer")
    acked: list[int] = []
    stop = asyncio.Event()

    async def keep_posting() -> None:
        n = 0
        while not stop.is_set():
            await writer.post(branch, f"备份中{n:04d}")
            acked.append(n)
            n += 1

    try:
        posting = asyncio.create_task(keep_posting())
        await writer.wait_for(lambda: len(acked) >= 20, 60, "posts before the backup")
        before_backup = len(acked)
        out = await asyncio.to_thread(manage, env, "backup", "--to", str(backups))
        after_backup = len(acked)
        stop.set()
        await posting
        assert after_backup > before_backup, "the posts went on while the backup ran"
        for n in range(3):
            await writer.post(branch, f"备份后{n}")
    finally:
        await writer.close()
    made = re.search(r"(\S+branchline-\S+\.tar): ", out)
    assert made, out
    backup = Path(made[1])
    with tarfile.open(backup) as tar:
        assert any(name.startswith("media/") for name in tar.getnames())

    # Afterwards: more posts (above) and the file gone from disk.
    Path(file["path"]).unlink()
    assert _download(server, file["id"])[0] == 404

    # Refused without --yes: nothing changes.
    said = manage(env, "restore", str(backup), "--to", str(backups))
    assert "--yes" in said
    assert len(_numbers(db_counts(env, stream, "备份后")["titles"], "备份后")) == 3

    server.daphne.stop()
    try:
        manage(env, "restore", str(backup), "--yes", "--to", str(backups))
    finally:
        server.daphne.start()
    server.cookies.clear()  # sessions are rows too: logins made since the backup are gone

    counts = db_counts(env, stream)
    titles = counts["titles"]
    assert not any(t.startswith("备份后") for t in titles), "the posts made after the backup are gone"
    kept = _numbers(titles, "备份中")
    # A consistent copy of one writer's run: all of 0..k-1, k at least what was acked
    # before the backup began and at most what was acked when it ended.
    assert kept == list(range(len(kept))) and before_backup <= len(kept) <= after_backup + 1, kept
    seqs = counts["event_seqs"]
    assert seqs == list(range(seqs[0], counts["head"] + 1)), "the restored log is gapless to its head"
    assert _download(server, file["id"]) == (200, PDF)
    assert "带附件" in titles

    # What the restore replaced is a backup of its own, with the later posts in it.
    replaced = [p for p in backups.iterdir() if p.name.endswith("-before-restore.tar")]
    assert len(replaced) == 1
    with tarfile.open(replaced[0]) as tar:
        assert "manifest.json" in tar.getnames()

    # And daphne serves on: a subscriber from 0 gets the restored log.
    reader = await Client.open(server.daphne, server.cookie("dangyuan"), label="reader")
    try:
        reply = await reader.subscribe(stream, since=seqs[0] - 1)
        assert reply["head"] == counts["head"]
        await reader.wait_seq(stream, counts["head"])
    finally:
        await reader.close()


@pytest.mark.live
async def test_sqlite_backup_while_posting_then_restore(embedded_server_factory):
    tmp = TempDir("branchline-backups-")
    try:
        server = embedded_server_factory("daphne-backup", WS_RATE_PER_SECOND=1000, WS_RATE_BURST=1000,
                                         MEDIA_ROOT=tmp.path / "media")
        await _scenario(server, tmp.path / "backups")
    finally:
        tmp.cleanup()


@pytest.mark.scaled
async def test_postgresql_backup_while_posting_then_restore():
    reason = pg_unavailable_reason()
    if reason:
        require_service(reason)
    name = pg_create_database()
    tmp = TempDir("branchline-backups-")
    daphne = None
    try:
        env = server_env(DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{name}", MEDIA_ROOT=tmp.path / "media",
                         WS_RATE_PER_SECOND=1000, WS_RATE_BURST=1000)
        ids = prepare_database(env)
        daphne = Daphne(env, name="daphne-pg-backup", log_dir=tmp.path)
        daphne.start()
        await _scenario(ServerHandle(daphne=daphne, env=env, ids=ids), tmp.path / "backups")
    finally:
        if daphne is not None:
            daphne.stop()
        pg_drop_database(name)
        tmp.cleanup()
