"""Savepoints that the optimistic pass of a batch of writes can turn off.

realtime/batching.py runs a batch of writes in one transaction, first without a
savepoint per write (on PostgreSQL each SAVEPOINT and RELEASE is a network round
trip). While `savepoints_suspended` is set, a nested atomic block opens none; one that
exits by an exception then marks the whole transaction for rollback (Django's rule
for atomic(savepoint=False)), which the pass checks after every write.
"""

from __future__ import annotations


class SuspendableSavepoints:
    savepoints_suspended = False

    def _savepoint_allowed(self):
        return not self.savepoints_suspended and super()._savepoint_allowed()
