"""Every repository over one place to send SQL, and the unit of work built from them."""

from __future__ import annotations

from bot.store.audit import AuditRepository
from bot.store.database import Statements
from bot.store.generations import GenerationRepository
from bot.store.hides import HideRepository
from bot.store.jobs import JobRepository
from bot.store.personal import PersonalDataRepository
from bot.store.presets import PresetRepository
from bot.store.settings import SettingsRepository
from bot.store.training import TrainingRepository
from bot.store.voices import VoiceRepository


class Repositories:
    """The store's repositories, all running their SQL on ``statements``."""

    def __init__(self, statements: Statements) -> None:
        self.voices = VoiceRepository(statements)
        self.jobs = JobRepository(statements)
        self.generations = GenerationRepository(statements)
        self.settings = SettingsRepository(statements)
        self.presets = PresetRepository(statements)
        self.personal = PersonalDataRepository(statements)
        self.audit = AuditRepository(statements)
        self.hides = HideRepository(statements)
        self.training = TrainingRepository(statements)


class UnitOfWork(Repositories):
    """The repositories inside one open transaction: what they write lands together, when
    the ``async with store.unit_of_work()`` block ends, or not at all if it raises.

    Inside the block use only these repositories, never the store's own: the transaction
    holds the database's lock (the store's repositories would raise ``RuntimeError``).
    """
