"""Errors a user can act on: each message names the input and the rule it breaks."""


class ConfigError(ValueError):
    """A setting or argument breaks a rule."""
