"""One workspace's own set-up: its settings, whether it is installed, who is in which group (the
roster mirrored from Slack), who may do what (access: every permission rule handlers ask), and
how long its free text is kept (retention).
"""
