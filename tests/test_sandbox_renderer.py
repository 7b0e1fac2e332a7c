"""The sandbox's Block Kit -> HTML renderer (`sandbox.render`)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from sandbox.render import STYLESHEET, render_blocks, render_mrkdwn, render_view

SAMPLES = Path(__file__).parent / "fixtures" / "slack" / "samples"
VOID = {"input", "br", "hr", "img"}


class _Page(HTMLParser):
    """Collects the visible text and checks that every tag is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1:] == [tag], f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(fragment: str) -> _Page:
    page = _Page()
    page.feed(fragment)
    page.close()
    assert page.stack == [], f"unclosed tags {page.stack}"
    return page


def visible(fragment: str) -> str:
    return "".join(parse(fragment).text)


def tags(fragment: str, name: str) -> list[dict[str, str | None]]:
    return [attrs for tag, attrs in parse(fragment).tags if tag == name]


def with_attr(fragment: str, attr: str, value: str) -> list[dict[str, str | None]]:
    return [attrs for _, attrs in parse(fragment).tags if attrs.get(attr) == value]


# ------------------------------------------------------------------ every sample in the fixtures


def _find(obj: Any, found: dict[str, list[Any]]) -> None:
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "blocks" and isinstance(value, list):
                found["blocks"].append(value)
            elif key == "view" and isinstance(value, dict):
                found["views"].append(value)
            _find(value, found)
    elif isinstance(obj, list):
        for item in obj:
            _find(item, found)


def _texts(obj: Any) -> list[str]:
    """The strings a reader must see: every text object's text and every bare link's URL."""
    out: list[str] = []
    if isinstance(obj, dict):
        if isinstance(obj.get("text"), str):
            out.append(obj["text"])
        elif obj.get("type") == "link" and isinstance(obj.get("url"), str):
            out.append(obj["url"])
        for key, value in obj.items():
            if key != "text" or not isinstance(value, str):
                out.extend(_texts(value))
    elif isinstance(obj, list):
        for item in obj:
            out.extend(_texts(item))
    return out


def _samples() -> list[tuple[str, dict[str, list[Any]]]]:
    result = []
    for path in sorted(SAMPLES.rglob("*.json")):
        found: dict[str, list[Any]] = {"blocks": [], "views": []}
        _find(json.loads(path.read_text()), found)
        if found["blocks"] or found["views"]:
            result.append((path.name, found))
    return result


SAMPLE_CASES = _samples()


def test_the_samples_hold_blocks_and_views() -> None:
    assert len(SAMPLE_CASES) >= 10
    assert any(found["views"] for _, found in SAMPLE_CASES)


@pytest.mark.parametrize(("name", "found"), SAMPLE_CASES, ids=[n for n, _ in SAMPLE_CASES])
def test_every_sample_renders_with_its_text(name: str, found: dict[str, list[Any]]) -> None:
    for blocks in found["blocks"]:
        out = render_blocks(blocks, users={"U111": "Uma"})
        shown = visible(out)
        for block in blocks:
            assert f'data-type="{block["type"]}"' in out
            assert "unsupported" not in shown, block["type"]
            for text in _texts(block):
                assert text in shown, (name, block["type"], text)
    for view in found["views"]:
        out = render_view(view)
        shown = visible(out)
        assert "unsupported" not in shown
        for key in ("title", "submit", "close"):
            if isinstance(view.get(key), dict):
                assert view[key]["text"] in shown
        for text in _texts(view.get("blocks")):
            assert text in shown, (name, text)
        for block in view.get("blocks", []):
            element = block.get("element")
            if element:
                assert with_attr(out, "data-action-id", element["action_id"])
                assert with_attr(out, "data-block-id", block["block_id"])


# ------------------------------------------------------------------ escaping


def test_html_in_message_text_is_shown_not_run() -> None:
    hostile = '<script>alert(1)</script> &lt;img src=x onerror=alert(1)&gt; "quoted"'
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "<script>alert(1)</script>"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": hostile}},
        {
            "type": "actions",
            "block_id": '"><script>x</script>',
            "elements": [
                {
                    "type": "button",
                    "action_id": "a\"'><b>",
                    "value": '"><script>v</script>',
                    "text": {"type": "plain_text", "text": "<b>Go</b>"},
                }
            ],
        },
    ]
    out = render_blocks(blocks)
    assert "<script" not in out
    assert "<img" not in out
    assert "<b>" not in out
    shown = visible(out)
    assert "<script>alert(1)</script>" in shown
    assert "<img src=x onerror=alert(1)>" in shown
    assert "<b>Go</b>" in shown
    (button,) = tags(out, "button")
    assert button["data-block-id"] == '"><script>x</script>'
    assert button["data-action-id"] == "a\"'><b>"
    assert button["data-value"] == '"><script>v</script>'


