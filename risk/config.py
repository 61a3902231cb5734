"""Risk settings: the rollout phase to start in. Profiles and phases use the documented defaults."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from risk.phases import PhaseName


class RiskConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    phase: PhaseName = PhaseName.INTERNAL  # the phase until an admin moves it with /phase (then persisted)
