"""A local stand-in for Slack: the fake Slack Web API server (`sandbox.fakeslack`) and the signed
payloads Slack sends to an app (`sandbox.slack_payloads`).

The test suite drives the real bot against it; it is also the base of `alignbot sandbox`, so
there is one fake Slack, not two. It speaks Slack's HTTP, errors, rate limits and Block Kit
limits, modelled on the samples in ``tests/fixtures/slack/samples``."""