def test_only_web_and_mail_links_become_links() -> None:
    out = render_mrkdwn(
        "<javascript:alert(1)|click me> <JaVaScRiPt:alert(2)> <data:text/html,x|d> "
        "<https://example.com/a_b_c?x=1&amp;y=2|ok> <mailto:a@b.c|mail> <http://e.org>"
    )
    hrefs = [a["href"] or "" for a in tags(out, "a")]
    assert hrefs == ["https://example.com/a_b_c?x=1&y=2", "mailto:a@b.c", "http://e.org"]
    shown = visible(out)
    assert "click me" in shown
    assert "JaVaScRiPt:alert(2)" in shown
    assert "javascript:" not in "".join(hrefs).lower()
    for a in tags(out, "a"):
        assert a["rel"] == "noopener noreferrer"

    blocks: list[dict[str, Any]] = [
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [{"type": "link", "url": "javascript:alert(1)", "text": "rt"}],
                }
            ],
        },
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "b",
                    "url": "javascript:alert(1)",
                    "text": {"type": "plain_text", "text": "B"},
                }
            ],
        },
        {"type": "image", "image_url": "javascript:alert(1)", "alt_text": "pic"},
    ]
    out = render_blocks(blocks)
    assert "javascript" not in out.replace('title="javascript:alert(1)"', "")
    assert tags(out, "a") == []
    assert "rt" in visible(out)
    assert "pic" in visible(out)


def test_entities_show_as_characters_and_standard_emoji_as_slack_shows_them() -> None:
    out = render_mrkdwn("a &lt; b &gt; c &amp;&amp; d :tada: :white_check_mark: :our_logo:")
    assert visible(out) == "a < b > c && d 🎉 ✅ :our_logo:"
    assert 'title=":tada:"' in out
    assert "&lt; b &gt; c &amp;&amp; d" in out


def test_emoji_codes_inside_code_stay_text() -> None:
    assert visible(render_mrkdwn("`:tada:` :tada:")) == ":tada: 🎉"


# ------------------------------------------------------------------ mrkdwn


def test_mrkdwn_styles_code_quotes_and_preformatted() -> None:
    text = (
        "*bold* _italic_ ~strike~ `code *not bold*` snake_case_name 2*3*4\n"
        "&gt; quoted *line*\n> second\nafter\n```\nline 1\n  *raw*\n```"
    )
    out = render_mrkdwn(text)
    assert '<strong class="bk-bold">bold</strong>' in out
    assert '<em class="bk-italic">italic</em>' in out
    assert '<s class="bk-strike">strike</s>' in out
    assert '<code class="bk-code">code *not bold*</code>' in out
    assert "snake_case_name" in out
    assert "2*3*4" in out
    (quote,) = re.findall(r'<blockquote class="bk-quote">(.*?)</blockquote>', out)
    assert visible(quote) == "quoted linesecond"
    assert '<strong class="bk-bold">line</strong>' in quote
    assert '<pre class="bk-pre">line 1<br>  *raw*</pre>' in out
    assert "after" in visible(out)


def test_mentions_use_known_names_and_fall_back_to_ids() -> None:
    out = render_mrkdwn(
        "<@U1> <@U2> <@U3|old-name> <#C1> <#C2|random> <#C3> <!here> <!channel> <!everyone>"
        " <!subteam^S1|@team>",
        users={"U1": "Alice <A>"},
        channels={"C1": "general"},
    )
    shown = visible(out)
    assert shown == ("@Alice <A> @U2 @old-name #general #random #C3 @here @channel @everyone @team")
    assert "Alice &lt;A&gt;" in out
    assert with_attr(out, "data-user-id", "U2")
    assert with_attr(out, "data-channel-id", "C1")


