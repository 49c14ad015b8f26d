"""Stubs for micrograd 0.1.0, which the benchmark compares against (see ``engine.pyi``)."""
