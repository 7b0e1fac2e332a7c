"""Block Kit -> HTML: how the sandbox shows messages, modals and App Home without Slack.

Pure (standard library only). Everything taken from the blocks is HTML-escaped; links are only
made for http, https and mailto URLs; nothing here raises on a block it does not know (it shows
an "unsupported block TYPE" box instead). Every interactive element carries ``data-action-id``,
``data-block-id`` and ``data-value`` so a later script can send the click as Slack would
(multi-selects: a JSON array). CSS classes are prefixed ``bk-``; there is no script here.
"""

from sandbox.render.blocks import render_blocks, render_view
from sandbox.render.mrkdwn import render_mrkdwn
from sandbox.render.style import STYLESHEET

__all__ = ["STYLESHEET", "render_blocks", "render_mrkdwn", "render_view"]
