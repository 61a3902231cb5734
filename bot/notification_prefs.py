"""Which notifications a user may turn off in `/settings`, and the check the notifier makes before sending.

Breaker trips, failed orders and operators' messages are always sent: they say the account needs attention.
"""

from __future__ import annotations

from typing import Final

from engine.domain.accounts import User

MUTABLE: Final[dict[str, str]] = {
    "trade": "Trades I open for you",
    "exit": "Sales: stop-loss, take-profit, strategy exits, your closes",
    "refusal": "Signals I skipped, with the reason",
    "report": "The daily report",
}
ALWAYS_SENT: Final = "Always sent: circuit breakers, orders that failed, and messages from the operators."


def wants(user: User, kind: str) -> bool:
    """Whether the user receives notifications of `kind` (kinds not in MUTABLE always go out)."""
    return kind not in MUTABLE or kind not in user.notifications_muted
