"""Slack's Block Kit limits, checked as Slack checks them server-side (messages, modals, Home)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

Surface = Literal["message", "modal", "home"]


def json_pointer(path: str) -> str:
    return f"[json-pointer:{path}]"


def _too_long(path: str, limit: int) -> str:
    return f"must be less than {limit + 1} characters {json_pointer(path)}"


def _too_many(path: str, limit: int) -> str:
    return f"no more than {limit} items allowed {json_pointer(path)}"


def _schema(path: str) -> str:
    return f"failed to match all allowed schemas {json_pointer(path)}"


def missing_field(path: str, name: str) -> str:
    return f"missing required field: {name} {json_pointer(path)}"


_KNOWN_BLOCKS = {
    "actions",
    "call",
    "context",
    "context_actions",
    "divider",
    "file",
    "header",
    "image",
    "input",
    "markdown",
    "rich_text",
    "section",
    "table",
    "video",
}
_OPTION_LIMITS = {  # element type -> max options
    "static_select": 100,
    "multi_static_select": 100,
    "checkboxes": 10,
    "radio_buttons": 10,
    "overflow": 5,
}


class _BlockValidator:
    """Collects Slack-style error strings for one surface (message, modal or home)."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.block_ids: set[str] = set()

    def err(self, message: str) -> None:
        self.errors.append(message)

    def text(
        self,
        obj: Any,
        path: str,
        *,
        limit: int,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        """A composition text object: type, non-empty text within `limit`, no mrkdwn emoji."""
        if obj is None:
            if required:
                self.err(missing_field(path.rsplit("/", 1)[0], path.rsplit("/", 1)[1]))
            return
        if not isinstance(obj, dict):
            self.err(_schema(path))
            self.err(f"must provide an object {json_pointer(path)}")
            return
        problems: list[str] = []
        kind = obj.get("type")
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if kind not in allowed:
            problems.append(f"must be one of {', '.join(allowed)} {json_pointer(path + '/type')}")
        text = obj.get("text")
        if not isinstance(text, str):
            problems.append(missing_field(path, "text"))
        elif not text:
            problems.append(f"must be more than 0 characters {json_pointer(path + '/text')}")
        elif len(text) > limit:
            problems.append(_too_long(path + "/text", limit))
        if kind == "mrkdwn" and "emoji" in obj:
            problems.append(f"invalid additional property: emoji {json_pointer(path)}")
        if problems:
            self.err(_schema(path))
            self.errors.extend(problems)

    def length(self, obj: dict[str, Any], key: str, path: str, limit: int) -> None:
        value = obj.get(key)
        if isinstance(value, str) and len(value) > limit:
            self.err(_too_long(f"{path}/{key}", limit))

    def option(self, opt: Any, path: str, *, plain_only: bool) -> None:
        if not isinstance(opt, dict):
            self.err(f"must provide an object {json_pointer(path)}")
            return
        self.text(opt.get("text"), path + "/text", limit=75, plain_only=plain_only)
        self.length(opt, "value", path, 150)
        if opt.get("description") is not None:
            self.text(opt["description"], path + "/description", limit=75, plain_only=plain_only)

    def element(self, el: Any, path: str) -> None:
        """An interactive (or image) element inside a section/actions/input/context block."""
        if not isinstance(el, dict):
            self.err(f"must provide an object {json_pointer(path)}")
            return
        kind = el.get("type")
        if not isinstance(kind, str):
            self.err(missing_field(path, "type"))
            return
        self.length(el, "action_id", path, 255)
        if el.get("placeholder") is not None:
            self.text(el["placeholder"], path + "/placeholder", limit=150, plain_only=True)
        if kind == "button":
            self.text(el.get("text"), path + "/text", limit=75, plain_only=True)
            self.length(el, "value", path, 2000)
            self.length(el, "url", path, 3000)
            if "style" in el and el["style"] not in ("primary", "danger"):
                self.err(f"must be one of primary, danger {json_pointer(path + '/style')}")
        elif kind == "image":
            if not el.get("image_url") and not el.get("slack_file"):
                self.err(missing_field(path, "image_url"))
            self.length(el, "image_url", path, 3000)
            if not isinstance(el.get("alt_text"), str):
                self.err(missing_field(path, "alt_text"))
            self.length(el, "alt_text", path, 2000)
        elif kind == "plain_text_input":
            self.plain_text_input(el, path)
        if kind in _OPTION_LIMITS or kind.endswith("static_select"):
            self.options(el, kind, path)

    def plain_text_input(self, el: dict[str, Any], path: str) -> None:
        max_length = el.get("max_length")
        min_length = el.get("min_length")
        if isinstance(max_length, int) and not 1 <= max_length <= 3000:
            self.err(f"must be between 1 and 3000 {json_pointer(path + '/max_length')}")
        if isinstance(min_length, int) and not 0 <= min_length <= 3000:
            self.err(f"must be between 0 and 3000 {json_pointer(path + '/min_length')}")
        initial = el.get("initial_value")
        if isinstance(initial, str):
            cap = max_length if isinstance(max_length, int) else 3000
            if len(initial) > cap:
                self.err(_too_long(path + "/initial_value", cap))

    def options(self, el: dict[str, Any], kind: str, path: str) -> None:
        limit = _OPTION_LIMITS.get(kind, 100)
        plain_only = kind not in ("checkboxes", "radio_buttons")
        options = el.get("options")
        groups = el.get("option_groups")
        if options is None and groups is None:
            self.err(missing_field(path, "options"))
            return
        if options is not None:
            if not isinstance(options, list):
                self.err(f"must provide an array {json_pointer(path + '/options')}")
                return
            if len(options) > limit:
                self.err(_too_many(path + "/options", limit))
            if kind == "overflow" and len(options) < 2:
                self.err(f"must provide at least 2 items {json_pointer(path + '/options')}")
            for i, opt in enumerate(options):
                self.option(opt, f"{path}/options/{i}", plain_only=plain_only)
        if isinstance(groups, list):
            if len(groups) > 100:
                self.err(_too_many(path + "/option_groups", 100))
            for g, group in enumerate(groups):
                gpath = f"{path}/option_groups/{g}"
                if not isinstance(group, dict):
                    self.err(f"must provide an object {json_pointer(gpath)}")
                    continue
                self.text(group.get("label"), gpath + "/label", limit=75, plain_only=True)
                group_options = group.get("options") or []
                if len(group_options) > 100:
                    self.err(_too_many(gpath + "/options", 100))
                for i, opt in enumerate(group_options):
                    self.option(opt, f"{gpath}/options/{i}", plain_only=True)

    def block(self, block: Any, path: str) -> None:
        if not isinstance(block, dict):
            self.err(f"must provide an object {json_pointer(path)}")
            return
        kind = block.get("type")
        if not isinstance(kind, str):
            self.err(missing_field(path, "type"))
            return
        if kind not in _KNOWN_BLOCKS:
            self.err(_schema(path))
            self.err(f"unsupported type: {kind} {json_pointer(path + '/type')}")
            return
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str):
                self.err(f"must be a string {json_pointer(path + '/block_id')}")
            elif len(block_id) > 255:
                self.err(_too_long(path + "/block_id", 255))
            elif block_id in self.block_ids:
                self.err(f"duplicate block_id: {block_id} {json_pointer(path + '/block_id')}")
            else:
                self.block_ids.add(block_id)
        getattr(self, f"block_{kind}", self.block_other)(block, path)

    def block_other(self, block: dict[str, Any], path: str) -> None:
        del block, path  # rich_text, file, video, ...: structure not checked here

    def block_section(self, block: dict[str, Any], path: str) -> None:
        fields = block.get("fields")
        if block.get("text") is None and fields is None:
            self.err(_schema(path))
            self.err(missing_field(path, "text"))
        if block.get("text") is not None:
            self.text(block["text"], path + "/text", limit=3000)
        if fields is not None:
            if not isinstance(fields, list):
                self.err(f"must provide an array {json_pointer(path + '/fields')}")
            else:
                if len(fields) > 10:
                    self.err(_too_many(path + "/fields", 10))
                for i, f in enumerate(fields):
                    self.text(f, f"{path}/fields/{i}", limit=2000)
        if block.get("accessory") is not None:
            self.element(block["accessory"], path + "/accessory")

    def block_context(self, block: dict[str, Any], path: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.err(missing_field(path, "elements"))
            return
        if len(elements) > 10:
            self.err(_too_many(path + "/elements", 10))
        for i, el in enumerate(elements):
            epath = f"{path}/elements/{i}"
            if isinstance(el, dict) and el.get("type") == "image":
                self.element(el, epath)
            else:
                self.text(el, epath, limit=3000)

    def block_header(self, block: dict[str, Any], path: str) -> None:
        self.text(block.get("text"), path + "/text", limit=150, plain_only=True)

    def block_actions(self, block: dict[str, Any], path: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.err(missing_field(path, "elements"))
            return
        if len(elements) > 25:
            self.err(_too_many(path + "/elements", 25))
        for i, el in enumerate(elements):
            self.element(el, f"{path}/elements/{i}")

    def block_input(self, block: dict[str, Any], path: str) -> None:
        self.text(block.get("label"), path + "/label", limit=2000, plain_only=True)
        if block.get("hint") is not None:
            self.text(block["hint"], path + "/hint", limit=2000, plain_only=True)
        if block.get("element") is None:
            self.err(missing_field(path, "element"))
        else:
            self.element(block["element"], path + "/element")

    def block_image(self, block: dict[str, Any], path: str) -> None:
        self.element(block, path)
        if block.get("title") is not None:
            self.text(block["title"], path + "/title", limit=2000, plain_only=True)

    def block_markdown(self, block: dict[str, Any], path: str) -> None:
        self.length(block, "text", path, 12000)


def validate_blocks(blocks: Any, surface: Surface) -> list[str]:
    """Slack's Block Kit limits for `surface`; returns Slack-style error strings (empty = ok).

    Each string ends with a JSON pointer like Slack's (``[json-pointer:/blocks/3/text]``; for
    views the pointers start at ``/view/blocks``). Enforced: max blocks (50 in messages, 100 in
    modals/home), section text 3000 / field 2000 / 10 fields, context text 3000, header 150,
    button text 75, option text 75 / 100 options (10 for checkboxes/radios, 2-5 for overflow),
    plain_text_input max_length <= 3000 and initial_value within it, block_id / action_id
    <= 255, duplicate block_ids, empty texts, ``emoji`` on mrkdwn, unknown block types.
    Wording follows the Slack errors we have samples of; do not assert on exact strings.
    """
    root = "/blocks" if surface == "message" else "/view/blocks"
    validator = _BlockValidator()
    if not isinstance(blocks, list):
        return [f"must provide an array {json_pointer(root)}"]
    limit = 50 if surface == "message" else 100
    if len(blocks) > limit:
        validator.err(_too_many(root, limit))
    for i, block in enumerate(blocks):
        validator.block(block, f"{root}/{i}")
    return validator.errors


def validate_view(view: Any, *, allowed_types: Iterable[str] = ("modal", "home")) -> list[str]:
    """Slack's checks for a ``view`` argument, as ``[ERROR] ...`` messages (views.* methods).

    Modal title/submit/close <= 24 chars, submit required with input blocks, callback_id and
    external_id <= 255, private_metadata <= 3000, plus validate_blocks for the blocks.
    """
    if not isinstance(view, dict):
        return [
            f"[ERROR] failed to match all allowed schemas {json_pointer('/view')}",
            f"[ERROR] must provide an object {json_pointer('/view')}",
        ]
    errors: list[str] = []
    kind = view.get("type")
    allowed = tuple(allowed_types)
    if kind not in allowed:
        errors.append(f"must be one of {', '.join(allowed)} {json_pointer('/view/type')}")
    validator = _BlockValidator()
    if kind == "modal":
        title = view.get("title")
        if title is None:
            validator.err(missing_field("/view", "title"))
        for key in ("title", "submit", "close"):
            obj = view.get(key)
            if obj is None:
                continue
            before = len(validator.errors)
            validator.text(obj, f"/view/{key}", limit=24, plain_only=True)
            # Slack words this one as "less than 24" (jeremeamia/slack-block-kit#3).
            validator.errors[before:] = [
                e.replace("must be less than 25 characters", "must be less than 24 characters")
                for e in validator.errors[before:]
            ]
        blocks = view.get("blocks") or []
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if has_input and view.get("submit") is None:
            validator.err(missing_field("/view", "submit"))
    errors.extend(validator.errors)
    for key, limit in (("callback_id", 255), ("external_id", 255), ("private_metadata", 3000)):
        value = view.get(key)
        if isinstance(value, str) and len(value) > limit:
            errors.append(_too_long(f"/view/{key}", limit))
    if "blocks" not in view:
        errors.append(missing_field("/view", "blocks"))
    else:
        surface: Surface = "home" if kind == "home" else "modal"
        errors.extend(validate_blocks(view["blocks"], surface))
    return [f"[ERROR] {e}" for e in errors]
