"""`alignbot outbox`: the Slack messages waiting to go out, and sending dead ones again."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import Any

from bot.core import outbox
from bot.core.config import ConfigError
from bot.core.db import upgrade
from bot.core.deps import Deps
from bot.core.errors import UserError
from bot.core.models import OutboxState


def add_outbox_commands(commands: Any) -> None:
    """`outbox list` and `outbox retry` on the CLI's subcommand parser."""
    outbox_parser = commands.add_parser(
        "outbox", help="the Slack messages waiting to go out, and the ones Slack refused"
    )
    outbox_commands = outbox_parser.add_subparsers(dest="outbox_command", required=True)
    list_outbox = outbox_commands.add_parser("list", help="show waiting and dead messages")
    list_outbox.add_argument(
        "--state",
        choices=[*(state.value for state in OutboxState), "all"],
        help="only this state (default: pending, sending and dead)",
    )
    list_outbox.add_argument("--team", help="Slack team ID (T…)")
    list_outbox.add_argument("--limit", type=int, default=100, help="at most this many rows")
    retry_outbox = outbox_commands.add_parser(
        "retry", help="send dead messages again (after fixing what Slack refused)"
    )
    retry_outbox.add_argument("ids", nargs="*", type=int, help="outbox row ids")
    retry_outbox.add_argument("--dead", action="store_true", help="every dead message")
    retry_outbox.add_argument("--team", help="Slack team ID (T…)")


async def run_outbox(
    deps: Deps, args: argparse.Namespace, *, send_now: Callable[[Deps], Awaitable[int]]
) -> None:
    """`outbox list` / `outbox retry`. `send_now` is the composition root's: it drains the
    outbox with the workspaces' clients (this module knows nothing of jobs/ or Slack clients)."""
    await upgrade(deps.engine)
    if args.outbox_command == "list":
        states = (
            list(OutboxState)
            if args.state == "all"
            else [OutboxState(args.state)]
            if args.state
            else [OutboxState.PENDING, OutboxState.SENDING, OutboxState.DEAD]
        )
        async with deps.sessions() as session:
            rows = await outbox.list_rows(
                session, team_id=args.team, states=states, limit=max(args.limit, 1)
            )
        if not rows:
            print("nothing waiting: the outbox is empty")
            return
        print(f"{'id':>6}  {'team':<11} {'kind':<15} {'to':<12} {'state':<8} tries  last error")
        for row in rows:
            print(
                f"{row.id:>6}  {row.team_id:<11} {row.kind:<15} {row.channel:<12} "
                f"{row.state.value:<8} {row.attempts:>5}  {row.last_error or ''}"
            )
        return
    if not args.ids and not args.dead:
        raise UserError("Name the outbox rows to send again (their ids), or give --dead.")
    async with deps.sessions() as session:
        queued = await outbox.retry(
            session, now=deps.clock(), ids=args.ids, dead=args.dead, team_id=args.team
        )
    if not queued:
        print("no dead messages matched: nothing to send again")
        return
    sent = 0
    try:
        deps.settings.require_slack()
        can_send = True
    except ConfigError:
        can_send = False  # the running bot sends them
    if can_send:
        sent = await send_now(deps)
    left = "" if sent >= queued else "; the rest go out from the running bot as Slack allows"
    print(f"{queued} message(s) queued again, {sent} sent now{left}")
