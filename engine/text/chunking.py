"""Split text into pieces that Chatterbox speaks one call at a time.

Chatterbox generates at most about 40 seconds per call (1000 speech tokens at 25 tokens
per second) and its maintainers advise about 300 characters per call, so long text is
spoken chunk by chunk. The bot streams one chunk per sentence: the first sentence plays
while the rest is still being generated, which is why the first chunk may be capped lower.

Guarantees of :func:`split_for_speech`:

* every chunk is non-empty, stripped, and its inner whitespace is single spaces;
* no chunk is longer than ``max_chars``;
* chunks only break at whitespace, so ``" ".join(chunks)`` equals the input with its
  whitespace collapsed, except where a single word longer than ``max_chars`` had to be
  cut (then ``"".join(chunks)`` equals the input without whitespace).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator

DEFAULT_MAX_CHARS = 300
"""Characters per Chatterbox call that its maintainers advise not to exceed."""

CHARS_PER_SECOND = 15.0
"""Rough speaking rate used by :func:`estimate_speech_seconds` (about 150 words a minute)."""

# Characters that may close a sentence after its terminal punctuation ("Stop!" or (ok.))
# and that may open the next one.
_CLOSERS = "\"'”’»)]}*_~"
_OPENERS = "\"'“‘«([{¿¡*_~"
_TERMINALS = ".!?…‽"
_ELLIPSES = ("..", "…")

# Lower-cased, without the final period. "no" is handled on its own ("No. 5" vs "No. I won't").
_ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "mx", "dr", "st", "mt", "prof", "jr", "sr", "vs", "etc", "approx",
        "dept", "fig", "gen", "gov", "lt", "col", "capt", "sgt", "rev", "hon", "cf", "al",
        "ph.d",
    }
)  # fmt: skip
# Dotted abbreviations and runs of initials: e.g, i.e, U.S, a.m, J.R.R (final period removed).
_DOTTED = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")
_LIST_NUMBER = re.compile(r"\d{1,3}\.")

_CLAUSE_ENDS = (";", ":", "—", "–")
_DASHES = frozenset({"-", "--"})
_CONJUNCTIONS = frozenset({"and", "but"})
# A clause break is only taken when the piece before it is at least this share of the limit;
# otherwise a plain word break near the limit is preferred to a tiny piece like "Well,".
_MIN_CLAUSE_SHARE = 3


def estimate_speech_seconds(text: str) -> float:
    """Roughly how long ``text`` takes to say: its length at 15 characters per second.

    Whitespace runs count as one character. Good enough to size queues and timeouts, not
    to align anything: real speed depends on the voice, the language and the punctuation.
    """
    return len(" ".join(text.split())) / CHARS_PER_SECOND


def split_for_speech(
    text: str,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    min_chars: int = 0,
    first_chunk_max_chars: int | None = None,
) -> list[str]:
    """Split ``text`` into chunks of whole sentences, each at most ``max_chars`` long.

    Sentences end at ``. ! ? … ‽`` and their combinations (closing quotes and brackets stay
    with their sentence) and at line breaks. A period does not end a sentence after a common
    abbreviation ("Mr.", "e.g.", "U.S."), an initial before a capitalised word
    ("J. R. R. Tolkien"), "No." before a number, or a list number at the start of a sentence;
    "3.14", "v2.7.1", "10:30" and URLs never break because breaks only happen at whitespace.
    An ellipsis ends a sentence only when the next word is capitalised ("Well... maybe" stays
    together, "Wait... No!" splits), and a quoted "!"/"?" followed by a lower-case word
    ('"Stop!" he said') does not end the sentence.

    A sentence longer than the limit is broken at the last clause boundary that fits
    (``; : — –`` first, then commas, then before "and"/"but"), else at the last space that
    fits; a single word longer than ``max_chars`` is cut into ``max_chars`` pieces.

    ``min_chars`` (default 0, off) merges consecutive chunks while the merged chunk stays at
    most ``min_chars`` long, so "Hi." and "Yes." become one call. ``first_chunk_max_chars``
    caps the first chunk lower than the rest so the first audio is ready sooner; it never
    cuts a word, so a first word longer than that cap (but within ``max_chars``) is the first
    chunk on its own.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, not {max_chars}")
    if min_chars < 0:
        raise ValueError(f"min_chars must not be negative, not {min_chars}")
    if first_chunk_max_chars is not None and first_chunk_max_chars < 1:
        raise ValueError(f"first_chunk_max_chars must be at least 1, not {first_chunk_max_chars}")
    first_cap = (
        max_chars if first_chunk_max_chars is None else min(first_chunk_max_chars, max_chars)
    )

    chunks: list[str] = []
    for sentence in _sentences(text):
        _pack(sentence, chunks, max_chars=max_chars, first_cap=first_cap)
    if min_chars > 0:
        chunks = _merge_short(chunks, min_chars=min_chars, max_chars=max_chars, first_cap=first_cap)
    return chunks


