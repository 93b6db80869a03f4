"""The `meeting:<id>` stream type and the meetings ops (filled in step by step)."""