def test_dates_are_shown_in_the_given_zone() -> None:
    ts = 1764000000  # 2025-11-24 16:00:00 UTC, a Monday
    fmt = "{date_num}|{date}|{date_short}|{date_long}|{time}|{time_secs}|{date_pretty}"
    out = render_mrkdwn(f"<!date^{ts}^{fmt.replace('|', ' / ')}|fallback>", zone="Asia/Tokyo")
    assert visible(out) == (
        "2025-11-25 / November 25th, 2025 / Nov 25, 2025 / Tuesday, November 25th, 2025"
        " / 1:00 AM / 1:00:00 AM / November 25th, 2025"
    )
    (time_tag,) = tags(out, "time")
    assert time_tag["datetime"] == "2025-11-25T01:00:00+09:00"

    out = render_mrkdwn(f"<!date^{ts}^{{date_short}} at {{time}}|fb>", zone="America/New_York")
    assert visible(out) == "Nov 24, 2025 at 11:00 AM"
    assert visible(render_mrkdwn(f"<!date^{ts}^{{time}}|fb>", zone="Nowhere/Land")) == "4:00 PM"
    assert visible(render_mrkdwn(f"<!date^{ts}^{{bogus}}|the fallback>")) == "the fallback"
    assert visible(render_mrkdwn("<!date^notanumber^{date}|fb &amp; co>")) == "fb & co"
    linked = render_mrkdwn(f"<!date^{ts}^{{date_num}}^https://example.com|fb>")
    assert [a["href"] for a in tags(linked, "a")] == ["https://example.com"]


# ------------------------------------------------------------------ blocks


def test_section_with_fields_and_a_button_accessory() -> None:
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "block_id": "req_1",
            "text": {"type": "mrkdwn", "text": "*Request* from <@U1>"},
            "fields": [
                {"type": "mrkdwn", "text": "*Status*\nOpen"},
                {"type": "plain_text", "text": "Due: *soon*"},
            ],
            "accessory": {
                "type": "button",
                "action_id": "open_request",
                "value": "42",
                "style": "primary",
                "text": {"type": "plain_text", "text": "Open"},
            },
        }
    ]
    out = render_blocks(blocks, users={"U1": "Alice"})
    (button,) = tags(out, "button")
    assert button["data-action-id"] == "open_request"
    assert button["data-block-id"] == "req_1"
    assert button["data-value"] == "42"
    assert "bk-button-primary" in (button["class"] or "")
    assert len(re.findall(r'class="bk-field"', out)) == 2
    shown = visible(out)
    assert "Request from @Alice" in shown
    assert "Due: *soon*" in shown  # plain_text is not mrkdwn
    assert "<strong" in out
    assert "Open" in shown


@pytest.mark.parametrize(
    "accessory",
    [
        {"type": "image", "image_url": "https://e.com/i.png", "alt_text": "a cat"},
        {
            "type": "overflow",
            "action_id": "more",
            "options": [{"text": {"type": "plain_text", "text": "Edit"}, "value": "edit"}],
        },
        {
            "type": "static_select",
            "action_id": "pick",
            "options": [{"text": {"type": "plain_text", "text": "One"}, "value": "1"}],
            "initial_option": {"text": {"type": "plain_text", "text": "One"}, "value": "1"},
        },
        {"type": "users_select", "action_id": "who", "initial_user": "U9"},
        {"type": "conversations_select", "action_id": "where", "initial_conversation": "C1"},
        {"type": "channels_select", "action_id": "chan"},
        {"type": "datepicker", "action_id": "when", "initial_date": "2025-01-02"},
    ],
    ids=lambda a: a["type"],
)
def test_section_accessories(accessory: dict[str, Any]) -> None:
    block = {"type": "section", "block_id": "b1", "text": {"type": "mrkdwn", "text": "hi"}}
    out = render_blocks(
        [{**block, "accessory": accessory}], users={"U1": "Al"}, channels={"C1": "gen"}
    )
    shown = visible(out)
    assert "unsupported" not in shown
    if accessory["type"] == "image":
        assert "a cat" in shown
        return
    found = with_attr(out, "data-action-id", accessory["action_id"])
    assert found
    for attrs in found:
        assert attrs["data-block-id"] == "b1"
        assert "data-value" in attrs
    if accessory["type"] == "static_select":
        assert found[0]["data-value"] == "1"
    if accessory["type"] == "users_select":
        assert found[0]["data-value"] == "U9"
        assert "@Al" in shown
        assert "@U9" in shown
    if accessory["type"] == "conversations_select":
        assert "#gen" in shown
    if accessory["type"] == "overflow":
        assert any(a["data-value"] == "edit" for a in found)
    if accessory["type"] == "datepicker":
        assert found[0]["value"] == "2025-01-02"


