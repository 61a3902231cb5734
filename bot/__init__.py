"""The application: composition root, CLI, Telegram handlers, HTTP server, and the offline stand-in."""

import os

# python-telegram-bot 22 reports durations (e.g. RetryAfter.retry_after) as timedeltas only when asked;
# without this it emits a deprecation warning on every flood-control error.
os.environ.setdefault("PTB_TIMEDELTA", "true")