# sentences ---------------------------------------------------------------------------------


def _sentences(text: str) -> Iterator[list[str]]:
    """Yield each sentence as its list of words; every line break ends a sentence."""
    for line in text.splitlines():
        words = line.split()
        start = 0
        for index, word in enumerate(words):
            following = words[index + 1] if index + 1 < len(words) else None
            if following is None or _ends_sentence(word, following, first=index == start):
                yield words[start : index + 1]
                start = index + 1


def _starts(word: str, test: Callable[[str], bool]) -> bool:
    stripped = word.lstrip(_OPENERS)
    return bool(stripped) and test(stripped[0])


def _ends_sentence(word: str, following: str, *, first: bool) -> bool:
    """Whether a sentence ends after ``word``, given the word after it."""
    core = word.rstrip(_CLOSERS)
    if not core or core[-1] not in _TERMINALS:
        return False
    if core.endswith(_ELLIPSES):
        return _starts(following, str.isupper)
    quoted = len(core) < len(word)
    if quoted and _starts(following, str.islower):
        return False
    if core[-1] != ".":
        return True
    if first and _LIST_NUMBER.fullmatch(word):
        return False
    stem = core[:-1].lstrip(_OPENERS)
    lowered = stem.lower()
    if lowered in _ABBREVIATIONS or _DOTTED.fullmatch(stem):
        return False
    if lowered == "no":
        return not _starts(following, lambda char: char.isdigit() or char == "#")
    is_initial = len(stem) == 1 and stem.isupper() and stem != "I"
    return not (is_initial and _starts(following, str.isupper))


# packing -----------------------------------------------------------------------------------


def _pack(sentence: list[str], out: list[str], *, max_chars: int, first_cap: int) -> None:
    """Append ``sentence`` to ``out`` as one chunk, or as several if it is too long."""
    words = list(sentence)
    start = 0
    while start < len(words):
        limit = max_chars if out else first_cap
        end, length = start, -1
        while end < len(words) and length + 1 + len(words[end]) <= limit:
            length += 1 + len(words[end])
            end += 1
        if end == len(words):
            out.append(" ".join(words[start:]))
            return
        if end == start:  # the next word alone is over the limit
            word = words[start]
            if len(word) <= max_chars:
                out.append(word)
                start += 1
            else:
                head, words[start] = _hard_split(word, max_chars)
                out.append(head)
            continue
        cut = _best_break(words, start, end, limit)
        out.append(" ".join(words[start:cut]))
        start = cut


def _clause_end(word: str) -> bool:
    core = word.rstrip(_CLOSERS)
    return core.endswith(_CLAUSE_ENDS + _ELLIPSES + ("!", "?", "‽")) or core in _DASHES


def _best_break(words: list[str], start: int, end: int, limit: int) -> int:
    """Where to end a chunk that starts at ``start`` and can hold words up to ``end``."""
    rules: tuple[Callable[[int], bool], ...] = (
        lambda cut: _clause_end(words[cut - 1]),
        lambda cut: words[cut - 1].rstrip(_CLOSERS).endswith(","),
        lambda cut: words[cut].lower() in _CONJUNCTIONS,
    )
    lengths = {start: -1}
    for index in range(start, end):
        lengths[index + 1] = lengths[index] + 1 + len(words[index])
    shortest = limit // _MIN_CLAUSE_SHARE
    for allowed in rules:
        for cut in range(end, start, -1):
            if lengths[cut] < shortest:
                break
            if allowed(cut):
                return cut
    return end


def _inseparable(char: str) -> bool:
    """Characters that belong to the one before them (accents, emoji modifiers, joiners)."""
    code = ord(char)
    return (
        unicodedata.combining(char) != 0
        or char in "\u200d\ufe0e\ufe0f\u20e3"
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
    )


def _hard_split(word: str, size: int) -> tuple[str, str]:
    """Cut ``size`` characters off ``word``, backing off so a character keeps its marks."""
    cut = size
    while cut > 1 and (_inseparable(word[cut]) or word[cut - 1] == "\u200d"):
        cut -= 1
    return word[:cut], word[cut:]


def _merge_short(chunks: list[str], *, min_chars: int, max_chars: int, first_cap: int) -> list[str]:
    merged: list[str] = []
    for chunk in chunks:
        if merged:
            cap = min(min_chars, first_cap if len(merged) == 1 else max_chars)
            if len(merged[-1]) + 1 + len(chunk) <= cap:
                merged[-1] = f"{merged[-1]} {chunk}"
                continue
        merged.append(chunk)
    return merged
