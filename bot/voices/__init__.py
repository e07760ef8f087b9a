"""The voice library, shared by the ``/voice`` cog, the CLI, presets, covers and privacy.

- :mod:`.enrolment`: audio in, a ready voice out;
- :mod:`.archive`: a voice as a zip, exported and imported (its format in
  :mod:`.archive_format`, its training part in :mod:`.archive_training`);
- :mod:`.files`: voices' folders on disk, their removal and the start-up sweep;
- :mod:`.names`: names people can type.

No Discord here; the ``/voice`` commands live in :mod:`bot.exts.voices`.
"""
