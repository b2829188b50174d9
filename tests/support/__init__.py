"""Plain helpers shared by the tests, the demos (``scripts/``) and the benchmarks: local servers and
synthetic lake data. No pytest here: ``tests/fixtures/`` wraps these in fixtures."""
