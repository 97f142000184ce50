"""Benchmarks: `python -m bench.<name>` prints measured figures against their targets."""
