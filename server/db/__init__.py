"""Database backends: Django's own, with what the write path of /ws/ needs on top.

`server.db.sqlite3` (the embedded shape) takes WAL checkpoints off the commit path;
`server.db.postgresql` (the scaled shape) skips the health-check round trip on a
connection that was just used, sends a transaction's BEGIN with its first
statement, and prepares the statements marked hot (`prepared.py`) once per connection.
Selected in server/settings.py; nothing else differs.
"""
