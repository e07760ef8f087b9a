"""Speech on the executor: text pieces in, audio chunks out, serial or batched."""

from engine.speech.chunks import SpeechChunk, join_speech, pieces_to_speak, speech_pieces
from engine.speech.serial import SpeechWorker

__all__ = ["SpeechChunk", "SpeechWorker", "join_speech", "pieces_to_speak", "speech_pieces"]
