"""One privacy gate for every figure made of enablement answers (issue 12, "Anonymity leaks by
subtraction"): a week withheld by the anonymity minimum takes no part in any shown figure —
the quarter's satisfaction on the scorecard and in the export, the digest, the tallies and
comments — and the figures that left weeks out say how many.

The differential test at the end is the property itself: change any answer of a withheld week,
and every published output (the support digest's blocks, the scorecard's text, every part of
an exported workbook) stays byte for byte the same.
"""

from __future__ import annotations

import itertools
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from bot.blocks.digests import build_scorecard, build_support_digest
from bot.core.deps import Deps
from bot.core.models import Function, RunStatus, SurveyKind, SurveyResponse, SurveyRun
from bot.export.columns import ENABLEMENT_LABEL
from bot.export.period import ExportPeriod
from bot.export.workbook import build_workbook
from bot.kpis.digests import scorecard_for, support_digest
from bot.kpis.goals import set_goal
from bot.kpis.scorecard import describe_line
from bot.surveys.responses import HELP_OPTIONS
from bot.workspace.settings import load_settings
from sandbox.fakeslack import FakeSlack
from sandbox.slack_payloads import SlackSender
from tests.support.helpers import block_texts
from tests.support.workspace import ADMIN, MARKETER, TEAM_ID, configure

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # the `clock` fixture's time: Tuesday, W48
THIS_WEEK = date(2026, 11, 23)
Q4 = "2026-Q4"
Q4_PERIOD = ExportPeriod(date(2026, 10, 1), date(2026, 12, 31))
# The eight weeks of the digest's trend, W41 to W48: all in Q4, so in every output at once.
WEEKS = [THIS_WEEK - timedelta(days=7 * back) for back in range(7, -1, -1)]
W45, W46, W47 = date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)
HELP_KEYS = sorted(HELP_OPTIONS)
COMMENTS = ("Great battlecards", "need ROI decks", "slow turnaround", "thanks!")


@dataclass
class Reply:
    """One rep's enablement answer, as stored (at least one field is given)."""

    score: int | None = None
    help_with: str | None = None
    comment: str | None = None


async def seed(deps: Deps, team_id: str, weeks: dict[date, list[Reply]]) -> None:
    """Enablement runs and answers stored directly, as the survey handlers would have."""
    async with deps.sessions() as session:
        for week_start, replies in weeks.items():
            opens = datetime.combine(week_start, datetime.min.time(), tzinfo=UTC)
            run = SurveyRun(
                team_id=team_id,
                kind=SurveyKind.ENABLEMENT,
                period_start=week_start,
                period_end=week_start + timedelta(days=6),
                opens_at=opens,
                closes_at=opens + timedelta(days=7),
                status=RunStatus.CLOSED if week_start < THIS_WEEK else RunStatus.OPEN,
                created_at=opens,
            )
            session.add(run)
            await session.flush()
            assert run.id is not None
            for index, reply in enumerate(replies):
                session.add(
                    SurveyResponse(
                        run_id=run.id,
                        team_id=team_id,
                        kind=SurveyKind.ENABLEMENT,
                        user_id=f"U0REP{index:03d}",
                        score=reply.score,
                        help_with=reply.help_with,
                        comment=reply.comment,
                        created_at=opens + timedelta(hours=10 + index),
                        updated_at=opens + timedelta(hours=10 + index),
                    )
                )
        await session.commit()


async def satisfaction_goal(deps: Deps, team_id: str, target: float = 4.0) -> None:
    async with deps.sessions() as session:
        await set_goal(
            session,
            team_id=team_id,
            quarter=Q4,
            metric="enablement_satisfaction",
            target=target,
            paired_target=None,
            set_by=ADMIN,
            now=NOW,
        )


def scores(*values: int, comment: str | None = None) -> list[Reply]:
    return [Reply(score=value, comment=comment) for value in values]


# Three weeks of Q4: two shown, one of two answers withheld (minimum 5).
#   shown:    W45 5 + 4 + 4 + 3 + 4 = 20 over 5;  W46 3 + 3 + 4 + 4 + 2 + 2 = 18 over 6
#   withheld: W47 1 + 1 = 2 over 2
# Quarter, shown weeks only: 38 / 11 = 3.4545…; over every answer it was 40 / 13 = 3.0769…,
# from which anyone could subtract the shown weeks and get W47 back exactly.
QUARTER_WEEKS = {
    W45: scores(5, 4, 4, 3, 4),
    W46: scores(3, 3, 4, 4, 2, 2),
    W47: scores(1, 1, comment="I know who you are"),
}
SHOWN_MEAN = 38 / 11
NOTE = "1 week withheld (fewer than 5 respondents)"


# --------------------------------------------------------------------------------------
# End to end: the scorecard, the digest and the export
# --------------------------------------------------------------------------------------


