"""The LLM agent strategy (Anthropic): market summary in, validated decision out, every call accounted for."""

from engine.llm.agent import AgentParts, CandleSource, LlmAgent
from engine.llm.client import LlmClient, LlmRefused, LlmUnavailable, TokenUsage, anthropic_client
from engine.llm.spending import Spending

__all__ = [
    "AgentParts",
    "CandleSource",
    "LlmAgent",
    "LlmClient",
    "LlmRefused",
    "LlmUnavailable",
    "Spending",
    "TokenUsage",
    "anthropic_client",
]
