"""Turn a Discord message into plain text that reads well aloud.

Decisions, applied in this order:

* Code blocks (```...```) are replaced by the words "code block", on a line of their own;
  reading code out is noise. Inline code (`x`) keeps its content verbatim.
* Spoilers (||x||) become the word "spoiler"; their content is never read.
* Masked links ([text](url)) keep their text; other URLs become "a link to <domain>" with
  "www." dropped.
* User, role and channel mentions become the names given (or "someone", "a role",
  "a channel"); @everyone and @here become "everyone" and "here"; slash-command mentions
  become "slash <name>".
* Custom emoji (<:name:id>, <a:name:id>) become their name, underscores and camelCase split
  into words. Unicode emoji (and zero-width and variation characters) are removed: a TTS
  model cannot say them, and reading their names ("face with tears of joy") is tiresome.
* Timestamps (<t:unix:style>) become a date and/or time in UTC, or a relative phrase
  ("in 3 hours") for style R, or "a time" when out of range.
* Markdown is removed: bold, italic, underline and strikethrough keep their text (struck
  text is read too), block quotes, headings, subtext and list markers are stripped, and
  backslash escapes are honoured.
* Runs are shortened: a letter repeated 4+ times keeps 3 ("soooooo" -> "sooo"), a 2-4 letter
  unit repeated 4+ times keeps 3 ("hahahahaha" -> "hahaha"), runs of ! and ? keep one of each
  ("?!?!?!" -> "?!"), 4+ dots become "...", other repeated symbols keep one.
* Whitespace is collapsed to single spaces, but line breaks are kept (one per run of blank
  lines) because the engine's sentence chunking treats them as boundaries; lines with
  nothing to say (no letter or digit) are dropped.

Discord markup is the bot's business: the engine takes the plain text this returns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import urlsplit

_ELLIPSIS = "…"

# Placeholders keep already-spoken text (names, inline code, link phrases) away from the
# markdown and repetition passes. They use the Private Use Area, which is removed from input.
_OPEN, _CLOSE = "\ue100", "\ue101"
_PLACEHOLDER = re.compile(f"{_OPEN}(\\d+){_CLOSE}")
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
_ESCAPE_BASE = 0xE000  # an escaped ASCII character c is kept as chr(_ESCAPE_BASE + ord(c))
_ESCAPED = re.compile(r"\\([\\*_~|`>#<\[\]():-])")
_UNESCAPE = {_ESCAPE_BASE + code: chr(code) for code in range(128)}

_LINE_BREAKS = re.compile("\r\n|[\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f\u200b\u2060\ufeff\u00ad]")

_CODE_BLOCK = re.compile(r"```.*?```", re.DOTALL)
_INLINE_CODE = re.compile(r"``([^\n]+?)``|`([^`\n]+)`")
_SPOILER = re.compile(r"\|\|(.+?)\|\|", re.DOTALL)
_URL_BODY = r"(?:[^\s()<>]|\([^\s()<>]*\))+"
_MASKED_LINK = re.compile(
    rf"\[([^\[\]\n]+)\]\(\s*<?(?:https?|ftp)://{_URL_BODY}>?(?:\s+\"[^\"]*\")?\s*\)",
    re.IGNORECASE,
)
_ANGLE_URL = re.compile(r"<((?:https?|ftp)://[^\s<>]+)>", re.IGNORECASE)
_URL = re.compile(
    r"(?:https?|ftp)://[^\s<>\ue000-\uf8ff]*|\bwww\.[^\s<>\ue000-\uf8ff]+", re.IGNORECASE
)
_URL_TRAILING = ".,;:!?'\"]}>*_~|"

_USER = re.compile(r"<@!?(\d+)>")
_ROLE = re.compile(r"<@&(\d+)>")
_CHANNEL = re.compile(r"<#(\d+)>")
_CUSTOM_EMOJI = re.compile(r"<a?:(\w+):\d+>")
_TIMESTAMP = re.compile(r"<t:(-?\d+)(?::([A-Za-z]))?>")
_SLASH_COMMAND = re.compile(r"</([^:<>\n]+):\d+>")
_EVERYONE = re.compile(r"(?<![\w@])@(everyone|here)\b")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")

_QUOTE = re.compile(r"^>(?:>>)?(?:[ \t]+|$)")
_HEADING = re.compile(r"^(?:#{1,3}|-#)[ \t]+")
_LIST = re.compile(r"^(?:[-*+•]|\d{1,2}[.)])[ \t]+")

_INLINE_MARKUP = (
    re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*"),
    re.compile(r"__(?=\S)(.+?)(?<=\S)__"),
    re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"),
    re.compile(r"(?<!\d)\*(?=\S)(.+?)(?<=\S)\*(?!\d)"),
    re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"),
)
# Left-over markers; a lone * between digits or spaces ("2*3", "a * b") is kept.
_STRAY_MARKUP = re.compile(r"\|\||~~|`|(?<![\d\s])\*|\*(?![\d\s])")

_LETTER_RUN = re.compile(r"([^\W\d_])\1{3,}")
_UNIT_RUN = re.compile(r"([^\W\d_]{2,4}?)\1{3,}")
_BANG_RUN = re.compile(r"[!?‽]{2,}")
_DOT_RUN = re.compile(r"\.{4,}")
_ELLIPSIS_RUN = re.compile(r"…{2,}")
_SYMBOL_RUN = re.compile(r"([^\w\s.!?\ue000-\uf8ff])\1{3,}")

_EMOJI = re.compile(
    "[0-9#*]\ufe0f?\u20e3"
    "|[\U0001f000-\U0001faff\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff"
    "\U000e0020-\U000e007f\ufe0e\ufe0f\u200d\u20e3]"
)
_SPACES = re.compile(r"[^\S\n]+")
_SPACE_BEFORE_PUNCTUATION = re.compile(r" +([,.!?;:…])(?=\s|$)")

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_UNITS = (
    (365 * 86400, "year"),
    (30 * 86400, "month"),
    (86400, "day"),
    (3600, "hour"),
    (60, "minute"),
)


def _utcnow() -> datetime:
    """The clock for relative timestamps (a function so tests can replace it)."""
    return datetime.now(UTC)


def normalize_for_reading(
    text: str,
    *,
    max_chars: int | None = None,
    mention_names: Mapping[int, str] | None = None,
    channel_names: Mapping[int, str] | None = None,
    role_names: Mapping[int, str] | None = None,
) -> str:
    """Plain, speakable text for a Discord message; "" when nothing speakable remains.

    The module docstring lists every rewrite. ``max_chars`` cuts the result at a word
    boundary and ends it with "…" so that it is at most ``max_chars`` long.
    """
    if max_chars is not None and max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, not {max_chars}")
    vault = _Vault()

    text = _LINE_BREAKS.sub("\n", text)
    text = _CONTROL.sub("", _PRIVATE_USE.sub("", text))
    text = _ESCAPED.sub(lambda m: chr(_ESCAPE_BASE + ord(m.group(1))), text)

    text = _CODE_BLOCK.sub(lambda _: f"\n{vault.keep('code block')}\n", text)
    text = _INLINE_CODE.sub(lambda m: vault.keep((m.group(1) or m.group(2)).strip()), text)
    text = _SPOILER.sub("spoiler", text)
    text = _MASKED_LINK.sub(r"\1", text)
    text = _ANGLE_URL.sub(r"\1", text)
    text = _replace_discord_tokens(text, vault, mention_names, channel_names, role_names)
    text = _URL.sub(lambda m: _link_phrase(m, vault), text)
    text = _EVERYONE.sub(r"\1", text)

    text = "\n".join(_strip_line_markup(line) for line in text.split("\n"))
    text = _strip_inline_markup(text)
    text = _shorten_runs(text)

    text = vault.restore(text)
    text = _EMOJI.sub("", text)
    text = _tidy_whitespace(text)
    text = text.translate(_UNESCAPE)
    if not _speakable(text):
        return ""
    if max_chars is not None:
        text = _truncate(text, max_chars)
    return text


class _Vault:
    """Text set aside behind placeholders; ``pad`` entries get spaces around them."""

    def __init__(self) -> None:
        self._items: list[tuple[str, bool]] = []

    def keep(self, text: str, *, pad: bool = False) -> str:
        self._items.append((text, pad))
        return f"{_OPEN}{len(self._items) - 1}{_CLOSE}"

    def restore(self, text: str) -> str:
        def put_back(match: re.Match[str]) -> str:
            value, pad = self._items[int(match.group(1))]
            return f" {value} " if pad else value

        for _ in range(3):  # a kept text never holds another placeholder, but be safe
            if _OPEN not in text:
                break
            text = _PLACEHOLDER.sub(put_back, text)
        return text


def _name(names: Mapping[int, str] | None, key: str) -> str | None:
    if names is None:
        return None
    name = " ".join(str(names.get(int(key), "")).split())
    return name or None


def _replace_discord_tokens(
    text: str,
    vault: _Vault,
    mention_names: Mapping[int, str] | None,
    channel_names: Mapping[int, str] | None,
    role_names: Mapping[int, str] | None,
) -> str:
    def named(
        names: Mapping[int, str] | None, fallback: str, prefix: str = ""
    ) -> Callable[[re.Match[str]], str]:
        def replace(match: re.Match[str]) -> str:
            name = _name(names, match.group(1))
            return vault.keep(fallback if name is None else prefix + name)

        return replace

    text = _USER.sub(named(mention_names, "someone"), text)
    text = _ROLE.sub(named(role_names, "a role"), text)
    text = _CHANNEL.sub(named(channel_names, "a channel", "channel "), text)
    text = _CUSTOM_EMOJI.sub(lambda m: vault.keep(_emoji_words(m.group(1)), pad=True), text)
    text = _TIMESTAMP.sub(lambda m: vault.keep(_timestamp(m.group(1), m.group(2))), text)
    return _SLASH_COMMAND.sub(lambda m: vault.keep("slash " + " ".join(m.group(1).split())), text)


def _emoji_words(name: str) -> str:
    return " ".join(_CAMEL.sub(" ", name.replace("_", " ")).split())


def _link_phrase(match: re.Match[str], vault: _Vault) -> str:
    url = match.group(0)
    trailing = ""
    while url:
        last = url[-1]
        if last in _URL_TRAILING or (last == ")" and url.count("(") < url.count(")")):
            trailing = last + trailing
            url = url[:-1]
        else:
            break
    return vault.keep(_describe_url(url)) + trailing


def _describe_url(url: str) -> str:
    if "://" not in url:
        url = "http://" + url
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    if not host:
        return "a link"
    host = host.rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    return f"a link to {host}" if host else "a link"


# timestamps --------------------------------------------------------------------------------


def _timestamp(seconds: str, style: str | None) -> str:
    try:
        moment = datetime.fromtimestamp(int(seconds), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return "a time"
    date = f"{_MONTHS[moment.month - 1]} {moment.day}, {moment.year}"
    match style:
        case "t":
            return _clock(moment, seconds=False)
        case "T":
            return _clock(moment, seconds=True)
        case "d" | "D":
            return date
        case "F":
            return f"{_WEEKDAYS[moment.weekday()]}, {date} at {_clock(moment, seconds=False)}"
        case "R":
            return _relative(moment, _utcnow())
        case _:
            return f"{date} at {_clock(moment, seconds=False)}"


def _clock(moment: datetime, *, seconds: bool) -> str:
    hour = moment.hour % 12 or 12
    suffix = "AM" if moment.hour < 12 else "PM"
    tail = f":{moment.second:02d}" if seconds else ""
    return f"{hour}:{moment.minute:02d}{tail} {suffix} UTC"


def _relative(moment: datetime, now: datetime) -> str:
    delta = (moment - now).total_seconds()
    distance = abs(delta)
    phrase = "a few seconds"
    for size, unit in _UNITS:
        if distance >= size:
            count = round(distance / size)
            if count == 1:
                phrase = f"an {unit}" if unit == "hour" else f"a {unit}"
            else:
                phrase = f"{count} {unit}s"
            break
    else:
        if distance >= 45:
            phrase = "a minute"
    return f"in {phrase}" if delta > 0 else f"{phrase} ago"


# markdown and clean-up ---------------------------------------------------------------------


def _strip_line_markup(line: str) -> str:
    """Remove block quote, heading, subtext and list markers at the start of a line."""
    for _ in range(4):
        before = line
        line = line.lstrip(" \t")
        for pattern in (_QUOTE, _HEADING, _LIST):
            line = pattern.sub("", line, count=1)
        if line == before:
            break
    return line


def _strip_inline_markup(text: str) -> str:
    for _ in range(5):
        before = text
        for pattern in _INLINE_MARKUP:
            text = pattern.sub(r"\1", text)
        if text == before:
            break
    return _STRAY_MARKUP.sub("", text)


def _dedupe_marks(match: re.Match[str]) -> str:
    return "".join(dict.fromkeys(match.group(0)))


def _shorten_runs(text: str) -> str:
    text = _LETTER_RUN.sub(r"\1\1\1", text)
    text = _UNIT_RUN.sub(r"\1\1\1", text)
    text = _BANG_RUN.sub(_dedupe_marks, text)
    text = _DOT_RUN.sub("...", text)
    text = _ELLIPSIS_RUN.sub(_ELLIPSIS, text)
    return _SYMBOL_RUN.sub(r"\1", text)


def _speakable(text: str) -> bool:
    return any(char.isalnum() for char in text)


def _tidy_whitespace(text: str) -> str:
    lines = []
    for raw in text.split("\n"):
        line = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", _SPACES.sub(" ", raw)).strip()
        if _speakable(line):
            lines.append(line)
    return "\n".join(lines)


def _truncate(text: str, max_chars: int) -> str:
    """At most ``max_chars`` characters, cut at a word boundary and ending with "…"."""
    result = _cut(text, max_chars)
    if not _speakable(result):  # only punctuation fitted: start at the first letter or digit
        start = next(index for index, char in enumerate(text) if char.isalnum())
        result = _cut(text[start:], max_chars)
    return result


def _cut(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    budget = max_chars - len(_ELLIPSIS)
    if budget < 1:
        return text[:max_chars]
    window = text[: budget + 1]
    space = max(window.rfind(" "), window.rfind("\n"))
    head = text[:space] if space > 0 else text[:budget]
    head = head.rstrip().rstrip(" ,;:-–—.…")
    if not _speakable(head):
        head = text[:budget].rstrip()
    return head + _ELLIPSIS
