"""The web console: the built single-page app (``static/``, built from ``ui/`` by
``make console`` and committed, so running a node needs no Node.js) served at ``/``.

* :mod:`.routes` — static files, and ``index.html`` for every other path outside the API
  (the app routes in the browser); ``/api/…`` paths never fall back to it.

This ``__init__`` imports nothing.
"""
