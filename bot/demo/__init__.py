"""The demo workspace: twelve realistic weeks of requests, surveys and CRM data, with no Slack."""
