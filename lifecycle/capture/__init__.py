"""Capture: the public face (``monitor.py``: :func:`lifecycle.monitor`, ``flush``, ``stats``,
``log_outcomes``) and its internals.

``records`` normalises inputs/outputs to columns, ``writer`` batches them into the database
in a background thread, ``spill`` keeps what the database refuses, ``runtime`` owns the
process-global writers. Importing this package starts nothing and connects to nothing.
"""
