"""boto3 clients as the platform uses them, and AWS errors as one readable line."""

from __future__ import annotations

import os
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

# Standard retry mode: exponential backoff with jitter on throttling and 5xx, bounded attempts.
RETRIES = Config(retries={"mode": "standard", "max_attempts": 6}, max_pool_connections=16)


def region() -> str | None:
    """AWS_REGION (what Lambda sets), else boto3's own lookup (AWS_DEFAULT_REGION, config)."""
    return os.environ.get("AWS_REGION") or None


def client(service: str) -> Any:
    """A client configured the way boto3 reads the environment (AWS_REGION, AWS_ENDPOINT_URL,
    the credential chain), with standard retries."""
    import boto3

    return boto3.client(service, region_name=region(), config=RETRIES)  # type: ignore[call-overload]


def describe(error: Exception) -> str:
    """`Code: Message` of an AWS error, or the error's own text."""
    if isinstance(error, ClientError):
        detail = error.response.get("Error", {})
        code, message = detail.get("Code", "error"), detail.get("Message", "")
        return f"{code}: {message}" if message else str(code)
    return str(error)
