"""`alignbot` — the operator's command line: run, migrate, configure, run jobs now."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy.exc

from bot.config import ConfigError, Settings, configure_logging, get_settings
from bot.db import upgrade
from bot.deps import Deps
from bot.errors import UserError
from bot.workspace import (
    SETTING_KEYS,
    ensure_workspace,
    list_team_ids,
    load_settings,
    parse_setting_value,
    save_settings,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alignbot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "run", help="start the bot (Socket Mode if SLACK_APP_TOKEN is set, else HTTP)"
    )

    db = commands.add_parser("db", help="database migrations")
    db.add_subparsers(dest="db_command", required=True).add_parser(
        "upgrade", help="apply every pending migration"
    )

    config = commands.add_parser("config", help="get or set a workspace setting")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    get = config_commands.add_parser("get", help="show one setting, or all of them")
    get.add_argument("key", nargs="?", choices=sorted(SETTING_KEYS), metavar="KEY")
    get.add_argument("--team", help="Slack team ID (T…); optional when there is one workspace")
    set_ = config_commands.add_parser("set", help="change a setting ('' or none clears it)")
    set_.add_argument("key", choices=sorted(SETTING_KEYS), metavar="KEY")
    set_.add_argument("value")
    set_.add_argument("--team", help="Slack team ID (T…); optional when there is one workspace")

    jobs = commands.add_parser("jobs", help="scheduled jobs")
    job_commands = jobs.add_subparsers(dest="jobs_command", required=True)
    job_commands.add_parser("list", help="show every job and its schedule")
    run_job = job_commands.add_parser("run", help="run one job now")
    run_job.add_argument("name")
    run_job.add_argument("--at", help="run as if at this ISO time (e.g. 2026-12-04T10:00:00Z)")
    return parser


async def _resolve_team(deps: Deps, team: str | None, *, create: bool) -> str:
    async with deps.sessions() as session:
        teams = await list_team_ids(session)
        if team:
            if team not in teams:
                if not create:
                    raise UserError(f"No workspace {team} yet. Known: {', '.join(teams) or 'none'}")
                await ensure_workspace(session, team_id=team, enterprise_id=None, now=deps.clock())
            return team
    if len(teams) == 1:
        return teams[0]
    if not teams:
        raise UserError(
            "No workspace is known yet: pass --team T… (your Slack team ID), "
            "or use the bot in Slack once."
        )
    raise UserError(f"Several workspaces: pass --team, one of {', '.join(teams)}")


async def _config(deps: Deps, args: argparse.Namespace) -> None:
    await upgrade(deps.engine)
    team = await _resolve_team(deps, args.team, create=args.config_command == "set")
    async with deps.sessions() as session:
        if args.config_command == "set":
            value = parse_setting_value(args.key, args.value)
            settings = await save_settings(
                session, team_id=team, changes={args.key: value}, updated_by="cli", now=deps.clock()
            )
        else:
            settings = await load_settings(session, team)
    values = settings.model_dump()
    for key in [args.key] if args.key else SETTING_KEYS:
        value = values[key]
        if isinstance(value, tuple):
            shown = ",".join(value)
        elif isinstance(value, dict):
            shown = ",".join(f"{name}={days}" for name, days in value.items())
        else:
            shown = "" if value is None else value
        print(f"{key}={shown}")


async def _jobs(deps: Deps, args: argparse.Namespace) -> None:
    from bot.app import make_client
    from jobs.scheduler import JOBS

    if args.jobs_command == "list":
        for name, (_job, description, _minutes) in JOBS.items():
            print(f"{name:<16} {description}")
        return
    if args.name not in JOBS:
        raise UserError(f"Unknown job {args.name!r}. Jobs: {', '.join(JOBS)}")
    deps.settings.require_slack()
    at = datetime.fromisoformat(args.at.replace("Z", "+00:00")) if args.at else deps.clock()
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    await upgrade(deps.engine)
    job = JOBS[args.name][0]
    await job(deps, make_client(deps), at)
    print(f"{args.name} done at {at.isoformat()}")


async def _main(settings: Settings, args: argparse.Namespace) -> None:
    deps = Deps.from_settings(settings)
    try:
        if args.command == "run":
            from bot.app import serve

            settings.require_slack()
            await serve(deps)
        elif args.command == "db":
            await upgrade(deps.engine)
            print("database is up to date")
        elif args.command == "config":
            await _config(deps, args)
        elif args.command == "jobs":
            await _jobs(deps, args)
    finally:
        await deps.engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
        configure_logging(settings.log_level)
        asyncio.run(_main(settings, args))
    except (ConfigError, UserError) as error:
        print(f"alignbot: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    except (OSError, sqlalchemy.exc.DBAPIError) as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        print(f"alignbot: cannot reach the database in DATABASE_URL: {reason}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
