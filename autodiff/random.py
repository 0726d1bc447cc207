"""Random number generators: ``ad.manual_seed`` and ``ad.Generator`` (PCG64 on the host)."""

from __future__ import annotations

import numpy as np


class Generator:
    """A seeded source of random numbers, passed as ``generator=`` to random ops."""

    def __init__(self, device=None) -> None:
        self.device = device
        self._seed = int(np.random.SeedSequence().entropy % (2**63))
        self._gen = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed: int) -> Generator:
        self._seed = int(seed)
        self._gen = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        self.manual_seed(int(np.random.SeedSequence().entropy % (2**63)))
        return self._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        return self._gen.bit_generator.state

    def set_state(self, state: dict) -> None:
        self._gen.bit_generator.state = state


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed every random op (init, dropout, rand) for reproducible runs."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def _generator(generator) -> np.random.Generator:
    return default_generator._gen if generator is None else generator._gen
