"""AWS errors as one readable line (`stores.aws_client` builds the boto3 clients)."""

from __future__ import annotations

from botocore.exceptions import ClientError


def describe(error: Exception) -> str:
    """`Code: Message` of an AWS error, or the error's own text."""
    if isinstance(error, ClientError):
        detail = error.response.get("Error", {})
        code, message = detail.get("Code", "error"), detail.get("Message", "")
        return f"{code}: {message}" if message else str(code)
    return str(error)
