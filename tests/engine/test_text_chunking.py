"""Splitting text into speakable chunks: sentence rules, long sentences, limits, invariants."""

from __future__ import annotations

import random

import pytest

from engine.text import CHARS_PER_SECOND, estimate_speech_seconds, split_for_speech


def joined(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello there. How are you?", ["Hello there.", "How are you?"]),
        ("Stop! Go? Fine.", ["Stop!", "Go?", "Fine."]),
        ("Really?! Yes!!! Wow‽ What?.. Ok.", ["Really?!", "Yes!!!", "Wow‽", "What?..", "Ok."]),
        ("I'm fine… You?", ["I'm fine…", "You?"]),
        ('She said "Hi." Then she left.', ['She said "Hi."', "Then she left."]),
        ("She said “Hi!” Then left.", ["She said “Hi!”", "Then left."]),
        ("(This is an aside.) Next one.", ["(This is an aside.)", "Next one."]),
        ("It works [mostly]. Good.", ["It works [mostly].", "Good."]),
        ("He yelled 'go!' Then ran.", ["He yelled 'go!'", "Then ran."]),
        ('"Stop!" he shouted. Nobody did.', ['"Stop!" he shouted.', "Nobody did."]),
        ("A lone mark . Then more ?! Ok", ["A lone mark .", "Then more ?!", "Ok"]),
        ("no punctuation at all", ["no punctuation at all"]),
        ("lower case chat. still splits? yes", ["lower case chat.", "still splits?", "yes"]),
    ],
)
def test_sentence_boundaries(text: str, expected: list[str]) -> None:
    assert split_for_speech(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Mr. Smith is here.",
        "Mrs. Smith is here.",
        "Ms. Smith is here.",
        "Dr. Watson is here.",
        "St. Louis is far.",
        "Prof. Oak is here.",
        "Martin Luther King Jr. was a pastor.",
        "John Smith Sr. was a farmer.",
        "Cats vs. dogs is a debate.",
        "Apples, pears etc. are fruit.",
        "Fruit, e.g. apples, is sweet.",
        "One fruit, i.e. an apple, is enough.",
        "It weighs approx. five kilos.",
        "The U.S. Army marched.",
        "At 5 p.m. Bob arrived.",
        "See No. 5 for details.",
        "Ask for No. #7 please.",
        "J. R. R. Tolkien wrote it.",
        "J.R.R. Tolkien wrote it.",
        "George W. Bush spoke.",
        "Pi is 3.14 or so.",
        "It costs 1,000.5 dollars.",
        "Version v2.7.1 is out.",
        "Meet at 10:30 today.",
        "Go to https://example.com/a.b?c=d.e now.",
        "Visit example.com for more.",
        "Write to first.last@example.co.uk today.",
        "Well... maybe not.",
        "Well… maybe not.",
        "Hmm.... fine then.",
        "Wait ... what happened?",
        "It was... 5 minutes late.",
        "1. Buy milk.",
    ],
)
def test_no_split_inside(text: str) -> None:
    assert split_for_speech(text) == [text]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("No. I won't.", ["No.", "I won't."]),
        ("Neither did I. Then we left.", ["Neither did I.", "Then we left."]),
        ("Wait... No!", ["Wait...", "No!"]),
        ("Wait… Stop.", ["Wait…", "Stop."]),
        ('Hmm... "Really?"', ["Hmm...", '"Really?"']),
        ("Mail me at a@b.com. Thanks.", ["Mail me at a@b.com.", "Thanks."]),
        ("Get it at https://x.io/dl. It is free.", ["Get it at https://x.io/dl.", "It is free."]),
        ("I counted to 2. Then I stopped.", ["I counted to 2.", "Then I stopped."]),
        ("It is version 3. Done.", ["It is version 3.", "Done."]),
    ],
)
def test_splits_where_it_should(text: str, expected: list[str]) -> None:
    assert split_for_speech(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("line one\nline two", ["line one", "line two"]),
        ("para one\n\n\npara two", ["para one", "para two"]),
        ("windows\r\nline", ["windows", "line"]),
        ("unicode\u2028separator", ["unicode", "separator"]),
        ("1. Buy milk\n2. Eggs", ["1. Buy milk", "2. Eggs"]),
        ("Title\nFirst sentence. Second.", ["Title", "First sentence.", "Second."]),
    ],
)
def test_line_breaks_are_boundaries(text: str, expected: list[str]) -> None:
    assert split_for_speech(text) == expected


@pytest.mark.parametrize("text", ["", " ", "\n\n", "\t \r\n \u00a0 \u2028"])
def test_nothing_to_say_gives_no_chunks(text: str) -> None:
    assert split_for_speech(text) == []


