"""The decision the model must return, through a forced tool call, and its validation: an answer that does
not fit is refused with the reason, never acted on."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

TOOL_NAME = "record_decision"

DECISION_TOOL: dict[str, Any] = {
    "name": TOOL_NAME,
    "description": "Record your trading decision for this market. Always call this tool exactly once.",
    "input_schema": {
        "type": "object",
        "properties": {
            "action": {
                "type": "string",
                "enum": ["buy", "sell", "hold"],
                "description": "buy: open a long position; sell: close the long position held; hold: do nothing",
            },
            "confidence": {"type": "number", "minimum": 0, "maximum": 1, "description": "0 = a guess, 1 = certain"},
            "stop": {"type": ["number", "null"], "description": "for buy: the stop-loss price, below the price"},
            "take_profit": {"type": ["number", "null"], "description": "for buy: the take-profit price, above it"},
            "rationale": {
                "type": "string",
                "description": "one or two plain sentences a retail investor understands, citing the numbers used",
            },
        },
        "required": ["action", "confidence", "rationale"],
    },
}

SYSTEM_PROMPT = (
    "You are the cautious market analyst of a long-only crypto spot trading bot that manages small accounts for "
    "retail investors. You receive a summary of one market (indicators computed from recent candles) and whether "
    "the bot holds a position there. Decide: buy (open a long), sell (close the long it holds) or hold. Prefer "
    "hold when the picture is unclear. For buy, give a stop-loss below the price and a take-profit above it. "
    f"Answer only by calling the {TOOL_NAME} tool."
)

MAX_STOP_DISTANCE = Decimal("0.25")  # a stop more than 25% below the price is not a stop
MAX_TARGET_DISTANCE = Decimal(1)


class InvalidAnswer(ValueError):
    """The model's answer cannot be acted on; the message says why."""


class LlmDecision(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    action: Literal["buy", "sell", "hold"]
    confidence: float = Field(ge=0, le=1)
    stop: Decimal | None = Field(None, gt=0, allow_inf_nan=False)
    take_profit: Decimal | None = Field(None, gt=0, allow_inf_nan=False)
    rationale: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=600)]

    @field_validator("confidence", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("must be a number between 0 and 1")
        return value


def read_decision(tool_input: object, price: Decimal) -> LlmDecision:
    """Validate the tool call's input against the schema and the price; raises InvalidAnswer."""
    if not isinstance(tool_input, dict):
        raise InvalidAnswer(f"the answer has no {TOOL_NAME} tool call")
    try:
        decision = LlmDecision.model_validate(tool_input)
    except ValidationError as error:
        reasons = [f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in error.errors(include_url=False)]
        raise InvalidAnswer("; ".join(reasons)) from None
    if "\x00" in decision.rationale:
        raise InvalidAnswer("rationale: contains NUL characters")
    if decision.action == "buy":
        _check_exits(decision, price)
    return decision


def _check_exits(decision: LlmDecision, price: Decimal) -> None:
    if decision.stop is None or decision.take_profit is None:
        raise InvalidAnswer("a buy needs both stop and take_profit")
    if not price * (1 - MAX_STOP_DISTANCE) <= decision.stop < price:
        raise InvalidAnswer(f"stop {decision.stop} must be below the price {price} and within 25% of it")
    if not price < decision.take_profit <= price * (1 + MAX_TARGET_DISTANCE):
        raise InvalidAnswer(f"take_profit {decision.take_profit} must be above the price {price} and within 100%")
