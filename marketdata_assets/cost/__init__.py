"""What the platform costs on AWS: measured ticks priced from a dated list-price table."""
