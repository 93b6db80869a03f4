"""The scaled shape with files and members: a file uploaded to one daphne is served by
the other (one MEDIA_ROOT), and a person taken off a branch through one daphne is
unsubscribed from its streams on the other at once (the recheck crosses Redis)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from tests.servers import Client, new_cid

pytestmark = pytest.mark.scaled


@pytest.fixture
def pair(doorbell_pair):
    return doorbell_pair


def _csrf(cookie: str) -> str:
    return next(part.split("=", 1)[1] for part in cookie.split("; ") if part.startswith("csrftoken="))


def _send(request: urllib.request.Request) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def upload(base_url: str, cookie: str, branch_id: int, name: str, content: bytes) -> tuple[int, dict]:
    boundary = uuid.uuid4().hex
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
        f"Content-Type: application/octet-stream\r\n\r\n"
    ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        f"{base_url}/api/branches/{branch_id}/attachments", data=body, method="POST",
        headers={"Cookie": cookie, "X-CSRFToken": _csrf(cookie), "Referer": base_url + "/",
                 "Content-Type": f"multipart/form-data; boundary={boundary}"})
    status, raw = _send(request)
    return status, json.loads(raw)


def form_post(base_url: str, cookie: str, path: str, fields: dict[str, str]) -> int:
    data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": _csrf(cookie)}).encode()
    request = urllib.request.Request(base_url + path, data=data, method="POST",
                                     headers={"Cookie": cookie, "Referer": base_url + path})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


async def test_a_file_uploaded_to_one_daphne_is_served_by_the_other(pair):
    one, two = pair.both
    pdf = b"%PDF-1.4\n% scaled shape\n%%EOF\n"
    status, reply = await asyncio.to_thread(upload, one.daphne.base_url, one.cookie("shuji"), one.b1,
                                            "学习材料.pdf", pdf)
    assert status == 201, reply
    file_id = reply["attachment"]["id"]

    reader = await Client.open(two.daphne, two.cookie("dangyuan"), label="reader@2")
    writer = await Client.open(one.daphne, one.cookie("shuji"), label="writer@1")
    try:
        stream = f"announcements:{one.b1}"
        head = (await reader.subscribe(stream))["head"]
        await writer.call("announcements.post", {"branch": one.b1, "title": "附件跨进程", "body": "见附件",
                                                 "attachments": [file_id]}, cid=new_cid())
        await reader.wait_seq(stream, head + 1, timeout=10)
        [event] = [e for e in reader.events[stream] if e["seq"] == head + 1]
        url = event["data"]["attachments"][0]["url"]
    finally:
        await reader.close()
        await writer.close()

    request = urllib.request.Request(two.daphne.base_url + url, headers={"Cookie": two.cookie("dangyuan")})
    status, body = await asyncio.to_thread(_send, request)
    assert status == 200 and body == pdf
    outsider = urllib.request.Request(two.daphne.base_url + url, headers={"Cookie": two.cookie("shuji2")})
    assert (await asyncio.to_thread(_send, outsider))[0] == 404  # 第二党支部's secretary


async def test_a_person_taken_off_through_one_daphne_is_unsubscribed_on_the_other(pair):
    one, two = pair.both
    members = f"/branches/{one.b1}/members/"
    secretary = one.cookie("shuji")
    # 陈书记 (第二党支部) joins 第一党支部 with the account she has, then is taken off again.
    assert await asyncio.to_thread(form_post, one.daphne.base_url, secretary, members + "add/",
                                   {"username": "shuji2", "standing": "full"}) == 302
    guest = await Client.open(two.daphne, two.cookie("shuji2"), label="guest@2")
    try:
        user_id = (await guest.call("hello"))["identity"]["id"]
        stream = f"announcements:{one.b1}"
        await guest.subscribe(f"inbox:{user_id}")
        await guest.subscribe(stream)
        assert await asyncio.to_thread(form_post, one.daphne.base_url, secretary,
                                       f"{members}{user_id}/remove/", {}) == 302
        await guest.wait_for(lambda: any(f.get("op") == "unsubscribed" for f in guest.others), 10,
                             "the unsubscribed frame")
        [frame] = [f for f in guest.others if f.get("op") == "unsubscribed"]
        assert frame == {"op": "unsubscribed", "stream": stream, "reason": "forbidden"}
        refused = await guest.request("subscribe", {"stream": stream})
        assert refused["op"] == "error" and refused["code"] == "forbidden"
    finally:
        await guest.close()
