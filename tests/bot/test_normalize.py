"""Reading Discord messages aloud: links, mentions, emoji, timestamps, markdown, clean-up."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

import bot.exts.speech.normalize as normalize
from bot.exts.speech.normalize import normalize_for_reading
from engine.text import split_for_speech

NAMES = {123: "Alice", 456: "Bob 🎮", 789: "__init__", 999: "   "}
CHANNELS = {7: "general", 8: "off-topic"}
ROLES = {42: "Moderators"}


def read(text: str, **kwargs: object) -> str:
    return normalize_for_reading(
        text, mention_names=NAMES, channel_names=CHANNELS, role_names=ROLES, **kwargs
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://www.youtube.com/watch?v=x", "a link to youtube.com"),
        ("see https://example.com/a/b?c=d#e now", "see a link to example.com now"),
        ("HTTP://WWW.Example.COM/Path", "a link to example.com"),
        ("http://sub.example.org:8080/x", "a link to sub.example.org"),
        ("ftp://files.example.net/f.zip", "a link to files.example.net"),
        ("www.reddit.com/r/python", "a link to reddit.com"),
        ("Look: https://x.com/a.", "Look: a link to x.com."),
        ("(https://en.wikipedia.org/wiki/Foo_(bar))", "(a link to en.wikipedia.org)"),
        ("<https://example.com/no-embed>", "a link to example.com"),
        ("**https://example.com/bold**", "a link to example.com"),
        ("two https://a.io and https://b.io", "two a link to a.io and a link to b.io"),
        ("https://", "a link"),
        ("http://[::1", "a link"),
        ("[the docs](https://docs.python.org/3/)", "the docs"),
        ("[**bold** docs](<https://example.com>) here", "bold docs here"),
        ("[wiki](https://en.wikipedia.org/wiki/Foo_(bar)) ok", "wiki ok"),
        ('[t](https://example.com "a title")', "t"),
        ("[not a link](just text)", "[not a link](just text)"),
    ],
)
def test_links(text: str, expected: str) -> None:
    assert read(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hi <@123>", "hi Alice"),
        ("hi <@!123>", "hi Alice"),
        ("hi <@1>", "hi someone"),
        ("hi <@999>", "hi someone"),
        ("hi <@456>!", "hi Bob!"),
        ("*<@789>* said", "__init__ said"),
        ("<@123>'s turn", "Alice's turn"),
        ("in <#7>", "in channel general"),
        ("in <#8>", "in channel off-topic"),
        ("in <#9>", "in a channel"),
        ("ping <@&42>", "ping Moderators"),
        ("ping <@&43>", "ping a role"),
        ("@everyone look", "everyone look"),
        ("hey @here", "hey here"),
        ("mail me@here.com", "mail me@here.com"),
        ("use </ping:123>", "use slash ping"),
        ("use </config set:123>", "use slash config set"),
    ],
)
def test_mentions(text: str, expected: str) -> None:
    assert read(text) == expected


def test_mentions_without_any_names() -> None:
    assert normalize_for_reading("<@1> <#2> <@&3>") == "someone a channel a role"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<:pepe_laugh:123456>", "pepe laugh"),
        ("<a:party_parrot:987>", "party parrot"),
        ("<:PepeHands:1>", "Pepe Hands"),
        ("lol<:kek:1>!", "lol kek!"),
        ("<:a:1><:b:2>", "a b"),
        ("nice 😂😂", "nice"),
        ("I ❤️ you 👍🏽", "I you"),
        ("family 👨\u200d👩\u200d👧 here", "family here"),
        ("flag 🇫🇷 and key 1️⃣", "flag and key"),
        ("weather ☀️ ⭐", "weather"),
        ("arrows → and dashes — stay", "arrows → and dashes — stay"),
        ("accents café naïve 日本語", "accents café naïve 日本語"),
    ],
)
def test_emoji(text: str, expected: str) -> None:
    assert read(text) == expected


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("", "November 14, 2023 at 10:13 PM UTC"),
        (":f", "November 14, 2023 at 10:13 PM UTC"),
        (":F", "Tuesday, November 14, 2023 at 10:13 PM UTC"),
        (":d", "November 14, 2023"),
        (":D", "November 14, 2023"),
        (":t", "10:13 PM UTC"),
        (":T", "10:13:20 PM UTC"),
        (":x", "November 14, 2023 at 10:13 PM UTC"),
    ],
)
def test_absolute_timestamps(style: str, expected: str) -> None:
    assert read(f"<t:1700000000{style}>") == expected


def test_midnight_and_noon() -> None:
    assert read("<t:0:t> <t:43200:t>") == "12:00 AM UTC 12:00 PM UTC"


@pytest.mark.parametrize(
    ("offset_s", "expected"),
    [
        (0, "a few seconds ago"),
        (10, "in a few seconds"),
        (50, "in a minute"),
        (-50, "a minute ago"),
        (5 * 60, "in 5 minutes"),
        (-3600, "an hour ago"),
        (3 * 3600, "in 3 hours"),
        (-86400, "a day ago"),
        (10 * 86400, "in 10 days"),
        (-60 * 86400, "2 months ago"),
        (400 * 86400, "in a year"),
        (-3 * 365 * 86400, "3 years ago"),
    ],
)
def test_relative_timestamps(monkeypatch: pytest.MonkeyPatch, offset_s: int, expected: str) -> None:
    now = 1_700_000_000
    monkeypatch.setattr(normalize, "_utcnow", lambda: datetime.fromtimestamp(now, tz=UTC))
    assert read(f"<t:{now + offset_s}:R>") == expected


@pytest.mark.parametrize("value", ["99999999999999999999", "-99999999999999999"])
def test_impossible_timestamps(value: str) -> None:
    assert read(f"at <t:{value}:f>") == "at a time"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("**bold** text", "bold text"),
        ("*italic* text", "italic text"),
        ("_italic_ text", "italic text"),
        ("__underline__ text", "underline text"),
        ("~~struck~~ text", "struck text"),
        ("***bold italic***", "bold italic"),
        ("__*underlined italic*__", "underlined italic"),
        ("**unclosed bold", "unclosed bold"),
        ("snake_case_name stays", "snake_case_name stays"),
        ("2*3*4 and 2 * 3", "2*3*4 and 2 * 3"),
        ("I did it*", "I did it"),
        (r"\*not italic\* and \_x\_", "*not italic* and _x_"),
        ("`inline code` here", "inline code here"),
        ("run `__init__` now", "run __init__ now"),
        ("``code with ` tick``", "code with ` tick"),
        ("``` ```", "code block"),
        ("before ```py\nprint('hi')\n``` after", "before\ncode block\nafter"),
        ("```\nmulti\nline\n```", "code block"),
        ("||secret|| stuff", "spoiler stuff"),
        ("||multi\nline|| end", "spoiler end"),
        ("||https://example.com||", "spoiler"),
        ("> quoted text", "quoted text"),
        (">>> block quote\nsecond line", "block quote\nsecond line"),
        (">no space is not a quote", ">no space is not a quote"),
        ("# Heading", "Heading"),
        ("## Smaller\n### Smallest", "Smaller\nSmallest"),
        ("-# subtext", "subtext"),
        ("#hashtag stays", "#hashtag stays"),
        ("- one\n- two", "one\ntwo"),
        ("* star item\n+ plus item", "star item\nplus item"),
        ("  - nested item", "nested item"),
        ("1. first\n2) second", "first\nsecond"),
        ("> - quoted item", "quoted item"),
        ("2023. was a year", "2023. was a year"),
        ("-5 degrees", "-5 degrees"),
    ],
)
def test_markdown(text: str, expected: str) -> None:
    assert read(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("soooooo good", "sooo good"),
        ("sooo good", "sooo good"),
        ("NOOOOOOO", "NOOO"),
        ("wow!!!!!!", "wow!"),
        ("what??????", "what?"),
        ("what?!?!?!", "what?!"),
        ("hahahahahahaha", "hahaha"),
        ("hahaha", "hahaha"),
        ("lolololololol", "lololol"),
        ("wait.......", "wait..."),
        ("wait...", "wait..."),
        ("hmm……", "hmm…"),
        ("ok -------- next", "ok - next"),
        ("1000000 stays", "1000000 stays"),
        ("bookkeeper", "bookkeeper"),
    ],
)
def test_repeats_are_shortened(text: str, expected: str) -> None:
    assert read(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  lots   of \t space  ", "lots of space"),
        ("one\n\n\n\ntwo", "one\ntwo"),
        ("one\r\ntwo\rthree", "one\ntwo\nthree"),
        ("word , word .", "word, word."),
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("private \ue100 use \ue000", "private use"),
        ("text\n😂😂\nmore", "text\nmore"),
        ("text\n---\nmore", "text\nmore"),
        ("nul\x00 char", "nul char"),
    ],
)
def test_whitespace_and_clean_up(text: str, expected: str) -> None:
    assert read(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "   ", "\n\n", "😂", "😂👍🏽❤️", "!!!", "...", "***", "> ", "# ", "- ", "~~ ~~", "\u200b"],
)
def test_nothing_speakable_gives_empty_string(text: str) -> None:
    assert read(text) == ""


@pytest.mark.parametrize(
    ("text", "max_chars", "expected"),
    [
        ("The quick brown fox jumps", 100, "The quick brown fox jumps"),
        ("The quick brown fox jumps", 25, "The quick brown fox jumps"),
        ("The quick brown fox jumps", 24, "The quick brown fox…"),
        ("The quick brown fox jumps", 20, "The quick brown fox…"),
        ("The quick brown fox jumps", 19, "The quick brown…"),
        ("Hello, world and more", 13, "Hello, world…"),
        ("Hello, world and more", 12, "Hello…"),
        ("One. Two. Three.", 10, "One. Two…"),
        ("Supercalifragilistic", 8, "Superca…"),
        ("first line\nsecond line", 15, "first line…"),
        ("abc def", 1, "a"),
    ],
)
def test_max_chars_truncates_at_a_word(text: str, max_chars: int, expected: str) -> None:
    result = read(text, max_chars=max_chars)
    assert result == expected
    assert len(result) <= max_chars


def test_max_chars_counts_after_normalizing() -> None:
    text = "**see** https://www.example.com/" + "x" * 500
    assert read(text, max_chars=40) == "see a link to example.com"


@pytest.mark.parametrize("max_chars", [0, -1])
def test_bad_max_chars(max_chars: int) -> None:
    with pytest.raises(ValueError):
        read("hello", max_chars=max_chars)


def test_a_realistic_message() -> None:
    message = (
        "> **Reminder** for <@&42>\n"
        "Hey <@123>!!! Meeting <t:1700000000:f> in <#7> 🎉🎉\n"
        "Agenda: ||surprise||, see [notes](https://docs.example.com/x) or "
        "https://www.example.com/long?q=1\n"
        "```\nsome code\n```\n"
        "- item *one*\n"
        "- item ~~two~~ <:thumbs_up:11>"
    )
    assert read(message) == (
        "Reminder for Moderators\n"
        "Hey Alice! Meeting November 14, 2023 at 10:13 PM UTC in channel general\n"
        "Agenda: spoiler, see notes or a link to example.com\n"
        "code block\n"
        "item one\n"
        "item two thumbs up"
    )
    assert split_for_speech(read(message)) == [
        "Reminder for Moderators",
        "Hey Alice!",
        "Meeting November 14, 2023 at 10:13 PM UTC in channel general",
        "Agenda: spoiler, see notes or a link to example.com",
        "code block",
        "item one",
        "item two thumbs up",
    ]


# randomized robustness -----------------------------------------------------------------------

PIECES = [
    "word", "Hello", "**", "*", "_", "__", "~~", "||", "`", "```", ">", "# ", "- ", "1. ",
    "\n", "\n\n", " ", "  ", "<@123>", "<@!5>", "<#7>", "<@&42>", "<:e_x:1>", "<t:1700000000:R>",
    "<t:99999999999999999999>", "https://www.example.com/a_(b)", "[t](https://x.io)", "@here",
    "😂", "👍🏽", "\u200b", "\\*", "\\", "soooooo", "!!!!", "?!?!", "......", "hahahaha", "é",
    "日本", ".", ",", "(", ")", "[", "]", "<", ">", ":", "\ue100", "\ue101", "0", "\t",
]  # fmt: skip


def test_random_messages_never_break_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(normalize, "_utcnow", lambda: datetime.fromtimestamp(1_700_000_000, tz=UTC))
    rng = random.Random(7)
    for _ in range(1500):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 40)))
        max_chars = rng.choice([None, 1, 5, 30, 200])
        result = read(text, max_chars=max_chars)
        if max_chars is not None:
            assert len(result) <= max_chars
        if not result:
            continue
        assert any(char.isalnum() for char in result)
        assert result == result.strip()
        assert "  " not in result
        assert "\n\n" not in result
        assert not any("\ue000" <= char <= "\uf8ff" for char in result)
