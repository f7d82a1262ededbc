"""boto3 clients as the platform uses them, and AWS errors as one readable line."""

from __future__ import annotations

import threading
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from marketdata_assets.settings import aws_variables

# Standard retry mode: exponential backoff with jitter on throttling and 5xx, bounded attempts.
RETRIES = Config(retries={"mode": "standard", "max_attempts": 6}, max_pool_connections=16)


def region() -> str | None:
    """AWS_REGION (what Lambda sets), else boto3's own lookup (AWS_DEFAULT_REGION, config)."""
    return aws_variables().get("AWS_REGION") or None


# One client per service per process (a cold process's first costs 0.1-1 s, and a Lambda's warm
# ticks keep their connections), rebuilt when the AWS_* environment changes (tests point boto3
# at another endpoint). Clients are thread-safe; building them on boto3's shared session is not.
_clients: dict[str, Any] = {}
_environment: frozenset[tuple[str, str]] = frozenset()
_building = threading.Lock()


def client(service: str) -> Any:
    """The process's client of `service`, configured the way boto3 reads the environment
    (AWS_REGION, AWS_ENDPOINT_URL, the credential chain), with standard retries."""
    global _environment
    environment = frozenset(aws_variables().items())
    with _building:
        if environment != _environment:
            _clients.clear()
            _environment = environment
        if service not in _clients:
            import boto3

            _clients[service] = boto3.client(  # type: ignore[call-overload]
                service, region_name=region(), config=RETRIES
            )
        return _clients[service]


def describe(error: Exception) -> str:
    """`Code: Message` of an AWS error, or the error's own text."""
    if isinstance(error, ClientError):
        detail = error.response.get("Error", {})
        code, message = detail.get("Code", "error"), detail.get("Message", "")
        return f"{code}: {message}" if message else str(code)
    return str(error)
