"""Serving: :class:`lifecycle.ManagedModel` serves ``models:/NAME@champion`` and scores the
``challenger`` in shadow, off the caller's path (``docs/serving.md``).

``managed.py`` is the public face; ``slot.py`` one loaded version (an immutable pair swapped
by a single assignment); ``inputs.py`` what the models are given; ``shadow.py`` the bounded
queue and the micro-batching thread; ``watch.py`` alias polling and atomic reloads;
``load_alert.py`` the ``model_load_failed`` alert; ``stats.py`` the counters.
Importing this package starts nothing and connects to nothing.
"""
