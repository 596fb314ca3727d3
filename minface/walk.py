"""The plan of the local disk: moved to :mod:`minface.engine.plan` (these names stay importable from here)."""

from .engine.plan import (  # noqa: F401
    JOURNAL_NAME,
    VIDEO_MISSING,
    VIDEO_SUFFIX,
    Filter,
    Plan,
    Task,
    error_entry,
    is_ours,
    mirror,
    plan,
    route_other,
    skip_record,
)
from .engine.plan import _ours, _walk  # noqa: F401

__all__ = [
    "Task", "Plan", "Filter", "plan", "JOURNAL_NAME", "skip_record", "error_entry", "route_other", "VIDEO_SUFFIX",
    "VIDEO_MISSING", "is_ours", "mirror", "_ours", "_walk",
]