async def test_align_scorecard_leaves_a_withheld_week_out_of_the_quarter_and_says_so(
    configured: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    await seed(configured, TEAM_ID, QUARTER_WEEKS)
    await satisfaction_goal(configured, TEAM_ID)

    await slack.command(
        "/align", "scorecard", user_id=MARKETER, response_url=fake_slack.response_url("card")
    )

    [answer] = await fake_slack.wait_for("response_url", lambda c: c.path.endswith("card"))
    assert answer.params["response_type"] == "ephemeral"
    text = answer.params["text"]
    [line] = [row for row in text.splitlines() if "satisfaction with enablement" in row]
    assert line.endswith(f" · {NOTE}")
    async with configured.sessions() as session:
        card = await scorecard_for(
            session,
            team_id=TEAM_ID,
            quarter=Q4,
            function=Function.SUPPORT,
            settings=await load_settings(session, TEAM_ID),
            now=NOW,
        )
    [satisfaction] = [item for item in card.lines if item.metric == "enablement_satisfaction"]
    assert satisfaction.actual == pytest.approx(SHOWN_MEAN, abs=0.005)
    assert satisfaction.remark == NOTE
    assert describe_line(satisfaction, cap=card.cap).endswith(f"; {NOTE}")


async def test_align_digest_support_notes_withheld_weeks_and_withholds_a_thin_week_whole(
    configured: Deps, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    # This week: two reps answered, both only in words. The week is withheld whole: "no data
    # yet" would say that neither of the two gave a score.
    await seed(
        configured,
        TEAM_ID,
        {
            **QUARTER_WEEKS,
            THIS_WEEK: [
                Reply(comment="the deck was late", help_with="roi"),
                Reply(comment="call me"),
            ],
        },
    )

    await slack.command(
        "/align", "digest support", user_id=MARKETER, response_url=fake_slack.response_url("dg")
    )

    [answer] = await fake_slack.wait_for("response_url", lambda c: c.path.endswith("dg"))
    assert answer.params["response_type"] == "ephemeral"
    text = block_texts(answer.params["blocks"])
    assert "withheld: not enough responses" in text
    assert "no data yet: no requests" in text  # requests, not satisfaction
    # W47 and this week are withheld; W45 and W46 shown; W41–W44 had no survey.
    assert "2 weeks withheld (fewer than 5 respondents)" in text
    for secret in ("the deck was late", "call me", "I know who you are", "ROI material"):
        assert secret not in text


async def test_the_export_summary_leaves_a_withheld_week_out_of_the_period_and_says_so(
    configured: Deps, tmp_path: Path
) -> None:
    await seed(configured, TEAM_ID, QUARTER_WEEKS)
    await satisfaction_goal(configured, TEAM_ID)

    async with configured.sessions() as session:
        result = await build_workbook(
            session,
            team_id=TEAM_ID,
            period=Q4_PERIOD,
            settings=await load_settings(session, TEAM_ID),
            out=tmp_path / "q4.xlsx",
            now=NOW,
        )

    book = load_workbook(result.path)
    [key_figure] = [
        row
        for row in book["Summary"].iter_rows(values_only=True)
        if row[0] == "Marketing Support" and row[1] == "Enablement satisfaction"
    ]
    assert key_figure[2] == pytest.approx(SHOWN_MEAN)
    assert key_figure[4] == NOTE
    scorecard_actuals = [
        row[5]
        for row in book["Scorecard"].iter_rows(values_only=True)
        if row[2] == "Sales' satisfaction with enablement"
    ]
    assert scorecard_actuals == [pytest.approx(SHOWN_MEAN, abs=0.005)]
    survey_rows = [
        row for row in book["Survey responses"].iter_rows(values_only=True) if row[1] == "2026-W47"
    ]
    assert [row[3:6] for row in survey_rows] == [(None, None, None)]  # the note row only
    assert survey_rows[0][0] == ENABLEMENT_LABEL


# --------------------------------------------------------------------------------------
# The differential property: a withheld week's answers change nothing that is published
# --------------------------------------------------------------------------------------


@dataclass
class Case:
    minimum: int
    weeks: dict[date, list[Reply]]
    # (week, respondent, field, new value): changes the gate must make invisible.
    changes: list[tuple[date, int, str, Any]]


SCORE = st.integers(min_value=1, max_value=5)
HELP = st.sampled_from(HELP_KEYS)
COMMENT = st.sampled_from(COMMENTS)


@st.composite
def replies(draw: st.DrawFn) -> Reply:
    reply = Reply(
        score=draw(st.one_of(st.none(), SCORE, SCORE, SCORE)),
        help_with=draw(st.one_of(st.none(), HELP)),
        comment=draw(st.one_of(st.none(), COMMENT)),
    )
    if reply == Reply():
        reply.score = draw(SCORE)
    return reply


def _changeable(minimum: int, week: list[Reply]) -> list[tuple[int, str]]:
    """What of a week's answers is withheld, so may change without any output changing:
    everything of a week below the minimum; in a shown week, the scores when fewer than the
    minimum gave one, "what would help" when fewer than the minimum answered it."""
    if len(week) < minimum:
        return [
            (index, name)
            for index in range(len(week))
            for name in ("score", "help_with", "comment")
        ]
    changeable = []
    for name in ("score", "help_with"):
        given = [index for index, reply in enumerate(week) if getattr(reply, name) is not None]
        if 0 < len(given) < minimum:
            changeable += [(index, name) for index in given]
    return changeable


@st.composite
def cases(draw: st.DrawFn) -> Case:
    minimum = draw(st.integers(min_value=3, max_value=5))
    sizes = draw(
        st.lists(
            st.integers(min_value=0, max_value=minimum + 2),
            min_size=len(WEEKS),
            max_size=len(WEEKS),
        )
    )
    # At least one week below the minimum but answered: the week the leak was about.
    sizes[draw(st.integers(min_value=0, max_value=len(WEEKS) - 1))] = draw(
        st.integers(min_value=1, max_value=minimum - 1)
    )
    weeks = {
        week: [draw(replies()) for _ in range(size)]
        for week, size in zip(WEEKS, sizes, strict=True)
        if size
    }
    candidates = [
        (week, index, name)
        for week, week_replies in weeks.items()
        for index, name in _changeable(minimum, week_replies)
    ]
    chosen = draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=4, unique=True))
    values = {"score": SCORE, "help_with": HELP, "comment": COMMENT | st.just("=SECRET()")}
    changes = []
    for week, index, name in chosen:
        current = getattr(weeks[week][index], name)
        # A withheld week's answer may appear or change; a partly withheld week's may only
        # change (whether someone answered that question decides what is shown there).
        options = values[name].filter(lambda value, current=current: value != current)
        changes.append((week, index, name, draw(options)))
    return Case(minimum=minimum, weeks=weeks, changes=changes)