def test_whitespace_is_stripped_and_collapsed() -> None:
    assert split_for_speech("  Hello \t  world.   Bye\u00a0now. ") == ["Hello world.", "Bye now."]


@pytest.mark.parametrize(
    ("text", "max_chars", "expected"),
    [
        # a semicolon, colon or dash beats a comma
        (
            "aaaa bbbb cccc; dddd, eeee ffff gggg hhhh",
            30,
            ["aaaa bbbb cccc;", "dddd, eeee ffff gggg hhhh"],
        ),
        (
            "aaaa bbbb cccc: dddd, eeee ffff gggg hhhh",
            30,
            ["aaaa bbbb cccc:", "dddd, eeee ffff gggg hhhh"],
        ),
        ("aaaa bbbb cccc — dddd, eeee ffff gggg", 30, ["aaaa bbbb cccc —", "dddd, eeee ffff gggg"]),
        ("aaaa bbbb cccc– dddd, eeee ffff gggg", 30, ["aaaa bbbb cccc–", "dddd, eeee ffff gggg"]),
        # the latest boundary of the best kind that fits
        ("aa bb, cc dd, ee ff gg hh ii jj kk", 20, ["aa bb, cc dd,", "ee ff gg hh ii jj kk"]),
        # "and"/"but" only when there is no punctuation; the conjunction starts the next piece
        ("one two three and four five six", 20, ["one two three", "and four five six"]),
        ("one two three but four five six", 20, ["one two three", "but four five six"]),
        # nothing at all: the last space that fits
        ("one two three four five six", 14, ["one two three", "four five six"]),
        # a clause break that would leave a tiny piece is passed over
        ("Well, aaaa bbbb cccc dddd eeee", 20, ["Well, aaaa bbbb cccc", "dddd eeee"]),
        # a word too long for any chunk is cut
        ("x" * 25, 10, ["x" * 10, "x" * 10, "x" * 5]),
        ("go " + "y" * 12 + " now", 5, ["go", "yyyyy", "yyyyy", "yy", "now"]),
        ("ab " + "y" * 8 + " c", 5, ["ab", "yyyyy", "yyy c"]),
    ],
)
def test_long_sentences(text: str, max_chars: int, expected: list[str]) -> None:
    assert split_for_speech(text, max_chars=max_chars) == expected


def test_long_sentence_with_default_limit() -> None:
    sentence = ", ".join(f"clause number {i} goes here" for i in range(40)) + "."
    chunks = split_for_speech(sentence)
    assert len(chunks) > 1
    assert all(len(chunk) <= 300 for chunk in chunks)
    assert all(chunk.endswith((",", ".")) for chunk in chunks)
    assert " ".join(chunks) == sentence


def test_hard_split_keeps_combining_marks_with_their_letter() -> None:
    word = "e\u0301" * 6
    chunks = split_for_speech(word, max_chars=5)
    assert "".join(chunks) == word
    assert all(len(chunk) <= 5 for chunk in chunks)
    assert all(not chunk.startswith("\u0301") for chunk in chunks)


@pytest.mark.parametrize(
    ("text", "min_chars", "expected"),
    [
        ("Hi. Yes. Okay.", 0, ["Hi.", "Yes.", "Okay."]),
        ("Hi. Yes. Okay.", 14, ["Hi. Yes. Okay."]),
        ("Hi. Yes. Okay.", 10, ["Hi. Yes.", "Okay."]),
        ("Hi. Yes. Okay.", 3, ["Hi.", "Yes.", "Okay."]),
        (
            "Hi. Yes. This is a much longer sentence. Ok. Sure.",
            12,
            ["Hi. Yes.", "This is a much longer sentence.", "Ok. Sure."],
        ),
        ("Hi.\nYes.", 20, ["Hi. Yes."]),
    ],
)
def test_min_chars_merges_short_sentences(text: str, min_chars: int, expected: list[str]) -> None:
    assert split_for_speech(text, min_chars=min_chars) == expected


def test_merging_never_exceeds_max_chars() -> None:
    chunks = split_for_speech("Aa. Bb. Cc. Dd.", max_chars=7, min_chars=100)
    assert chunks == ["Aa. Bb.", "Cc. Dd."]


def test_first_chunk_can_be_capped_lower() -> None:
    text = "This opening sentence is fairly long, it keeps going for a while. Short one."
    chunks = split_for_speech(text, max_chars=100, first_chunk_max_chars=40)
    assert chunks == [
        "This opening sentence is fairly long,",
        "it keeps going for a while.",
        "Short one.",
    ]


