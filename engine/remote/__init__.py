"""The engine API served by Ray Serve replicas (``PARROT_ENGINE=ray``, the ``ray`` extra).

Import :mod:`engine.remote.client` for :class:`RayEngine`; this package's ``__init__``
imports nothing, so that naming it costs nothing where Ray is not installed.
"""
