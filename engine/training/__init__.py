"""Training an RVC v2 singing model (40 kHz, pitch-guided) from a voice's recordings.

``training_set`` is the hand-off between preprocessing (slicing, features, pitch) and the
training run (synthesizer, discriminator, losses, checkpoints, export).
"""
