"""Outbound HTTP: the request-forgery guard (`guard`) and the shared client (`client`)."""

from gateway.outbound.client import (
    Call,
    Outbound,
    Reply,
    RequestFailed,
    Share,
    current,
    start,
    stop,
)
from gateway.outbound.guard import AllowList, TargetRefused

__all__ = [
    "AllowList",
    "Call",
    "Outbound",
    "Reply",
    "RequestFailed",
    "Share",
    "TargetRefused",
    "current",
    "start",
    "stop",
]
