"""Benchmarks of the portal against baselines measured in the same run: ``make bench``.

Nothing here is imported by the product; see bench/README.md.
"""
