"""The root of Parrot's error taxonomy: failures a person can act on.

Every error that a member (in Discord) or the owner (on the CLI) should read derives from
:class:`ParrotError`. The error itself carries what to tell them, so the bot and the CLI
map failures in one place each and adding an error is one class in one module. Anything
that is not a ``ParrotError`` is a bug: the bot answers with an incident id and logs it,
the CLI prints the traceback.

The engine's texts are plain: no Discord markup beyond backticks around commands.
"""

from __future__ import annotations


def as_sentence(text: str) -> str:
    """Capitalised and ending with a full stop (or ``!``, ``?``, a closing backtick)."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", "`")) else text + "."


class ParrotError(Exception):
    """A failure whose message is written for the person who caused or can fix it.

    ``str(error)`` is what the operator reads on the CLI (``parrot: <message>``, exit
    :attr:`exit_code`); :meth:`for_member` is what a member reads in Discord. Subclasses
    override :meth:`for_member` when the member needs other words than the operator.
    """

    exit_code: int = 1

    def for_member(self) -> str:
        """The sentence a member reads (ephemeral in Discord)."""
        return as_sentence(str(self))

    def for_operator(self) -> str:
        """The one line the CLI prints after ``parrot:``."""
        return str(self)
