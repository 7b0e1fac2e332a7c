"""Marketing Support requests, from `/mktg` to delivery: request types and their keywords, the
`/mktg` grammar (command, due dates), filing exactly once, the lifecycle state machine, the
queue and the requester's answers, deadlines (one lateness rule), SLAs and their reminders,
and what App Home lists.
"""
