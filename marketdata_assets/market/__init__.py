"""The market's vocabulary: symbols, NYSE sessions, the tick minute, typed records."""
