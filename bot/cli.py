"""`alignbot` — the operator's command line: run, migrate, configure, run jobs now.

Dates and times typed here are the workspace's: `--week 2026-11-23`, `--quarter`, `--from`,
`--to` name local dates, and an `--at` without an offset is the workspace's wall-clock time
(one with an offset or `Z` means exactly that instant). Times printed back are shown in the
workspace's zone, with its offset.

What a command prints is its answer: only `run` and `db upgrade` log Alembic's migration lines,
and digests and scorecards are Slack mrkdwn rendered for a terminal (`bot.blocks.terminal`).
`jobs run NAME --team T` runs a job for one workspace of a multi-workspace install.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy.exc

from bot.calendar.periods import local_midnight, period_of
from bot.cli_outbox import add_outbox_commands, run_outbox
from bot.core.config import RUN_ROLES, ConfigError, Settings, configure_logging, get_settings
from bot.core.db import upgrade
from bot.core.deps import Deps
from bot.core.errors import UserError
from bot.workspace.installs import ensure_workspace, list_team_ids
from bot.workspace.settings import (
    SETTING_KEYS,
    WorkspaceSettings,
    load_settings,
    parse_setting_value,
    save_settings,
)

# Commands whose log keeps Alembic's migration lines: the server's start-up and `db upgrade`,
# where what was migrated is the point. Every other command is one-shot.
LOGS_MIGRATIONS = frozenset({"run", "db"})
SANDBOX_DATABASE = "alignbot-sandbox.db"

AT_HELP = (
    "as if at this time: 2026-12-04T10:00 is the workspace's local time, "
    "2026-12-04T10:00:00Z or …-05:00 an exact instant"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alignbot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="start the bot (Socket Mode if SLACK_APP_TOKEN is set, else HTTP)"
    )
    run.add_argument(
        "--role",
        choices=RUN_ROLES,
        default="all",
        help="all: Slack traffic and scheduled jobs in this process (default); web: Slack "
        "traffic only; jobs: scheduled jobs only, beside a web process on the same database",
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
    run_job.add_argument("--at", help=AT_HELP)
    run_job.add_argument("--team", help="Slack team ID (T…); default: every workspace")
    retention = commands.add_parser(
        "retention", help="erase free text older than each workspace's retention_days"
    )
    erase = retention.add_subparsers(dest="retention_command", required=True).add_parser(
        "run", help="erase now (the daily job does the same)"
    )
    erase.add_argument("--team", help="Slack team ID (T…); default: every workspace")
    erase.add_argument("--at", help=AT_HELP)
    imports = commands.add_parser("import", help="import CRM data (.xlsx or .csv)")
    imports.add_argument("kind", choices=["opportunities", "quotas", "leads"])
    imports.add_argument("file")
    imports.add_argument("--team", help="Slack team ID (T…); optional when there is one workspace")

    goals = commands.add_parser("goals", help="list or set the quarter's goals")
    goal_commands = goals.add_subparsers(dest="goals_command", required=True)
    list_goals = goal_commands.add_parser("list", help="show the quarter's goals")
    set_goal_parser = goal_commands.add_parser(
        "set", help="set a goal; volume goals need --paired (their conversion-rate goal)"
    )
    set_goal_parser.add_argument("metric")
    set_goal_parser.add_argument("target")
    set_goal_parser.add_argument("--paired", help="target of the paired conversion-rate goal")
    for sub in (list_goals, set_goal_parser):
        sub.add_argument("--quarter", help="2026-Q4, q4, this, last (default: this)")
        sub.add_argument("--team", help="Slack team ID (T…)")

    quota = commands.add_parser("quota", help="set the sales quota for a quarter")
    quota.add_argument("quarter", help="2026-Q4, q4, this")
    quota.add_argument("amount", help="like $4m or 4000000")
    quota.add_argument("--owner", default="*", help="an owner e-mail (default: the whole team)")
    quota.add_argument("--team", help="Slack team ID (T…)")

    digest = commands.add_parser("digest", help="print this week's digests in the terminal")
    digest.add_argument("--team", help="Slack team ID (T…)")
    digest.add_argument(
        "--week", help="any local date in the week, like 2026-11-23 (default: this week)"
    )
    scorecard = commands.add_parser(
        "scorecard", help="print the quarter's scorecards in the terminal"
    )
    scorecard.add_argument("--team", help="Slack team ID (T…)")
    scorecard.add_argument("--quarter", help="2026-Q4, q4, this, last (default: this)")

    export = commands.add_parser("export", help="write the Excel workbook for a period")
    export.add_argument("--team", help="Slack team ID (T…)")
    export.add_argument(
        "--from", dest="from_", help="start: 2026-10-01, q4, this (default: this quarter)"
    )
    export.add_argument("--to", help="end date (default: the end of the start's quarter)")
    export.add_argument("--out", default="alignbot-export.xlsx", help="file to write")

    add_outbox_commands(commands)

    demo = commands.add_parser(
        "demo",
        help="fill a fresh SQLite database with a realistic 12-week workspace and print the numbers",
    )
    demo.add_argument("--reps", type=int, default=12)
    demo.add_argument(
        "--database", default="alignbot-demo.db", help="SQLite file to (re)create for the demo"
    )
    demo.add_argument("--seed", type=int, default=7)

    sandbox = commands.add_parser(
        "sandbox",
        help="try the bot without Slack: the real bot and a local Slack in your browser (at PORT)",
    )
    sandbox.add_argument(
        "--with-demo", action="store_true", help="start with the demo's 12 weeks of history"
    )
    sandbox.add_argument(
        "--database", default=SANDBOX_DATABASE, help="SQLite file to (re)create for the sandbox"
    )
    commands.add_parser(
        "start", help="what `make run` does: `run` when Slack credentials are set, else `sandbox`"
    ).set_defaults(with_demo=False, database=SANDBOX_DATABASE)
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
    from bot.app import create_app, team_clients
    from jobs.scheduler import JOBS, run_now

    if args.jobs_command == "list":
        for name, job in JOBS.items():
            print(f"{name:<16} {job.description}")
        return
    if args.name not in JOBS:
        raise UserError(f"Unknown job {args.name!r}. Jobs: {', '.join(JOBS)}")
    job = JOBS[args.name]
    if job.needs_slack:
        deps.settings.require_slack()
    typed = _read_at(args.at) if args.at else None
    await upgrade(deps.engine)
    # The job runs once for every workspace it serves, so a local --at needs them to share a
    # zone; an instant with an offset means the same for all of them.
    async with deps.sessions() as session:
        team_ids = await list_team_ids(session, installed_only=job.needs_slack)
        if args.team is not None:
            if args.team not in team_ids:
                which = "installed workspace" if job.needs_slack else "workspace"
                known = ", ".join(team_ids) or "none"
                raise UserError(f"No {which} {args.team} for {args.name}. Known: {known}")
            team_ids = [args.team]
        zones = sorted({(await load_settings(session, team)).timezone for team in team_ids})
    if typed is not None and typed.tzinfo is None and len(zones) > 1:
        raise UserError(
            f"The workspaces are in different time zones ({', '.join(zones)}): give --at an "
            f"offset, like {args.at}Z or {args.at}-05:00, or run one workspace with --team"
        )
    shown = ZoneInfo(zones[0]) if len(zones) == 1 else ZoneInfo("UTC")
    at = _at(typed, shown) if typed is not None else deps.clock()
    await run_now(deps, team_clients(deps, create_app(deps)), args.name, at, team_id=args.team)
    which = f" for {args.team}" if args.team else ""
    print(f"{args.name} done{which} at {at.astimezone(shown).isoformat()}")


async def _drain_outbox(deps: Deps) -> int:
    from bot.app import create_app, team_clients
    from jobs.dispatcher import Dispatcher

    return await Dispatcher(deps, team_clients(deps, create_app(deps))).drain()


async def _outbox(deps: Deps, args: argparse.Namespace) -> None:
    await run_outbox(deps, args, send_now=_drain_outbox)


async def _retention(deps: Deps, args: argparse.Namespace) -> None:
    from jobs.retention import run_team_retention

    await upgrade(deps.engine)
    typed = _read_at(args.at) if args.at else None
    if args.team:
        team_ids = [await _resolve_team(deps, args.team, create=False)]
    else:
        async with deps.sessions() as session:
            team_ids = await list_team_ids(session, installed_only=False)
    for team_id in team_ids:
        async with deps.sessions() as session:
            settings = await load_settings(session, team_id)
        # Each workspace reads a local --at on its own clock.
        at = _at(typed, settings.zone) if typed is not None else deps.clock()
        report = await run_team_retention(deps, None, team_id=team_id, now=at)
        print(
            f"{team_id}: kept {settings.retention_days} days as of "
            f"{at.astimezone(settings.zone).isoformat()}; {report.describe()}"
        )


def _read_at(text: str) -> datetime:
    """--at as typed: aware when it carries an offset or Z, naive (a wall-clock time) if not."""
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UserError(
            f"--at {text!r} is not an ISO time like 2026-12-04T10:00 or 2026-12-04T10:00:00Z"
        ) from None


def _at(typed: datetime, tz: ZoneInfo) -> datetime:
    """The instant a typed --at means: a wall-clock time is read in the workspace's zone (a time
    skipped by a daylight-saving change resolves forward), then everything is UTC like the
    clock's."""
    local = typed if typed.tzinfo is not None else typed.replace(tzinfo=tz)
    return local.astimezone(UTC)