def apply(case: Case) -> dict[date, list[Reply]]:
    changed = {
        week: [Reply(**vars(reply)) for reply in replies] for week, replies in case.weeks.items()
    }
    for week, index, name, value in case.changes:
        setattr(changed[week][index], name, value)
    return changed


_teams = itertools.count(1)


async def published(deps: Deps, team_id: str, out: Path) -> dict[str, bytes]:
    """Everything the workspace publishes that enablement answers feed, as bytes."""
    async with deps.sessions() as session:
        settings = await load_settings(session, team_id)
        digest = await support_digest(
            session, team_id=team_id, week_start=THIS_WEEK, settings=settings, now=NOW
        )
        card = await scorecard_for(
            session,
            team_id=team_id,
            quarter=Q4,
            function=Function.SUPPORT,
            settings=settings,
            now=NOW,
        )
        result = await build_workbook(
            session, team_id=team_id, period=Q4_PERIOD, settings=settings, out=out, now=NOW
        )
    text, blocks = build_support_digest(digest)
    outputs = {
        "support digest": json.dumps([text, blocks], ensure_ascii=False).encode(),
        "scorecard": "\n".join(
            [build_scorecard(card), *(describe_line(line, cap=card.cap) for line in card.lines)]
        ).encode(),
    }
    with zipfile.ZipFile(result.path) as archive:
        for name in archive.namelist():
            # openpyxl stamps the document's own creation time there: no cell, not our data.
            if name != "docProps/core.xml":
                outputs[f"workbook {name}"] = archive.read(name)
    return outputs


@pytest.mark.timeout(180)  # ~1 s an example on SQLite; PostgreSQL and a busy CI are slower
@settings(
    max_examples=15,
    deadline=None,
    # Each example is its own workspace (team id) in the test's database.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases())
async def test_changing_any_answer_of_a_withheld_week_changes_no_published_byte(
    deps: Deps, tmp_path: Path, case: Case
) -> None:
    number = next(_teams)
    original, changed = f"TGATE{number}A", f"TGATE{number}B"
    for team_id, weeks in ((original, case.weeks), (changed, apply(case))):
        await configure(
            deps, team_id, survey_min_respondents=case.minimum, timezone="America/New_York"
        )
        await satisfaction_goal(deps, team_id)
        await seed(deps, team_id, weeks)

    before = await published(deps, original, tmp_path / f"{original}.xlsx")
    after = await published(deps, changed, tmp_path / f"{changed}.xlsx")

    # The team id is printed on the Summary sheet; nothing else may differ.
    after = {
        name: data.replace(changed.encode(), original.encode()) for name, data in after.items()
    }
    assert after.keys() == before.keys()
    for name in before:
        assert after[name] == before[name], name
