"""Weekly digests in tests: when the Friday digests are due, and a file DMed to the bot."""

from __future__ import annotations

from datetime import UTC, datetime

from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender, event_callback

FRIDAY_AFTER_FOUR = datetime(2026, 11, 27, 16, 5, tzinfo=UTC)


async def dm_file(
    slack: SlackSender,
    fake_slack: FakeSlack,
    user: str,
    name: str,
    data: bytes,
    file_id: str = "F0CSV",
) -> None:
    file = fake_slack.add_user_file(file_id, name, data, user=user)
    await slack.event(
        event_callback(
            {
                "type": "message",
                "subtype": "file_share",
                "channel": f"D{user}",
                "channel_type": "im",
                "user": user,
                "text": "",
                "ts": "1764000000.000500",
                "files": [file],
            }
        )
    )
