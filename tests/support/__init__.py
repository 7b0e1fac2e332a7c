"""What tests share: the fake Slack, signed Slack requests, the test workspace, running alignbot."""
