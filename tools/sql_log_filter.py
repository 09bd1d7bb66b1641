# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Quiet logs under load: a concurrency conflict Odoo retries is not an error.

``odoo.sql_db`` logs ``bad query: ... ERROR: ...`` at ERROR for every
failed statement, including the serialization failures and lock timeouts
that PostgreSQL raises when parallel deliveries of one sender meet on the
loop guard row. Odoo retries those by design (``odoo.service.model.retrying``
for RPC, HTTP and mail gateway calls; it logs each retry at INFO), so under
load the server log fills with ERROR lines that admins alert on although
nothing failed.

The filter below downgrades exactly those records: serialization failures
and ``lock_not_available`` to DEBUG, deadlocks (also retried, but a sign of
lock-order trouble worth seeing) to WARNING. Every other failed query stays
at ERROR. The exception itself is still raised: a caller that does not
retry still fails and logs it.
"""

import logging

from psycopg2 import errorcodes, errors

RETRIED_QUIET = (errorcodes.SERIALIZATION_FAILURE, errorcodes.LOCK_NOT_AVAILABLE)
RETRIED_WARN = (errorcodes.DEADLOCK_DETECTED,)
QUIET_CLASSES = (errors.SerializationFailure, errors.LockNotAvailable)
WARN_CLASSES = (errors.DeadlockDetected,)
LOGGER_NAME = "odoo.sql_db"


def _level_for(exc):
    code = getattr(exc, "pgcode", None)
    if isinstance(exc, QUIET_CLASSES) or code in RETRIED_QUIET:
        return logging.DEBUG
    if isinstance(exc, WARN_CLASSES) or code in RETRIED_WARN:
        return logging.WARNING
    return None


class RetriedConflictFilter(logging.Filter):
    """Downgrade ``bad query`` records of conflicts Odoo retries."""

    def filter(self, record):
        if record.levelno < logging.ERROR or not str(record.msg).startswith(
            "bad query"
        ):
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        level = _level_for(args[-1]) if args else None
        if level is None:
            return True
        if not logging.getLogger(record.name).isEnabledFor(level):
            return False
        record.levelno, record.levelname = level, logging.getLevelName(level)
        return True


def install():
    """Install the filter on ``odoo.sql_db`` once per process."""
    logger = logging.getLogger(LOGGER_NAME)
    if not any(
        isinstance(existing, RetriedConflictFilter) for existing in logger.filters
    ):
        logger.addFilter(RetriedConflictFilter())
