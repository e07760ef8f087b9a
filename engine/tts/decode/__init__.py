"""Parrot's own batched speech-token decoding (issue 12): many requests, one step.

The package itself imports nothing, so that the request types in
:mod:`engine.tts.decode.params` load without torch; the decoders live in
:mod:`engine.tts.decode.guided` and :mod:`engine.tts.decode.turbo`, and
:func:`engine.tts.decode.factory.decoder_for` picks one for a loaded T3.
"""