def _today(deps: Deps, settings: WorkspaceSettings) -> date:
    """The workspace's date now: what "this quarter" and "today" mean to its people."""
    return deps.clock().astimezone(settings.zone).date()


def _week_of(text: str, tz: ZoneInfo) -> date:
    """Monday of the ISO week that local date `text` (2026-11-23) falls in."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(f"--week {text!r} is not a date like 2026-11-23") from None
    # Local midnight of the typed day is an instant inside that local day, so the period of it
    # is the day's own week even far from UTC.
    return period_of(local_midnight(day, tz), tz).start


async def _import(deps: Deps, args: argparse.Namespace) -> None:
    from pathlib import Path

    from bot.crm.files import MAX_FILE_BYTES
    from bot.crm.leads import import_leads
    from bot.crm.opportunities import import_opportunities
    from bot.crm.quotas import import_quotas

    await upgrade(deps.engine)
    team = await _resolve_team(deps, args.team, create=True)
    path = Path(args.file)
    if not path.is_file():
        raise UserError(f"No file at {path}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise UserError(
            f"{path.name} is {path.stat().st_size // (1024 * 1024)} MB; the limit is "
            f"{MAX_FILE_BYTES // (1024 * 1024)} MB. Export fewer columns or a shorter date range."
        )
    importer = {"quotas": import_quotas, "leads": import_leads}.get(args.kind, import_opportunities)
    async with deps.sessions() as session:
        report = await importer(
            session, team_id=team, data=path.read_bytes(), filename=path.name, now=deps.clock()
        )
    print(report.summary())


async def _quota(deps: Deps, args: argparse.Namespace) -> None:
    from bot.core.text import format_money, parse_amount
    from bot.crm.quotas import set_quota
    from bot.kpis.goals import parse_quarter

    await upgrade(deps.engine)
    team = await _resolve_team(deps, args.team, create=True)
    async with deps.sessions() as session:
        settings = await load_settings(session, team)
        quarter = parse_quarter(args.quarter, today=_today(deps, settings))
        amount = parse_amount(args.amount)
        await set_quota(
            session,
            team_id=team,
            quarter=quarter,
            amount_cents=amount,
            owner=args.owner,
            now=deps.clock(),
        )
    print(
        f"Quota for {quarter} ({args.owner if args.owner != '*' else 'whole team'}): {format_money(amount)}"
    )


async def _goals(deps: Deps, args: argparse.Namespace) -> None:
    from bot.kpis.catalogue import METRICS, format_value
    from bot.kpis.goals import goals_for, parse_quarter, parse_target, set_goal

    await upgrade(deps.engine)
    team = await _resolve_team(deps, args.team, create=args.goals_command == "set")
    async with deps.sessions() as session:
        settings = await load_settings(session, team)
        quarter = parse_quarter(args.quarter, today=_today(deps, settings))
        if args.goals_command == "set":
            if args.metric not in METRICS:
                raise UserError(f"Unknown metric {args.metric!r}. Metrics: {', '.join(METRICS)}")
            paired = METRICS[args.metric].paired
            await set_goal(
                session,
                team_id=team,
                quarter=quarter,
                metric=args.metric,
                target=parse_target(args.metric, args.target, field="target"),
                paired_target=(
                    parse_target(paired, args.paired, field="paired_target")
                    if paired and args.paired
                    else None
                ),
                set_by="cli",
                now=deps.clock(),
            )
        goals = await goals_for(session, team_id=team, quarter=quarter)
    print(f"Goals for {quarter}:")
    for metric, goal in sorted(goals.items()):
        print(f"  {metric:<28} {format_value(metric, goal.target)}")


async def _report(deps: Deps, args: argparse.Namespace) -> None:
    from bot.blocks.digests import build_digest, build_scorecard
    from bot.blocks.terminal import blocks_to_terminal, mrkdwn_to_terminal
    from bot.kpis.digests import digests_for, scorecards_for
    from bot.kpis.goals import parse_quarter

    await upgrade(deps.engine)
    team = await _resolve_team(deps, args.team, create=False)
    ansi = sys.stdout.isatty()  # bold for a person at a terminal, plain text into a file or pipe
    async with deps.sessions() as session:
        settings = await load_settings(session, team)
        if args.command == "digest":
            week = (
                _week_of(args.week, settings.zone)
                if args.week
                else period_of(deps.clock(), settings.zone).start
            )
            for digest in await digests_for(
                session, team_id=team, week_start=week, settings=settings, now=deps.clock()
            ):
                print(blocks_to_terminal(build_digest(digest)[1], ansi=ansi))
        else:
            quarter = parse_quarter(args.quarter, today=_today(deps, settings))
            for card in await scorecards_for(
                session, team_id=team, quarter=quarter, settings=settings, now=deps.clock()
            ):
                print(mrkdwn_to_terminal(build_scorecard(card), ansi=ansi))
                print()


async def _export(deps: Deps, args: argparse.Namespace) -> None:
    from pathlib import Path

    from bot.export.period import parse_export_period
    from bot.export.workbook import build_workbook

    await upgrade(deps.engine)
    team = await _resolve_team(deps, args.team, create=False)
    async with deps.sessions() as session:
        settings = await load_settings(session, team)
        period = parse_export_period(args.from_, args.to, today=_today(deps, settings))
        result = await build_workbook(
            session,
            team_id=team,
            period=period,
            settings=settings,
            out=Path(args.out),
            now=deps.clock(),
        )
    counts = ", ".join(f"{sheet}: {rows}" for sheet, rows in result.rows.items())
    print(f"Wrote {result.path} ({period.start} to {period.end}; {counts})")


async def _demo(deps: Deps, args: argparse.Namespace) -> None:
    """A separate SQLite file, recreated each time: the demo never touches real data."""
    from pathlib import Path

    from bot.demo.workspace import generate_demo

    await deps.engine.dispose()
    Path(args.database).unlink(missing_ok=True)
    demo_settings = deps.settings.model_copy(update={"database_url": f"sqlite:///{args.database}"})
    demo_deps = Deps.from_settings(demo_settings, clock=deps.clock)
    deps.engine, deps.sessions = demo_deps.engine, demo_deps.sessions
    await upgrade(deps.engine)
    async with deps.sessions() as session:
        team = await generate_demo(session, now=deps.clock(), reps=args.reps, seed=args.seed)
    print(f"Demo workspace {team} filled. Here is what alignbot would post:")
    args.team, args.week, args.quarter = team, None, None
    args.command = "digest"
    await _report(deps, args)
    args.command = "scorecard"
    await _report(deps, args)


# The one-shot commands, by name (`run` and `db` are `_main`'s own).
COMMANDS: dict[str, Callable[[Deps, argparse.Namespace], Awaitable[None]]] = {
    "config": _config,
    "jobs": _jobs,
    "retention": _retention,
    "import": _import,
    "quota": _quota,
    "goals": _goals,
    "digest": _report,
    "scorecard": _report,
    "export": _export,
    "demo": _demo,
    "outbox": _outbox,
}


async def _sandbox(settings: Settings, args: argparse.Namespace) -> None:
    """The sandbox never opens DATABASE_URL: it has a SQLite file of its own."""
    from pathlib import Path

    from sandbox.main import run_sandbox

    # Unauthenticated by design, so only this machine reaches it unless HOST says otherwise.
    host = settings.host if "host" in settings.model_fields_set else "127.0.0.1"
    await run_sandbox(
        settings,
        database=Path(args.database),
        with_demo=args.with_demo,
        host=host,
        port=settings.port,
    )


async def _main(settings: Settings, args: argparse.Namespace) -> None:
    if args.command == "start":
        args.command = "run" if settings.slack_credentials_given else "sandbox"
    if args.command == "sandbox":
        await _sandbox(settings, args)
        return
    deps = Deps.from_settings(settings)
    try:
        if args.command == "run":
            from bot.app import serve

            settings.require_slack()
            await serve(deps, role=getattr(args, "role", "all"))
        elif args.command == "db":
            await upgrade(deps.engine)
            print("database is up to date")
        else:
            await COMMANDS[args.command](deps, args)
    finally:
        await deps.engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
        quiet = (
            args.command in ("sandbox", "start") and "log_level" not in settings.model_fields_set
        )
        configure_logging("WARNING" if quiet else settings.log_level, settings.log_format)
        if args.command not in LOGS_MIGRATIONS:
            # A one-shot command's output is its answer: Alembic's "Context impl SQLiteImpl." and
            # "Running upgrade …" INFO lines would bury it. Warnings and errors still show.
            logging.getLogger("alembic").setLevel(logging.WARNING)
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