def test_header_context_divider_image_and_actions() -> None:
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "block_id": "h",
            "text": {"type": "plain_text", "text": "Weekly :tada:"},
        },
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": "by *bot*"},
                {"type": "plain_text", "text": "plain"},
                {"type": "image", "image_url": "https://e.com/a.png", "alt_text": "avatar"},
            ],
        },
        {"type": "divider"},
        {
            "type": "image",
            "image_url": "https://e.com/chart.png",
            "alt_text": "a chart",
            "title": {"type": "plain_text", "text": "Chart title"},
        },
        {
            "type": "actions",
            "block_id": "acts",
            "elements": [
                {
                    "type": "button",
                    "action_id": "approve",
                    "value": "yes",
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Approve"},
                },
                {
                    "type": "button",
                    "action_id": "reject",
                    "value": "no",
                    "style": "danger",
                    "text": {"type": "plain_text", "text": "Reject"},
                },
                {
                    "type": "static_select",
                    "action_id": "sel",
                    "placeholder": {"type": "plain_text", "text": "Choose"},
                    "option_groups": [
                        {
                            "label": {"type": "plain_text", "text": "Group"},
                            "options": [
                                {"text": {"type": "plain_text", "text": "G1"}, "value": "g1"}
                            ],
                        }
                    ],
                },
                {
                    "type": "overflow",
                    "action_id": "ovf",
                    "options": [{"text": {"type": "plain_text", "text": "Delete"}, "value": "del"}],
                },
                {"type": "datepicker", "action_id": "dp"},
            ],
        },
    ]
    out = render_blocks(blocks)
    shown = visible(out)
    for text in ("Weekly 🎉", "by bot", "plain", "avatar", "a chart", "Chart title"):
        assert text in shown
    assert '<hr class="bk-divider-line">' in out
    assert "bk-button-danger" in out
    assert "bk-button-primary" in out
    for action_id in ("approve", "reject", "sel", "ovf", "dp"):
        for attrs in with_attr(out, "data-action-id", action_id):
            assert attrs["data-block-id"] == "acts"
            assert "data-value" in attrs
    assert [a["data-value"] for a in with_attr(out, "data-action-id", "approve")] == ["yes"]
    assert "Choose" in shown
    assert "G1" in shown
    assert "Delete" in shown


INPUT_ELEMENTS: list[dict[str, Any]] = [
    {"type": "plain_text_input", "initial_value": "single"},
    {"type": "plain_text_input", "multiline": True, "initial_value": "multi\nline"},
    {
        "type": "static_select",
        "options": [{"text": {"type": "plain_text", "text": "Opt A"}, "value": "a"}],
    },
    {
        "type": "multi_static_select",
        "options": [
            {"text": {"type": "plain_text", "text": "Opt A"}, "value": "a"},
            {"text": {"type": "plain_text", "text": "Opt B"}, "value": "b"},
        ],
        "initial_options": [{"text": {"type": "plain_text", "text": "Opt B"}, "value": "b"}],
    },
    {"type": "users_select"},
    {"type": "multi_users_select", "initial_users": ["U1", "U2"]},
    {"type": "conversations_select"},
    {"type": "datepicker", "initial_date": "2025-03-04"},
    {
        "type": "radio_buttons",
        "options": [
            {"text": {"type": "plain_text", "text": "Radio A"}, "value": "ra"},
            {
                "text": {"type": "mrkdwn", "text": "*Radio B*"},
                "value": "rb",
                "description": {"type": "plain_text", "text": "the second"},
            },
        ],
        "initial_option": {"text": {"type": "plain_text", "text": "Radio B"}, "value": "rb"},
    },
    {
        "type": "checkboxes",
        "options": [{"text": {"type": "plain_text", "text": "Check A"}, "value": "ca"}],
        "initial_options": [{"text": {"type": "plain_text", "text": "Check A"}, "value": "ca"}],
    },
    {"type": "url_text_input", "initial_value": "https://x.org"},
    {"type": "number_input", "is_decimal_allowed": False, "min_value": "1", "max_value": "9"},
    {"type": "email_text_input", "placeholder": {"type": "plain_text", "text": "you@x.org"}},
]


