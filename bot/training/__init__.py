"""Training a voice's own singing model, without Discord: its data on disk
(:mod:`.data`), recordings uploaded for training (:mod:`.recordings`), and the jobs that run
it on the engine (:mod:`.runner`). ``/voice train`` (:mod:`bot.exts.voices.training`), the
job's Discord message (:mod:`bot.exts.training`) and ``parrot voices train``
(:mod:`bot.cli.training`) are its faces.
"""
