"""Block Kit for App Home: each person's part of the queue, within Slack's 100-block limit.

Slack rejects a whole home view over 100 blocks, and a busy queue easily has more requests
than that. So every list shows a page and a "Show more" button, and the rows are shared out
from one block budget: each list keeps a few rows, the list the person last expanded gets
the rest first. The paging travels in the view's private_metadata, so "Show more" on one
list keeps the others as they were.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.blocks.common import (
    Block,
    actions,
    button,
    context,
    divider,
    header,
    plain,
    section,
)
from bot.blocks.queue import ACTION_ANSWER
from bot.blocks.requests import (
    ACTION_CANCEL,
    ACTION_REOPEN,
    STATUS_EMOJI,
    STATUS_LABELS,
    intake_buttons,
    slack_date,
    summary_line,
)
from bot.core.models import RequestStatus, SupportRequest
from bot.core.text import escape_and_truncate, escape_mrkdwn, format_reference, slack_link
from bot.requests.deadlines import Promise
from bot.requests.home import (
    MAX_PAGE,
    PAGE_STEP,
    Home,
    HomeList,
    HomePaging,
    Page,
    WorkspaceSummary,
    clamp_limit,
)
from bot.requests.lifecycle import OPEN_STATES

HOME_CALLBACK = "alignbot_home"
ACTION_SHOW_MORE = "home_show_more"
ACTION_OPEN_SETTINGS = "home_open_settings"
ACTION_NEW_REQUEST = "home_new_request"
HOME_ACTION_IDS = (ACTION_SHOW_MORE, ACTION_OPEN_SETTINGS, ACTION_NEW_REQUEST)

HOME_BLOCKS_MAX = 100
# Rows every list keeps before the expanded list takes the rest of the budget.
ROWS_FLOOR = 3
DETAILS_EXCERPT_CHARS = 150

LIST_TITLES: dict[HomeList, str] = {
    HomeList.MY_OPEN: "Open",
    HomeList.MY_CLOSED: "Closed in the last 30 days",
    HomeList.UNCLAIMED: "Unclaimed",
    HomeList.MINE: "Mine",
    HomeList.OVERDUE: "Overdue",
}
EMPTY_WORDS: dict[HomeList, str] = {
    HomeList.MY_OPEN: "Nothing open right now. Need a deck, a case study or help with an "
    "objection? Press *New request* or type `/mktg` anywhere.",
    HomeList.MY_CLOSED: "Nothing finished in the last 30 days.",
    HomeList.UNCLAIMED: ":tada: Nothing waiting to be picked up.",
    HomeList.MINE: "You hold no open requests. Claim one from the list above.",
    HomeList.OVERDUE: ":white_check_mark: Nothing overdue. Nice work.",
}


# ----------------------------------------------------------------------------- paging


def _list_key(value: object) -> HomeList | None:
    try:
        return HomeList(str(value))
    except ValueError:
        return None


def parse_show_more(value: str | None) -> tuple[HomeList, int] | None:
    """`"support_unclaimed:20"` -> (UNCLAIMED, 20); None for anything we didn't write."""
    key, _, limit = str(value or "").partition(":")
    found = _list_key(key)
    if found is None or not limit.isdigit():
        return None
    return found, clamp_limit(int(limit))


def parse_home_paging(view: dict[str, Any] | None) -> HomePaging:
    """The paging a published home view carries; defaults when there is none or it is odd."""
    if not view or view.get("type") != "home":
        return HomePaging()
    try:
        stored = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return HomePaging()
    if not isinstance(stored, dict) or not isinstance(stored.get("limits") or {}, dict):
        return HomePaging()
    limits: dict[HomeList, int] = {}
    for key, limit in (stored.get("limits") or {}).items():
        found = _list_key(key)
        if found is not None and isinstance(limit, int):
            limits[found] = clamp_limit(limit)
    focus = stored.get("focus")
    return HomePaging(limits=limits, focus=_list_key(focus) if focus else None)


def _paging_metadata(paging: HomePaging) -> str:
    return json.dumps(
        {
            "limits": {key.value: limit for key, limit in paging.limits.items()},
            "focus": paging.focus.value if paging.focus else None,
        }
    )


# ----------------------------------------------------------------------------- rows


def _reference(request: SupportRequest) -> str:
    reference = format_reference(request.number)
    if request.intake_permalink:
        return f"*<{escape_mrkdwn(request.intake_permalink)}|{reference}>*"
    return f"*{reference}*"


def _status(request: SupportRequest) -> str:
    status = RequestStatus(request.status)
    return f"{STATUS_EMOJI[status]} {STATUS_LABELS[status]}"


def _overdue(request: SupportRequest, home: Home) -> bool:
    return RequestStatus(request.status) in OPEN_STATES and Promise.of(request).broken_at(
        home.now, home.zone
    )


def _first_line(request: SupportRequest) -> str:
    due = "" if request.due_date else " · no due date"
    return f"{_reference(request)} · {summary_line(request)}{due}"


