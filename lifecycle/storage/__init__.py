"""Storage edge: SQLAlchemy 2 tables, the one engine factory, migrations, queries.

Importing this package connects to nothing.
"""
