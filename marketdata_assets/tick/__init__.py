"""The minute tick's domain: curation, data contracts and the read views."""
