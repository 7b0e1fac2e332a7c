"""User text echoed into Slack cannot ping, link or break a message (bot/core/text.py)."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.text import (
    LINK_URL_MAX,
    escape_and_truncate,
    escape_mrkdwn,
    slack_link,
    truncate,
    unescape_slack,
)

INJECTIONS = ["<!channel>", "<!here>", "<@U123>", "<@U123|bob>", "<https://evil.example|click>"]
# An `&` in escaped output must start one of Slack's three entities.
BROKEN_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")


@pytest.mark.parametrize("text", INJECTIONS)
def test_mentions_and_links_are_made_inert(text: str) -> None:
    escaped = escape_mrkdwn(text)
    assert "<" not in escaped
    assert ">" not in escaped
    assert escaped.startswith("&lt;")
    assert escaped.endswith("&gt;")


def test_ampersand_is_escaped_first_so_entities_are_not_doubled() -> None:
    assert escape_mrkdwn("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert escape_mrkdwn("&lt;") == "&amp;lt;"


def test_plain_text_is_unchanged() -> None:
    assert escape_mrkdwn("Renewal pitch for the CFO *now*") == "Renewal pitch for the CFO *now*"


def test_unescape_reverses_slack_escaping_in_one_pass() -> None:
    assert unescape_slack("Q&amp;A &lt;b&gt;") == "Q&A <b>"
    assert unescape_slack("&amp;lt;") == "&lt;"
    assert unescape_slack("&nbsp; & &amp") == "&nbsp; & &amp"


def test_truncate_leaves_short_text_alone() -> None:
    assert truncate("hello", 5) == "hello"
    assert truncate("", 0) == ""


def test_truncate_ends_with_the_marker_and_never_exceeds_the_limit() -> None:
    assert truncate("hello world", 8) == "hello w…"
    assert truncate("hello world", 7) == "hello…"  # no space left dangling before the marker
    assert truncate("hello world", 8, marker="...") == "hello..."
    assert truncate("hello", 1) == "…"
    assert truncate("hello", 2, marker="...") == ".."
    assert truncate("hello", 0) == ""


def test_negative_limit_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="limit"):
        truncate("x", -1)
    with pytest.raises(ValueError, match="limit"):
        escape_and_truncate("x", -1)


def test_escape_and_truncate_escapes_before_counting() -> None:
    assert escape_and_truncate("<!channel>", 100) == "&lt;!channel&gt;"
    assert escape_and_truncate("a<b", 5) == "a…"  # "a&lt" would be a broken entity
    assert escape_and_truncate("a<b", 6) == "a&lt;b"


@pytest.mark.parametrize("limit", range(0, 12))
def test_escape_and_truncate_never_cuts_inside_an_entity(limit: int) -> None:
    shown = escape_and_truncate("&&&<<<>>>", limit)
    assert len(shown) <= limit
    assert not BROKEN_ENTITY.search(shown)


def test_escape_and_truncate_drops_the_whole_entity_at_the_cut() -> None:
    # "ab&amp;cd" cut to 6 with the marker would leave "ab&am" — the entity goes instead.
    assert escape_and_truncate("ab&cd", 6) == "ab…"
    assert escape_and_truncate("ab&cd", 8) == "ab&amp;…"


def test_ten_thousand_character_text_fits_a_block_kit_section() -> None:
    text = "<@U123> & co " * 1000
    shown = escape_and_truncate(text, 3000)
    assert len(shown) <= 3000
    assert shown.endswith("…")
    assert "<" not in shown
    assert not BROKEN_ENTITY.search(shown)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_escaped_text_never_contains_a_raw_angle_bracket_and_round_trips(text: str) -> None:
    escaped = escape_mrkdwn(text)
    assert "<" not in escaped
    assert ">" not in escaped
    assert not BROKEN_ENTITY.search(escaped)
    assert unescape_slack(escaped) == text


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from("ab &<>\n…"), max_size=40) | st.text(max_size=40),
    limit=st.integers(min_value=0, max_value=50),
    marker=st.sampled_from(["…", "...", "", "&"]),
)
def test_escape_and_truncate_fits_and_keeps_entities_whole(
    text: str, limit: int, marker: str
) -> None:
    shown = escape_and_truncate(text, limit, marker=marker)
    assert len(shown) <= limit
    assert "<" not in shown
    assert ">" not in shown
    assert not BROKEN_ENTITY.search(shown)
    escaped = escape_mrkdwn(text)
    if len(escaped) <= limit:
        assert shown == escaped
    else:
        shown_marker = escape_mrkdwn(marker)
        body = shown.removesuffix(shown_marker) if len(shown_marker) <= limit else shown
        assert escaped.startswith(body)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=40), limit=st.integers(min_value=0, max_value=50))
def test_truncate_never_exceeds_its_limit(text: str, limit: int) -> None:
    shown = truncate(text, limit)
    assert len(shown) <= limit
    if len(text) <= limit:
        assert shown == text
    else:
        assert shown.endswith("…") or limit == 0


def test_a_link_keeps_its_own_label_whatever_the_url_carries() -> None:
    assert slack_link("https://crm.example/a?b=1&c=2", "Open in CRM") == (
        "<https://crm.example/a?b=1&amp;c=2|Open in CRM>"
    )
    assert slack_link("https://evil.example|Open in CRM", "Open in CRM") == (
        "<https://evil.example%7COpen%20in%20CRM|Open in CRM>"
    )
    assert slack_link("https://x.example/<!channel>>", "go") == (
        "<https://x.example/&lt;!channel&gt;&gt;|go>"
    )


def test_invisible_and_control_characters_in_a_url_are_percent_encoded() -> None:
    shown = slack_link("https://x.example/\u202e\u200bab\tc\n\x00", "go")
    assert shown == "<https://x.example/%E2%80%AE%E2%80%8Bab%09c%0A%00|go>"


def test_a_url_too_long_to_link_is_left_out_rather_than_cut() -> None:
    shown = slack_link("https://x.example/" + "a" * LINK_URL_MAX, "open the deliverable")
    assert "<" not in shown
    assert shown.startswith("open the deliverable")


@settings(max_examples=200, deadline=None)
@given(url=st.text(max_size=80), label=st.sampled_from(["Open in CRM", "a <b> & c"]))
def test_a_link_is_always_one_target_and_our_label(url: str, label: str) -> None:
    shown = slack_link("https://" + url, label)
    inner = shown.removeprefix("<").removesuffix(">")
    assert shown.startswith("<") and shown.endswith(">")  # noqa: PT018
    assert inner.count("|") == 1
    assert "<" not in inner
    assert ">" not in inner
    assert not any(char.isspace() for char in inner.split("|")[0])
    assert inner.split("|")[1] == escape_mrkdwn(label)
