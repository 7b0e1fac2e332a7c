"""The foundations every capability stands on: configuration, the database (engine, sessions,
dialect helpers), the models, errors, exactly-once claims, Slack error codes and user-text
handling, and `Deps`, what the composition root hands to handlers and jobs.
"""
