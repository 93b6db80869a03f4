from __future__ import annotations

import pytest
import asyncio

from server import health
from django.test import AsyncClient

pytestmark = pytest.mark.django_db(transaction=True)


async def test_healthz_reports_database_and_channel_layer():
    response = await AsyncClient().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["channel_layer"]["ok"]


async def test_healthz_is_503_when_the_channel_layer_is_down(monkeypatch):
    # The real outage (Redis killed) is covered in tests/scaled; here the layer the
    # health check talks to refuses every send, whichever backend is configured.
    class DownLayer:
        async def send(self, *args, **kwargs):
            raise ConnectionError("layer down")

        async def receive(self, channel):
            await asyncio.sleep(10)

    monkeypatch.setattr(health, "get_channel_layer", lambda: DownLayer())
    response = await AsyncClient().get("/healthz")
    assert response.status_code == 503
    assert response.json()["channel_layer"]["ok"] is False
    assert response.json()["database"]["ok"] is True
