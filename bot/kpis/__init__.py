"""What the numbers mean: the KPI definitions (support, satisfaction, pipeline, coverage,
durations), the metric catalogue, objection themes, goals, scorecards, the weekly digests and
"you said, we did".

Conventions: every figure takes a `bot.calendar.windows.Window` (half-open instants, laid out
in the workspace's zone); counting and summing happen in SQL; an empty period gives 0 or `None`
("no data yet"), never a division by zero; enablement answers reach a figure only through the
privacy gate (`bot.surveys.gate`).
"""
