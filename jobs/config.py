"""Scheduled jobs' timing."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class JobsConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    monitor_seconds: float = Field(5.0, gt=0)  # position monitor
    reconcile_seconds: float = Field(180.0, gt=0)  # reconciliation with the exchanges
    equity_seconds: float = Field(300.0, gt=0)  # equity marks for charts and breakers
    report_hour_utc: int = Field(20, ge=0, le=23)  # daily reports to users, then to the admin chat
    admin_report_minute: int = Field(15, ge=0, le=59)  # the admin report follows the users' reports
    weekly_review_day: Weekday = "mon"  # the weekly strategy and agent review, at the report hour
    alert_rules_seconds: float = Field(60.0, gt=0)  # how often the alert rules look at the system
    alert_group_minutes: int = Field(30, ge=1)  # repeats of an alert within this time are grouped into one message
