"""Live exchanges through ccxt: the only package that imports ccxt."""

from engine.ccxt_gateway.clients import ClientPool, CredentialsProvider, ExchangeSettings
from engine.ccxt_gateway.credentials import KeyCheck, KeyStatus, check_credentials
from engine.ccxt_gateway.gateway import CcxtGateway
from engine.ccxt_gateway.retry import Backoff

__all__ = [
    "Backoff",
    "CcxtGateway",
    "ClientPool",
    "CredentialsProvider",
    "ExchangeSettings",
    "KeyCheck",
    "KeyStatus",
    "check_credentials",
]