@pytest.mark.parametrize("element", INPUT_ELEMENTS, ids=lambda e: e["type"])
def test_input_elements_in_a_modal(element: dict[str, Any]) -> None:
    view = {
        "type": "modal",
        "id": "V1",
        "callback_id": "cb",
        "title": {"type": "plain_text", "text": "Form"},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            {
                "type": "input",
                "block_id": "blk",
                "optional": True,
                "label": {"type": "plain_text", "text": "The label"},
                "hint": {"type": "plain_text", "text": "A hint"},
                "element": {**element, "action_id": "act"},
            }
        ],
    }
    out = render_view(view, users={"U1": "Alice"}, channels={"C1": "general"})
    shown = visible(out)
    assert "unsupported" not in shown
    for text in ("Form", "Save", "Cancel", "The label", "(optional)", "A hint"):
        assert text in shown
    controls = with_attr(out, "data-action-id", "act")
    assert controls
    for attrs in controls:
        assert attrs["data-block-id"] == "blk"
        assert "data-value" in attrs
        assert "disabled" not in attrs
    for text in _texts({k: v for k, v in element.items() if k != "placeholder"}):
        assert text.replace("*", "") in shown
    kind = element["type"]
    if kind == "multi_static_select":
        assert json.loads(controls[0]["data-value"] or "") == ["b"]
    if kind == "multi_users_select":
        assert json.loads(controls[0]["data-value"] or "") == ["U1", "U2"]
        assert "@Alice" in shown
        assert "@U2" in shown
    if kind == "radio_buttons":
        assert controls[0]["data-value"] == "rb"
        assert [a["data-value"] for a in tags(out, "input")] == ["ra", "rb"]
        assert "checked" in tags(out, "input")[1]
    if kind == "plain_text_input" and element.get("multiline"):
        assert tags(out, "textarea")
        assert "multi\nline" in shown
    if kind == "number_input":
        assert tags(out, "input")[0]["type"] == "number"
    if kind == "email_text_input":
        assert tags(out, "input")[0]["placeholder"] == "you@x.org"


def test_an_input_shows_its_error_message_and_can_be_disabled() -> None:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Goals"},
        "close": {"type": "plain_text", "text": "Never mind"},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [
            {
                "type": "input",
                "block_id": "goal",
                "label": {"type": "plain_text", "text": "Goal"},
                "element": {"type": "plain_text_input", "action_id": "goal_text"},
            },
            {
                "type": "input",
                "block_id": "other",
                "label": {"type": "plain_text", "text": "Other"},
                "element": {"type": "plain_text_input", "action_id": "other_text"},
            },
        ],
    }
    out = render_view(view, errors={"goal": "Must be <b>shorter</b>"}, interactive=False)
    errors = re.findall(r'<div class="bk-input-error" role="alert">(.*?)</div>', out)
    assert errors == ["Must be &lt;b&gt;shorter&lt;/b&gt;"]
    goal_block = out.index('data-block-id="goal"')
    other_block = out.index('data-block-id="other"')
    assert goal_block < out.index("bk-input-error") < other_block
    assert "bk-input-has-error" in out
    assert "Never mind" in visible(out)
    assert "Send" in visible(out)
    assert all("disabled" in attrs for attrs in tags(out, "input"))
    assert all("disabled" in attrs for attrs in tags(out, "button"))


def test_app_home_has_no_modal_buttons() -> None:
    out = render_view(
        {"type": "home", "blocks": [{"type": "divider"}], "callback_id": "home"},
    )
    assert "bk-view-home" in out
    assert tags(out, "button") == []


def test_rich_text_lists_quotes_and_preformatted() -> None:
    block = {
        "type": "rich_text",
        "block_id": "rt",
        "elements": [
            {
                "type": "rich_text_section",
                "elements": [
                    {"type": "text", "text": "Hi ", "style": {"bold": True}},
                    {"type": "user", "user_id": "U1"},
                    {"type": "text", "text": " in "},
                    {"type": "channel", "channel_id": "C9"},
                    {"type": "emoji", "name": "wave", "unicode": "1f44b"},
                    {"type": "broadcast", "range": "here"},
                    {
                        "type": "link",
                        "url": "https://e.com",
                        "text": "site",
                        "style": {"italic": True},
                    },
                ],
            },
            {
                "type": "rich_text_list",
                "style": "ordered",
                "offset": 2,
                "indent": 1,
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": "first"}]},
                    {
                        "type": "rich_text_section",
                        "elements": [{"type": "text", "text": "second", "style": {"strike": True}}],
                    },
                ],
            },
            {
                "type": "rich_text_list",
                "style": "bullet",
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": "dot"}]}
                ],
            },
            {
                "type": "rich_text_quote",
                "elements": [{"type": "text", "text": "wise words", "style": {"code": True}}],
            },
            {
                "type": "rich_text_preformatted",
                "elements": [{"type": "text", "text": "x = 1\n<tag>"}],
            },
        ],
    }
    out = render_blocks([block], users={"U1": "Alice"})
    shown = visible(out)
    assert "Hi @Alice in #C9👋@heresite" in shown
    assert '<strong class="bk-bold">Hi </strong>' in out
    assert '<em class="bk-italic"><a class="bk-link" href="https://e.com"' in out
    (ordered,) = tags(out, "ol")
    assert ordered["start"] == "3"
    assert "bk-rt-indent-1" in (ordered["class"] or "")
    assert len(tags(out, "ul")) == 1
    assert len(tags(out, "li")) == 3
    assert '<s class="bk-strike">second</s>' in out
    assert re.search(
        r'<blockquote class="bk-rt-quote"><code class="bk-code">wise words</code>', out
    )
    assert '<pre class="bk-rt-pre">x = 1<br>&lt;tag&gt;</pre>' in out


