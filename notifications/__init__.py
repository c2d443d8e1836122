"""Notifications: events raised by the campaign, delivered through channels (email, in-app,
webhook) behind one registry."""
