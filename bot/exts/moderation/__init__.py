"""``/moderate …``: a server's managers hide voices there, unhide them, or delete a member's
voice enrolled there, each with a reason, an audit entry and a notice to the owner. They
never gain use of a member's private voice (see :mod:`bot.access`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.exts.moderation.cog import ModerationCog

if TYPE_CHECKING:
    from bot.client import ParrotBot


async def setup(parrot_bot: ParrotBot) -> None:
    await parrot_bot.add_cog(ModerationCog(parrot_bot))
