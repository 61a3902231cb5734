"""Scheduled jobs' timing."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class JobsConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    monitor_seconds: float = Field(5.0, gt=0)  # position monitor
    reconcile_seconds: float = Field(180.0, gt=0)  # reconciliation with the exchanges
    equity_seconds: float = Field(300.0, gt=0)  # equity marks for charts and breakers
    report_hour_utc: int = Field(20, ge=0, le=23)  # daily reports to users and the admin
