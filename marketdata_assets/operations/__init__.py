"""Running the platform: time budgets and run records."""
