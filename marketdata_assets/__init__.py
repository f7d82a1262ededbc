"""Market-data platform."""

# The vendors register their settings sections and capabilities on import (settings.py names
# none and imports no provider): importing the package makes them known to every entry point.
from marketdata_assets.providers import registry as _registry  # noqa: F401