def _confirm(title: str, text: str, yes: str, no: str) -> dict[str, Any]:
    return {
        "title": plain(title, 100),
        "text": plain(text, 300),
        "confirm": plain(yes, 30),
        "deny": plain(no, 30),
    }


def _requester_button(request: SupportRequest) -> dict[str, Any] | None:
    """The one thing a requester can do next: answer, cancel or reopen."""
    value = str(request.id)
    status = RequestStatus(request.status)
    reference = format_reference(request.number)
    if status == RequestStatus.WAITING:
        return button("Answer", ACTION_ANSWER, value=value, style="primary")
    if status in OPEN_STATES:
        cancel = button("Cancel", ACTION_CANCEL, value=value)
        cancel["confirm"] = _confirm(
            f"Cancel {reference}?",
            "Marketing Support will stop working on it and be told in its thread.",
            "Cancel request",
            "Keep it",
        )
        return cancel
    if status in (RequestStatus.DELIVERED, RequestStatus.DECLINED):
        reopen = button("Reopen", ACTION_REOPEN, value=value)
        reopen["confirm"] = _confirm(
            f"Reopen {reference}?",
            "It goes back to Marketing Support's queue.",
            "Reopen",
            "Leave it closed",
        )
        return reopen
    return None


def _requester_row(request: SupportRequest, home: Home, key: HomeList) -> list[Block]:
    lines = [_first_line(request)]
    status = RequestStatus(request.status)
    second = [_status(request)]
    if status in OPEN_STATES:
        second.append(f"with <@{request.assignee_id}>" if request.assignee_id else "unassigned")
        if _overdue(request, home):
            second.append(":rotating_light: overdue")
    else:
        second.append(slack_date(request.updated_at, "{date_short}"))
        if status == RequestStatus.DELIVERED and request.deliverable_url:
            second.append(slack_link(request.deliverable_url, "open the deliverable"))
    lines.append(" · ".join(second))
    if status == RequestStatus.DECLINED and request.outcome_note:
        lines.append(f"_{escape_and_truncate(' '.join(request.outcome_note.split()), 300)}_")
    block = section("\n".join(lines))
    accessory = _requester_button(request)
    if accessory is not None:
        block["accessory"] = accessory
    return [block]


def _queue_row(request: SupportRequest, home: Home, key: HomeList) -> list[Block]:
    second = [_status(request), f"from <@{request.requester_id}>"]
    if request.assignee_id:
        second.append(f"with <@{request.assignee_id}>")
    if _overdue(request, home):
        second.append(":rotating_light: overdue")
    lines = [_first_line(request), " · ".join(second)]
    if request.details:
        excerpt = escape_and_truncate(" ".join(request.details.split()), DETAILS_EXCERPT_CHARS)
        lines.append(f">{excerpt}")
    blocks: list[Block] = [section("\n".join(lines))]
    buttons = intake_buttons(request)
    if buttons:
        # Same action ids as the intake post, so the queue handlers answer these clicks;
        # the block id only has to be unique in the view (a request can be in two lists).
        blocks.append(actions(f"home_{key.value}_{request.id}", *buttons))
    return blocks


# ----------------------------------------------------------------------------- layout


Row = Callable[[SupportRequest, Home, HomeList], list[Block]]


@dataclass(frozen=True)
class _List:
    key: HomeList
    page: Page
    row: Row
    cost: int  # blocks per row, at most


@dataclass(frozen=True)
class _Fixed:
    blocks: list[Block]


Part = _List | _Fixed


def _list_overhead(item: _List) -> int:
    """Title, plus a footer reserved whenever there is anything to page through."""
    return 1 + (1 if item.page.total > 0 else 0)


