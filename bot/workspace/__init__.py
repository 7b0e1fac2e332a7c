"""One workspace's own set-up: its settings, who is in which group (the roster mirrored from
Slack), and how long its free text is kept (retention).
"""
