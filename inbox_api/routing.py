"""Routing hooks installed on the inbox at start-up.

Placeholder until the router lands (issue 3): a new cycle waits in the default team's queue.
"""

from __future__ import annotations

from inbox_api.domain import Inbox


def install(inbox: Inbox) -> None:
    """Register the routing hooks; the default is the team queue alone."""
    return None
