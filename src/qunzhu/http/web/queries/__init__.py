"""Read-side queries for the dashboard pages.

Aggregates come from the daily rollups (``member_daily``, ``group_daily``) and from current
state tables (memberships, applications, moderation actions), never from scanning raw
messages; the few lists of messages a page shows (a group's stream, unanswered questions)
read a bounded, indexed window of recent rows.
"""
