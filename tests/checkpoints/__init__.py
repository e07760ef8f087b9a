"""Randomly initialised checkpoints of the real model architectures, built once and cached.

The cache lives under ``$PARROT_TEST_CACHE`` (default ``~/.cache/parrot-tests``), keyed by
the versions of the libraries that define the architectures, so an upgrade rebuilds it.
"""
