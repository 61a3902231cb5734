"""Risk settings (RISK_*): the rollout phase to start in, the profiles file, and the system-wide rules.

Profiles and phases use the documented defaults (docs/RISK.md) unless RISK_PROFILES_FILE changes them.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from risk.breakers import GlobalBreakerRules
from risk.overrides import RiskTables, load_risk_file
from risk.phases import PhaseName


class RiskConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    phase: PhaseName = PhaseName.INTERNAL  # the phase until an admin moves it (then persisted)
    profiles_file: Path | None = None  # TOML changing profiles and phases; see docs/RISK.md
    price_tolerance: Decimal = Field(Decimal("0.05"), gt=0, le=1)  # signal price this far from the market: stale
    trailing_min_step: Decimal = Field(Decimal("0.002"), ge=0, lt=1)  # a resting stop moves by at least this
    breaker_min_users: int = Field(3, ge=1)  # users tripping breakers within the window that stop the system…
    breaker_user_share: Decimal = Field(Decimal("0.02"), ge=0, le=1)  # …or this share of the traders, if more
    breaker_window_minutes: int = Field(30, ge=1)
    order_failure_rate: Decimal = Field(Decimal("0.25"), gt=0, le=1)  # failed share of orders that stops…
    order_failure_min_orders: int = Field(20, ge=1)  # …once at least this many orders ended in the window
    order_failure_window_minutes: int = Field(15, ge=1)

    def tables(self) -> RiskTables:
        """The profiles and phases in force: the defaults, changed by the profiles file."""
        return load_risk_file(self.profiles_file)

    def global_rules(self) -> GlobalBreakerRules:
        return GlobalBreakerRules(
            min_users=self.breaker_min_users,
            user_share=self.breaker_user_share,
            window_seconds=self.breaker_window_minutes * 60,
            failure_rate=self.order_failure_rate,
            failure_min_orders=self.order_failure_min_orders,
            failure_window_seconds=self.order_failure_window_minutes * 60,
        )
