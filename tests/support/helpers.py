"""Small helpers for reading what the bot stored and what it sent to Slack."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import col, select

from bot.core.deps import Deps
from bot.core.models import SupportRequest
from sandbox.fakeslack import Call


async def stored_requests(deps: Deps, team_id: str | None = None) -> list[SupportRequest]:
    async with deps.sessions() as session:
        statement = select(SupportRequest).order_by(col(SupportRequest.id))
        if team_id:
            statement = statement.where(SupportRequest.team_id == team_id)
        return list((await session.exec(statement)).all())


def everything_sent(call: Call) -> str:
    """All text a call carried (text, blocks, view), as one string for 'never contains' checks."""
    return json.dumps(call.params, ensure_ascii=False)


def block_texts(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def ack_text(response: Any) -> str:
    """What an ack showed the user: Bolt sends text-only acks as text/plain, others as JSON."""
    if response.json is not None and isinstance(response.json, dict):
        return str(response.json.get("text", ""))
    return str(response.body)
