"""Short-horizon price forecasts, evaluated walk-forward and served only where they beat naive."""
