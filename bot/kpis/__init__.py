"""What the numbers mean: KPI definitions (metrics), objection themes, goals, scorecards, the
weekly digests and "you said, we did".
"""
