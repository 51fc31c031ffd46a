"""The judging engine, pure: list index, matchers, scoring and thresholds."""