def test_first_chunk_cap_only_touches_the_first_chunk() -> None:
    text = "Short start. " + "word " * 30
    chunks = split_for_speech(text, max_chars=200, first_chunk_max_chars=20)
    assert chunks == ["Short start.", ("word " * 30).strip()]


def test_first_chunk_cap_limits_merging() -> None:
    chunks = split_for_speech("Hi. Yes. Ok. No.", min_chars=30, first_chunk_max_chars=8)
    assert chunks == ["Hi. Yes.", "Ok. No."]


def test_first_chunk_cap_above_max_chars_is_ignored() -> None:
    text = "alpha beta gamma delta"
    assert split_for_speech(text, max_chars=11, first_chunk_max_chars=500) == [
        "alpha beta",
        "gamma delta",
    ]


def test_first_chunk_cap_does_not_cut_a_word() -> None:
    chunks = split_for_speech("extraordinarily long words", max_chars=20, first_chunk_max_chars=5)
    assert chunks == ["extraordinarily", "long words"]


@pytest.mark.parametrize(
    "kwargs",
    [{"max_chars": 0}, {"max_chars": -5}, {"min_chars": -1}, {"first_chunk_max_chars": 0}],
)
def test_bad_limits_are_rejected(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        split_for_speech("Hello.", **kwargs)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("", 0.0),
        ("   ", 0.0),
        ("a" * 15, 1.0),
        ("x" * 150, 10.0),
        ("a  b\n\nc", 5 / CHARS_PER_SECOND),
    ],
)
def test_estimate_speech_seconds(text: str, seconds: float) -> None:
    assert estimate_speech_seconds(text) == pytest.approx(seconds)


# randomized invariants -----------------------------------------------------------------------

VOCABULARY = [
    "hello", "world", "a", "I", "the", "quick", "and", "but", "Mr.", "Dr.", "e.g.", "U.S.",
    "J.", "No.", "No", "5", "#3", "3.14", "v2.7.1", "10:30", "1,000.5", "https://x.io/a.b",
    "me@x.org", "end.", "Yes!", "what?!", "wow‽", "well...", "so…", "…", "...", ".", "?",
    '"Hi."', "(ok).", "'go!'", "[x]", "—", "–", "-", ";", "clause,", "note:", "semi;",
    "Capital", "lower", "é", "e\u0301", "😀", "👍🏽", "👨\u200d👩\u200d👧", "日本語です。", "1.",
]  # fmt: skip
SEPARATORS = [" ", " ", " ", "  ", "\t", "\n", "\n\n", "\r\n", "\u00a0", "\u2028", " \n "]


def random_text(rng: random.Random, long_words: bool) -> str:
    parts = []
    for _ in range(rng.randint(0, 60)):
        roll = rng.random()
        if long_words and roll < 0.05:
            word = "".join(rng.choice("abcXYZé🎉") for _ in range(rng.randint(20, 120)))
        elif roll < 0.25:
            word = "".join(rng.choice("abcdefgh") for _ in range(rng.randint(1, 12)))
            word += rng.choice(["", "", ".", ",", "!", "?", ";", "..."])
        else:
            word = rng.choice(VOCABULARY)
        parts.append(word)
        parts.append(rng.choice(SEPARATORS))
    return rng.choice(["", " ", "\n"]) + "".join(parts)


def check_invariants(text: str, chunks: list[str], max_chars: int, first_cap: int) -> None:
    for chunk in chunks:
        assert chunk
        assert not chunk.isspace()
        assert chunk == joined(chunk)
        assert len(chunk) <= max_chars
    if chunks and " " in chunks[0]:
        assert len(chunks[0]) <= first_cap
    if all(len(word) <= max_chars for word in text.split()):
        assert " ".join(chunks) == joined(text)
    else:
        # a word longer than max_chars was cut: nothing lost or reordered, spaces aside
        assert "".join(chunks).replace(" ", "") == "".join(text.split())


@pytest.mark.parametrize("long_words", [False, True])
def test_random_text_keeps_every_invariant(long_words: bool) -> None:
    rng = random.Random(20240611 + long_words)
    for _ in range(1500):
        text = random_text(rng, long_words)
        max_chars = rng.choice([1, 2, 5, 12, 40, 80, 160, 300])
        min_chars = rng.choice([0, 0, 10, 60])
        first = rng.choice([None, None, 1, 8, 30, 100])
        first_cap = max_chars if first is None else min(first, max_chars)
        chunks = split_for_speech(
            text, max_chars=max_chars, min_chars=min_chars, first_chunk_max_chars=first
        )
        check_invariants(text, chunks, max_chars, first_cap)
