from __future__ import annotations

import shutil
from pathlib import Path

import httpx
from pydantic import SecretStr

from bot.telegram_standin import TelegramStandIn
from storage.config import DatabaseConfig
from storage.db import describe_url
from tests.bot.product import product_settings, running_product

COMPONENTS = {"database", "exchange", "telegram", "scheduler", "llm"}


async def test_health_is_200_with_components_and_503_while_the_database_is_unreachable(
    migrated_template: DatabaseConfig, database: DatabaseConfig, tmp_path: Path
):
    if migrated_template.url.get_secret_value().startswith("sqlite"):
        folder = tmp_path / "data"
        folder.mkdir()
        shutil.copyfile(describe_url(database).removeprefix("sqlite+aiosqlite:///"), folder / "tradebot.db")
        database = DatabaseConfig(url=SecretStr(f"sqlite+aiosqlite:///{folder / 'tradebot.db'}"))
    else:
        folder = None
    async with running_product(product_settings(database), TelegramStandIn()) as runtime, httpx.AsyncClient() as http:
        healthy = await http.get(f"{runtime.http_url}/health")
        assert healthy.status_code == 200
        body = healthy.json()
        assert body["status"] == "ok" and set(body["components"]) == COMPONENTS
        assert body["components"]["telegram"]["status"] == "ok"
        assert body["components"]["llm"]["status"] == "disabled"
        if folder is None:
            return  # the outage below needs a file database; PostgreSQL runs the 200 half
        await runtime.services.extras["database"].dispose()
        folder.rename(tmp_path / "gone")  # the volume holding the database disappears
        down = await http.get(f"{runtime.http_url}/health")
        assert down.status_code == 503
        assert down.json()["components"]["database"]["status"] == "down"
        (tmp_path / "gone").rename(folder)
        assert (await http.get(f"{runtime.http_url}/health")).status_code == 200


async def test_metrics_are_served_in_prometheus_text_format(database: DatabaseConfig):
    async with running_product(product_settings(database), TelegramStandIn()) as runtime, httpx.AsyncClient() as http:
        answer = await http.get(f"{runtime.http_url}/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
