"""Hourly mergeable profiles of the prediction log (issue 20): the rollup and its merge.

* ``sketches.py`` - per-feature accumulators: exact counts + DataSketches KLL / frequent items;
* ``plan.py``     - which features of which kind, and the reference's bins (built once a run);
* ``hourly.py``   - one hour's profiles from its Arrow parts (``batch_source.read_parts``);
* ``run.py``      - ``rollup_hour`` (picklable, for executors) and ``rollup_hours`` (upserts);
* ``window.py``   - ``load_window_summary``: a window's hours merged into the pure core's
  ``NumericSummary`` / ``CategoricalSummary``.

The only package that imports ``datasketches``. Formulas and defaults: docs/scale.md.
"""
