"""alignbot: the sales–marketing alignment playbook, in Slack."""

__version__ = "0.1.0"
