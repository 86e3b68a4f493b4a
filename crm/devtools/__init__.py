"""Development tooling: the benchmark harness, the data generator and the demo set.

Only management commands and tests import this package; the app never does at runtime.
"""
