"""The API's routers, one module per resource, each with a module-level `router`."""

from marketdata_assets.web.routes import (
    actions,
    calendar,
    forecast,
    health,
    history,
    latest,
    market,
    quarantine,
    quote,
    symbols,
    ticks,
)

# In the order /openapi.json lists their paths.
ROUTERS = (
    health.router,
    market.router,
    latest.router,
    quote.router,
    symbols.router,
    ticks.router,
    history.router,
    actions.router,
    forecast.router,
    quarantine.router,
    calendar.router,
)
