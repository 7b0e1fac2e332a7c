"""Who may do what in a workspace: every "who may" rule outside a request's own lifecycle.

Each rule is a plain function of the actor (their roster groups and admin standing) and the
workspace's settings. It returns None when the actor may, or the UserError to show them when
they may not, always worded the same way: "Only <who> can <do what>." followed by what to do
about it. Handlers ask; they never decide.

Who may claim, deliver, decline, reassign, cancel or reopen a request is part of the request
state machine and lives with it (`bot.requests.lifecycle.check_permission`).
"""

from __future__ import annotations

from bot.core.errors import UserError
from bot.requests.lifecycle import Actor
from bot.workspace.settings import WorkspaceSettings

ADMINS = "admins"
LEADERS = "leaders"
SUPPORT = "Marketing Support"
DEMAND_GEN = "Demand Gen"
SUPPORT_LEADS = "Marketing Support leads"
ROSTER = "the Sales, Marketing Support and Demand Gen groups"

SETTINGS_HINT = "Leaders and extra admins are set in `/align settings`."


def mentions(user_ids: tuple[str, ...]) -> str:
    return ", ".join(f"<@{user_id}>" for user_id in user_ids)


def refusal(who: tuple[str, ...], doing: str, hint: str = "") -> UserError:
    """The one wording of a refused permission: "Only A, B and C can do X." and a next step."""
    audience = who[0] if len(who) == 1 else f"{', '.join(who[:-1])} and {who[-1]}"
    return UserError(f"Only {audience} can {doing}." + (f" {hint}" if hint else ""))


def require(refused: UserError | None) -> None:
    """Raise the refusal a rule returned, if it returned one."""
    if refused is not None:
        raise refused


def _is_leader(actor: Actor, settings: WorkspaceSettings) -> bool:
    return actor.user_id in settings.leaders


def _leaders_hint(settings: WorkspaceSettings) -> str:
    if settings.leaders:
        return f"The leaders are {mentions(settings.leaders)}. {SETTINGS_HINT}"
    return SETTINGS_HINT


def may_change_settings(actor: Actor, settings: WorkspaceSettings) -> UserError | None:
    """Admins: the workspace's admins and owners, and the extra admins named in settings."""
    if actor.is_admin:
        return None
    extra = mentions(settings.admins)
    return refusal(
        (ADMINS,),
        "change alignbot's settings",
        "Admins are the workspace's admins and owners"
        + (f", and {extra}" if extra else "")
        + ". Ask one of them to run `/align settings`.",
    )


def may_read_digests(actor: Actor, settings: WorkspaceSettings) -> UserError | None:
    """Anyone on the roster (Sales, Marketing Support, Demand Gen), leaders and admins."""
    if actor.is_admin or _is_leader(actor, settings) or actor.roles:
        return None
    return refusal((ROSTER, LEADERS, ADMINS), "see the digests", _leaders_hint(settings))


def may_read_scorecards(actor: Actor, settings: WorkspaceSettings) -> UserError | None:
    """Marketing (Support and Demand Gen), leaders and admins: not Sales."""
    if actor.is_admin or _is_leader(actor, settings) or actor.in_support or actor.in_demand_gen:
        return None
    return refusal(
        (SUPPORT, DEMAND_GEN, LEADERS, ADMINS), "see the scorecards", _leaders_hint(settings)
    )


def may_set_goals(actor: Actor, settings: WorkspaceSettings) -> UserError | None:
    if actor.is_admin or _is_leader(actor, settings):
        return None
    return refusal((LEADERS, ADMINS), "set goals", _leaders_hint(settings))


def may_export(actor: Actor, settings: WorkspaceSettings) -> UserError | None:
    if actor.is_admin or _is_leader(actor, settings):
        return None
    return refusal((LEADERS, ADMINS), "export the workbook", _leaders_hint(settings))


def may_see_survey_status(actor: Actor, settings: WorkspaceSettings) -> UserError | None:
    if actor.is_admin or _is_leader(actor, settings) or actor.in_support:
        return None
    return refusal((SUPPORT, LEADERS, ADMINS), "see survey status", _leaders_hint(settings))


def may_resend_surveys(actor: Actor, settings: WorkspaceSettings) -> UserError | None:
    if actor.is_admin:
        return None
    return refusal((ADMINS,), "re-send surveys")


def may_see_queue(actor: Actor, settings: WorkspaceSettings) -> UserError | None:
    if actor.is_admin or _is_leader(actor, settings) or actor.in_support:
        return None
    return refusal(
        (SUPPORT, LEADERS, ADMINS), "see the queue", "Your own requests are in `/mktg mine`."
    )


def may_record_feedback_action(actor: Actor, settings: WorkspaceSettings) -> UserError | None:
    """`/align wedid`: Marketing Support records what changed because of feedback."""
    if actor.is_admin or actor.in_support or actor.user_id in settings.support_leads:
        return None
    return refusal(
        (SUPPORT, SUPPORT_LEADS, ADMINS),
        "record what changed because of feedback (`/align wedid`)",
    )


def may_import_crm(actor: Actor, settings: WorkspaceSettings) -> UserError | None:
    if actor.is_admin:
        return None
    return refusal((ADMINS,), "import CRM data", "Ask one of them to DM me the export.")
