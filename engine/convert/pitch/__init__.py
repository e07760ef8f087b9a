"""Pitch extraction for RVC: RMVPE, FCPE, Praat ("pm"), and the contour maths they share."""

from engine.convert.pitch.base import PitchExtractor
from engine.convert.pitch.contour import coarse_pitch, shift_semitones

__all__ = ["PitchExtractor", "coarse_pitch", "shift_semitones"]
