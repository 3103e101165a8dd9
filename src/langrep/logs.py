"""Logging for rule scripts: everything (warnings, tracebacks, progress bars) goes to the rule's log."""

from __future__ import annotations

import logging
import sys


def log_to_file(path) -> logging.Logger:
    """Send stderr and the ``langrep`` logger to ``path`` (a rule's ``log:`` file)."""
    handle = open(path, "w", buffering=1)
    sys.stderr = handle
    logging.basicConfig(
        stream=handle, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    return logging.getLogger("langrep")
