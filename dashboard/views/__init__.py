"""Dashboard pages: one module per area, each exposing ``render()``.

The folder is deliberately not called ``pages/``: Streamlit treats a ``pages/`` folder next
to the entry script as legacy file-based pages, and a direct link such as ``/overview`` then
ran ``pages/overview.py`` as a script (a blank page) instead of going through
``st.navigation``.

``dashboard/app.py`` wires them with ``st.navigation``; a new area (retraining, shadow and
promotion) adds a module here and one ``st.Page`` line in ``app.pages()``.
"""
