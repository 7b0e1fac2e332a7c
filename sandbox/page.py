"""What the sandbox page shows, as HTML fragments: the conversation list, a conversation's
messages (with threads and "only visible to you" ephemerals), App Home and the open modal.

Block Kit goes through `sandbox.render`; every other piece of text is escaped here. The
script on the page only swaps these fragments in and sends clicks back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.client import SandboxSlack
from sandbox.render import render_blocks, render_mrkdwn, render_view

JSON = dict[str, Any]
HOME = "home"


def names(slack: SandboxSlack) -> tuple[dict[str, str], dict[str, str]]:
    """Display names of people and channels, for mentions and pickers."""
    users = {
        user_id: str(user.get("real_name") or user.get("name") or user_id)
        for user_id, user in slack.fake.users.items()
    }
    channels = {channel_id: str(ch["name"]) for channel_id, ch in slack.fake.channels.items()}
    return users, channels


def zone_of(slack: SandboxSlack, user_id: str) -> str:
    return str(slack.fake.users.get(user_id, {}).get("tz") or "UTC")


def conversations(slack: SandboxSlack, user_id: str) -> list[JSON]:
    """Channels the person is in, their DM with the bot, and the bot's App Home."""
    found: list[JSON] = [{"id": HOME, "label": "alignbot — Home", "kind": "home"}]
    found.append({"id": "D" + user_id, "label": "alignbot — Messages", "kind": "dm"})
    for channel_id, channel in sorted(slack.fake.channels.items(), key=lambda c: c[1]["name"]):
        members = channel.get("members")
        if members is None or user_id in members:
            found.append({"id": channel_id, "label": f"# {channel['name']}", "kind": "channel"})
    return found


def _time(ts: str, zone: str) -> str:
    try:
        moment = datetime.fromtimestamp(float(ts), tz=UTC).astimezone(ZoneInfo(zone))
    except (ValueError, OverflowError):
        return ""
    return moment.strftime("%a %d %b %H:%M")


def _message_html(
    slack: SandboxSlack,
    message: JSON,
    *,
    channel_id: str,
    zone: str,
    ephemeral: bool,
    reply: bool,
) -> str:
    users, channels = names(slack)
    # An ephemeral's `user` is who sees it; it comes from the bot (or from Slack itself).
    author_id = slack.fake.bot_user_id if ephemeral else str(message.get("user") or "")
    author = str(message.get("author") or users.get(author_id, author_id or "alignbot"))
    blocks = message.get("blocks") or []
    body = (
        render_blocks(blocks, users=users, channels=channels, zone=zone)
        if blocks
        else f'<div class="sb-text">{render_mrkdwn(str(message.get("text") or ""), users=users, channels=channels, zone=zone)}</div>'
    )
    ts = escape(str(message.get("ts", "")))
    marks = ""
    if message.get("edited"):
        marks += '<span class="sb-edited">(edited)</span>'
    if ephemeral:
        marks += '<span class="sb-ephemeral-mark">Only visible to you</span>'
    classes = "sb-message" + (" sb-ephemeral" if ephemeral else "") + (" sb-reply" if reply else "")
    shortcut = (
        ""
        if ephemeral
        else (
            '<details class="sb-more"><summary title="More actions">⋯</summary>'
            '<button type="button" class="sb-shortcut">Send to Marketing Support</button>'
            '<button type="button" class="sb-reply-button">Reply in thread</button></details>'
        )
    )
    return (
        f'<div class="{classes}" data-channel="{escape(channel_id)}" data-ts="{ts}" '
        f'data-ephemeral="{"true" if ephemeral else "false"}">'
        f'<div class="sb-message-head"><span class="sb-author">{escape(author)}</span>'
        f'<span class="sb-time">{escape(_time(str(message.get("ts", "0")), zone))}</span>{marks}'
        f"{shortcut}</div>{body}</div>"
    )


def conversation_html(slack: SandboxSlack, user_id: str, channel_id: str) -> str:
    """A channel or DM: top-level messages oldest first, each followed by its thread replies,
    with this person's ephemerals in among them by time."""
    zone = zone_of(slack, user_id)
    messages = list(slack.fake.messages.get(channel_id, []))
    ephemerals = [
        e for e in slack.fake.ephemerals if e["channel"] == channel_id and e["user"] == user_id
    ]
    replies: dict[str, list[JSON]] = {}
    top: list[tuple[str, JSON, bool]] = []
    for message in messages:
        thread = message.get("thread_ts")
        if thread and thread != message["ts"]:
            replies.setdefault(str(thread), []).append(message)
        else:
            top.append((str(message["ts"]), message, False))
    top.extend((str(e["ts"]), e, True) for e in ephemerals)
    top.sort(key=lambda item: float(item[0]))
    parts = []
    for ts, message, ephemeral in top:
        parts.append(
            _message_html(
                slack, message, channel_id=channel_id, zone=zone, ephemeral=ephemeral, reply=False
            )
        )
        for reply in replies.get(ts, []):
            parts.append(
                _message_html(
                    slack, reply, channel_id=channel_id, zone=zone, ephemeral=False, reply=True
                )
            )
    if not parts:
        return '<p class="sb-empty">No messages yet. Type <code>/mktg help</code> below.</p>'
    return "".join(parts)


def home_html(slack: SandboxSlack, user_id: str) -> str:
    view = slack.fake.views.get(user_id)
    if view is None:
        return '<p class="sb-empty">Opening App Home…</p>'
    users, channels = names(slack)
    return render_view(view, users=users, channels=channels, zone=zone_of(slack, user_id))


def modal_html(slack: SandboxSlack, user_id: str) -> str:
    view = slack.top_modal(user_id)
    if view is None:
        return ""
    users, channels = names(slack)
    return render_view(
        view,
        users=users,
        channels=channels,
        zone=zone_of(slack, user_id),
        errors=slack.view_errors.get(str(view["id"])),
    )


def pane_html(slack: SandboxSlack, user_id: str, conversation: str) -> str:
    if conversation == HOME:
        return home_html(slack, user_id)
    return conversation_html(slack, user_id, conversation)
