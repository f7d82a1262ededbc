"""Running the platform: time budgets, request budgets and run records."""
