"""The demo workspace: twelve realistic weeks of requests, surveys and CRM data, with no Slack.

workspace  `generate_demo`: runs the steps below week by week
people     the roster, rep time zones, channels and settings
requests   requests, their rows and ratings; histories walks each through the lifecycle
surveys    weekly runs, DMs and answers
crm        opportunities and lead counts
goals      the quarter's quota, goals and "you said, we did" actions
state      what the steps share; writer: chunked bulk inserts
"""
