"""The weekly pulse surveys: runs (one per workspace, kind and week), deliveries (each DM claimed
before it is sent, exactly once per person and week), responses (one per person and week,
editable with history), and the anonymity rules every enablement figure passes through
(privacy: one week; gate: several weeks; satisfaction: read from the database through both).
"""
