"""The `tradebot` command: run, demo, migrate, check, backtest."""

from __future__ import annotations

import argparse
import asyncio
import sys

from pydantic import ValidationError

from bot.backtest_cli import add_backtest_command
from bot.log_setup import configure_logging
from bot.settings import Settings, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ValidationError as error:
        print(f"Configuration error:\n{error}", file=sys.stderr)
        return 2
    return int(args.handler(settings, args) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tradebot", description="Telegram bot with an embedded trading engine.")
    commands = parser.add_subparsers(required=True, metavar="command")

    run_cmd = commands.add_parser("run", help="run the product (Telegram, engine, jobs, HTTP) until SIGTERM")
    run_cmd.set_defaults(handler=_run)

    demo_cmd = commands.add_parser("demo", help="everything offline, with a local chat in the terminal")
    demo_cmd.add_argument(
        "--duration",
        type=float,
        default=None,
        help="seconds to run (default: 60 when reading a script from stdin, until Ctrl-D otherwise)",
    )
    demo_cmd.add_argument(
        "--seconds-per-candle",
        type=float,
        default=0.1,
        help="wall seconds per replayed 5-minute candle (default 0.1: 3000x real time)",
    )
    demo_cmd.set_defaults(handler=_demo)

    migrate_cmd = commands.add_parser("migrate", help="bring the database schema up to date, or roll it back")
    migrate_cmd.add_argument("--revision", default="head", help="upgrade to this revision (default: the newest)")
    migrate_cmd.add_argument(
        "--down-to",
        metavar="REV",
        help="roll the schema back to revision REV (what later revisions added is dropped; asks first)",
    )
    migrate_cmd.add_argument("--yes", action="store_true", help="do not ask before rolling back")
    migrate_cmd.set_defaults(handler=_migrate)

    check_cmd = commands.add_parser("check", help="validate the configuration and reach every configured component")
    check_cmd.set_defaults(handler=_check)

    add_backtest_command(commands)
    return parser


def _secrets(settings: Settings) -> list[str]:
    values = [
        settings.telegram.bot_token,
        settings.database.encryption_key,
        settings.anthropic.api_key,
        settings.webhook.secret,
    ]
    found = [v.get_secret_value() for v in values if v is not None]
    url = settings.database.url.get_secret_value()
    if "@" in url and ":" in url.split("@")[0].split("//")[-1]:
        found.append(url.split("@")[0].split("//")[-1].split(":", 1)[1])
    return found


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.main import run

    configure_logging(settings.log.level, settings.log.format, _secrets(settings))
    asyncio.run(run(settings))
    return 0


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from bot.demo import demo

    configure_logging("WARNING", "console", _secrets(settings))
    return asyncio.run(demo(settings, duration=args.duration, seconds_per_candle=args.seconds_per_candle))


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from storage.db import create_engine, describe_url
    from storage.migrate import current_revision, upgrade

    configure_logging(settings.log.level, settings.log.format, _secrets(settings))
    if args.down_to:
        return _roll_back(settings, args.down_to, assume_yes=args.yes)

    async def migrate() -> str | None:
        engine = create_engine(settings.database)
        try:
            await upgrade(engine, args.revision)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    revision = asyncio.run(migrate())
    print(f"{describe_url(settings.database)} is at revision {revision}")
    return 0


def _roll_back(settings: Settings, target: str, *, assume_yes: bool) -> int:
    """`migrate --down-to REV`: show what would be undone, ask, then downgrade (see docs/RUNBOOK.md)."""
    from storage.db import create_engine, describe_url
    from storage.migrate import current_revision, downgrade, steps_down

    async def current() -> str | None:
        engine = create_engine(settings.database)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    where = describe_url(settings.database)
    now = asyncio.run(current())
    try:
        steps = steps_down(now, target)
    except ValueError as error:
        print(f"Nothing changed: {error}", file=sys.stderr)
        return 2
    if not steps:
        print(f"{where} is already at revision {now}; nothing to undo.")
        return 0
    print(f"{where} is at revision {now}. Rolling back to {target} undoes:")
    for revision, description in steps:
        print(f"  {revision}  {description}")
    if not assume_yes and input("Type 'roll back' to go on: ").strip().lower() != "roll back":
        print("Nothing changed.")
        return 1

    async def go() -> str | None:
        engine = create_engine(settings.database)
        try:
            await downgrade(engine, target)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    print(f"{where} is at revision {asyncio.run(go())}")
    return 0


def _check(settings: Settings, args: argparse.Namespace) -> int:
    from bot.check import print_checklist, run_checks

    configure_logging("WARNING", "console", _secrets(settings))
    return print_checklist(asyncio.run(run_checks(settings)), sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