def test_unknown_blocks_and_elements_are_shown_not_raised() -> None:
    blocks: list[Any] = [
        {"type": "video", "block_id": "v", "title": {"type": "plain_text", "text": "t"}},
        {"type": "<script>"},
        {"no_type": True},
        "not a block",
        {"type": "actions", "elements": [{"type": "workflow_button", "action_id": "w"}]},
        {"type": "section", "text": "not an object", "fields": "nope", "accessory": 3},
        {"type": "rich_text", "elements": [{"type": "rich_text_mystery"}, None]},
    ]
    out = render_blocks(blocks)
    shown = visible(out)
    assert "unsupported block video" in shown
    assert "unsupported block <script>" in shown
    assert "unsupported element workflow_button" in shown
    assert "unsupported rich text element rich_text_mystery" in shown
    assert "<script>" not in out
    assert render_blocks([]) == '<div class="bk-blocks"></div>'


def test_a_modal_shows_what_the_user_entered() -> None:
    sample = json.loads((SAMPLES / "request.view_submission.json").read_text())
    out = render_view(sample["view"])
    (field,) = with_attr(out, "data-action-id", "maBWU")
    assert field["value"] == "test"
    assert field["data-value"] == "test"

    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "T"},
        "blocks": [
            {
                "type": "input",
                "block_id": "b",
                "label": {"type": "plain_text", "text": "L"},
                "element": {
                    "type": "static_select",
                    "action_id": "s",
                    "options": [
                        {"text": {"type": "plain_text", "text": "One"}, "value": "1"},
                        {"text": {"type": "plain_text", "text": "Two"}, "value": "2"},
                    ],
                    "initial_option": {"text": {"type": "plain_text", "text": "One"}, "value": "1"},
                },
            }
        ],
        "state": {"values": {"b": {"s": {"selected_option": {"value": "2"}}}}},
    }
    out = render_view(view)
    assert with_attr(out, "data-action-id", "s")[0]["data-value"] == "2"
    assert [o["value"] for o in tags(out, "option") if "selected" in o] == ["2"]


def test_the_stylesheet_cannot_leave_its_style_element() -> None:
    assert "<" not in STYLESHEET
    assert ".bk-button-primary" in STYLESHEET


def test_a_confirm_dialog_keeps_its_title_and_text_for_the_page() -> None:
    button = {
        "type": "button",
        "action_id": "request_cancel",
        "text": {"type": "plain_text", "text": "Cancel"},
        "confirm": {
            "title": {"type": "plain_text", "text": "Cancel MS-1?"},
            "text": {"type": "plain_text", "text": "Marketing Support stops working on it."},
            "confirm": {"type": "plain_text", "text": "Cancel it"},
            "deny": {"type": "plain_text", "text": "Keep it"},
        },
    }
    out = render_blocks([{"type": "actions", "block_id": "a", "elements": [button]}])
    assert 'data-confirm="Cancel MS-1?\n\nMarketing Support stops working on it."' in out


def test_an_input_label_names_its_control() -> None:
    block = {
        "type": "input",
        "block_id": "link",
        "label": {"type": "plain_text", "text": "Link"},
        "element": {"type": "url_text_input", "action_id": "value"},
    }
    out = render_blocks([block])
    assert 'for="bk-link-value"' in out
    assert 'id="bk-link-value"' in out
