"""`make bench`: speed and memory figures, written to docs/benchmarks.md (not a test)."""
