"""Delivering messages: e-mail over SMTP and Slack-compatible incoming webhooks (the adapters)."""

from dynbooks.notify.senders import Message, Sender, SlackSender, SmtpSender, senders_for

__all__ = ["Message", "Sender", "SlackSender", "SmtpSender", "senders_for"]
