"""The Alpha Vantage key: where it is read from, and the transport that adds it to requests.

The key comes from ALPHAVANTAGE_API_KEY, else from the SSM SecureString that
ALPHAVANTAGE_API_KEY_PARAM names (an AWS deployment's). It travels only in the query string the
transport adds on the way out, so it is in no logged URL; errors never quote it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import httpx

from marketdata_assets.errors import ConfigError
from marketdata_assets.settings import secret

KEY_VARIABLE = "ALPHAVANTAGE_API_KEY"
KEY_PARAM_VARIABLE = "ALPHAVANTAGE_API_KEY_PARAM"
# Real keys are 16 characters; a very short one would be redacted out of prices in the bodies.
_KEY_SHAPE = re.compile(r"[A-Za-z0-9]{8,64}")


def api_key(key_param: str | None, env: Mapping[str, str] | None = None) -> str:
    """The key from ALPHAVANTAGE_API_KEY, else from the SSM SecureString `key_param` names.

    Errors name where the key was looked for, never the key.
    """
    key = secret(KEY_VARIABLE, env)
    source = KEY_VARIABLE
    if not key and key_param:
        key, source = _ssm_key(key_param), f"{KEY_PARAM_VARIABLE} {key_param!r}"
    if not key:
        raise ConfigError(
            f"{KEY_VARIABLE}: the alphavantage provider needs an API key; set it, or "
            f"{KEY_PARAM_VARIABLE} to an SSM SecureString name under MARKETDATA_PROFILE=aws"
        )
    if not _KEY_SHAPE.fullmatch(key):
        raise ConfigError(f"{source}: an Alpha Vantage key is 8-64 letters and digits")
    return key


def _ssm_key(name: str) -> str:
    from marketdata_assets.lake.aws import describe
    from marketdata_assets.stores import aws_client

    try:
        with _quiet(_BOTOCORE_BODY_LOGGERS):  # at DEBUG they would log the decrypted answer
            answer = aws_client("ssm").get_parameter(Name=name, WithDecryption=True)
    except Exception as error:
        raise ConfigError(
            f"{KEY_PARAM_VARIABLE} {name!r}: SSM GetParameter failed: {describe(error)}"
        ) from None
    return str(answer["Parameter"]["Value"]).strip()


# The botocore loggers that write response (parsers) or request (endpoint) bodies at DEBUG.
_BOTOCORE_BODY_LOGGERS = ("botocore.parsers", "botocore.endpoint")


@contextmanager
def _quiet(names: Sequence[str]) -> Iterator[None]:
    """Raise these loggers to INFO for the duration (their DEBUG records are dropped)."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(max(logger.level, logging.INFO))
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


class KeyTransport(httpx.BaseTransport):
    """Adds the key to each request's query on the way out. httpx logs and reports the URL it
    was given, which never holds the key."""

    def __init__(self, key: str, inner: httpx.BaseTransport):
        self._key, self._inner = key, inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        keyed = httpx.Request(
            request.method,
            request.url.copy_add_param("apikey", self._key),
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return self._inner.handle_request(keyed)

    def close(self) -> None:
        self._inner.close()
