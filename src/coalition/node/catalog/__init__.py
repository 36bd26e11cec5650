"""The component catalog as the web console and other tools read it.

* :mod:`.routes` — ``/api/v1/components`` (every registered component with its parameters'
  JSON Schema, grouped by category for the editor's palette) and ``/api/v1/dags/validate``
  (the job validator as a dry run: every problem with its path, nothing recorded).

This ``__init__`` imports nothing.
"""
