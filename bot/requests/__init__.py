"""Marketing Support requests, from `/mktg` to delivery: request types, filing exactly once, the
lifecycle state machine, the queue, deadlines and SLA reminders, and what App Home lists.
"""