def _allocate(lists: list[_List], budget: int, focus: HomeList | None) -> dict[HomeList, int]:
    """Rows per list: a few for each first, then as many as asked, the expanded list first."""
    shown = dict.fromkeys((item.key for item in lists), 0)
    left = budget

    def give(item: _List, upto: int) -> None:
        nonlocal left
        extra = min(upto - shown[item.key], left // item.cost)
        if extra > 0:
            shown[item.key] += extra
            left -= extra * item.cost

    for item in lists:
        give(item, min(len(item.page.requests), ROWS_FLOOR))
    for item in sorted(lists, key=lambda entry: entry.key != focus):
        give(item, len(item.page.requests))
    return shown


def _title(item: _List) -> Block:
    text = f"*{LIST_TITLES[item.key]}* · {item.page.total}"
    if item.page.total == 0:
        text += f"\n{EMPTY_WORDS[item.key]}"
    return section(text)


def _footer(item: _List, shown: int, home: Home, paging: HomePaging) -> Block | None:
    total = item.page.total
    if shown >= total:
        return None
    cut_by_space = shown < len(item.page.requests) and paging.focus == item.key
    if cut_by_space or shown >= MAX_PAGE:
        where = (
            f" The whole queue is in <#{home.intake_channel}>."
            if home.intake_channel and item.key not in (HomeList.MY_OPEN, HomeList.MY_CLOSED)
            else ""
        )
        return context(f"Showing {shown} of {total}: that's all that fits here.{where}")
    more = min(PAGE_STEP, total - shown)
    return actions(
        f"home_more_{item.key.value}",
        button(
            f"Show {more} more ({shown} of {total} shown)",
            ACTION_SHOW_MORE,
            value=f"{item.key.value}:{shown + PAGE_STEP}",
        ),
    )


def _requests_section(my_open: Page, my_closed: Page) -> list[Part]:
    return [
        _Fixed(
            [
                header("Your requests"),
                {
                    **section(
                        "Ask Marketing Support for a deal deck, objection help, a case study, "
                        "an ROI case… or type `/mktg` in any channel."
                    ),
                    "accessory": button(
                        "New request", ACTION_NEW_REQUEST, value="home", style="primary"
                    ),
                },
            ]
        ),
        _List(HomeList.MY_OPEN, my_open, _requester_row, 1),
        _List(HomeList.MY_CLOSED, my_closed, _requester_row, 1),
        _Fixed([divider()]),
    ]


def _demand_gen_note(home: Home) -> list[Part]:
    note: Block = section(
        "*Demand Gen* · Support requests from sales go to Marketing Support, never to Demand "
        "Gen: you are measured on leads and pipeline, so the queue stays off your desk. Your "
        "KPIs (pipeline sourced and influenced, conversion, coverage) will arrive in the "
        "weekly digest."
        + ("" if home.shows_requests else "\nNeed something from Marketing Support yourself?")
    )
    if not home.shows_requests:
        note["accessory"] = button("File a request", ACTION_NEW_REQUEST, value="home")
    return [_Fixed([note, divider()])]


def _queue_section(unclaimed: Page, mine: Page, overdue: Page) -> list[Part]:
    return [
        _Fixed([header("Marketing Support queue")]),
        _List(HomeList.UNCLAIMED, unclaimed, _queue_row, 2),
        _List(HomeList.MINE, mine, _queue_row, 2),
        _List(HomeList.OVERDUE, overdue, _queue_row, 2),
        _Fixed([divider()]),
    ]


def _admin_section(summary: WorkspaceSummary) -> list[Part]:
    def mark(is_set: bool) -> str:
        return "set" if is_set else "*not set*"

    intake = f"<#{summary.intake_channel}>" if summary.intake_channel else "*not set*"
    text = (
        f"*Workspace* · intake channel: {intake} · groups: Sales {mark(summary.sales_group_set)}, "
        f"Marketing Support {mark(summary.support_group_set)}, Demand Gen "
        f"{mark(summary.demandgen_group_set)} · {summary.open_requests} open requests"
    )
    blocks: list[Block] = [
        header("Admin"),
        {**section(text), "accessory": button("Settings", ACTION_OPEN_SETTINGS, value="home")},
    ]
    if not summary.intake_channel:
        blocks.append(
            context(
                ":warning: No intake channel is set, so new requests are stored but nobody in "
                "Marketing Support is told. Press *Settings* to pick one."
            )
        )
    elif not summary.support_group_set:
        blocks.append(
            context(
                ":warning: No Marketing Support group is set, so nobody can claim requests. "
                "Press *Settings* to pick it."
            )
        )
    return [_Fixed(blocks)]


def build_home_view(home: Home, paging: HomePaging | None = None) -> dict[str, Any]:
    """The person's home tab: every section that applies to them, never over 100 blocks."""
    paging = paging or HomePaging()
    parts: list[Part] = []
    if home.show_demand_gen_note:
        parts += _demand_gen_note(home)
    if home.unclaimed is not None and home.mine is not None and home.overdue is not None:
        parts += _queue_section(home.unclaimed, home.mine, home.overdue)
    if home.my_open is not None and home.my_closed is not None:
        parts += _requests_section(home.my_open, home.my_closed)
    if home.workspace is not None:
        parts += _admin_section(home.workspace)
    if parts and isinstance(parts[-1], _Fixed) and parts[-1].blocks[-1] == divider():
        parts[-1] = _Fixed(parts[-1].blocks[:-1])

    lists = [part for part in parts if isinstance(part, _List)]
    overhead = sum(
        len(part.blocks) if isinstance(part, _Fixed) else _list_overhead(part) for part in parts
    )
    shown = _allocate(lists, HOME_BLOCKS_MAX - overhead, paging.focus)

    blocks: list[Block] = []
    for part in parts:
        if isinstance(part, _Fixed):
            blocks += part.blocks
            continue
        blocks.append(_title(part))
        for request in part.page.requests[: shown[part.key]]:
            blocks += part.row(request, home, part.key)
        footer = _footer(part, shown[part.key], home, paging)
        if footer is not None:
            blocks.append(footer)
    assert len(blocks) <= HOME_BLOCKS_MAX, "the block budget is computed wrongly"
    return {
        "type": "home",
        "callback_id": HOME_CALLBACK,
        "private_metadata": _paging_metadata(paging),
        "blocks": blocks,
    }
