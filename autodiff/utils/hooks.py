"""``RemovableHandle`` (torch.utils.hooks): what every ``register_*_hook`` returns."""

from __future__ import annotations


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods; ``remove()`` unregisters the hook (also a
    context manager: the hook is removed on exit)."""

    _next_id = 0

    def __init__(self, hooks: dict) -> None:
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def new_args_kwargs(result, what: str) -> tuple:
    """A pre-hook's non-None result, checked as PyTorch does: a pair (new_args, new_kwargs)."""
    if not (isinstance(result, tuple) and len(result) == 2):
        raise RuntimeError(f"{what} must return None or a tuple of (new_args, new_kwargs), but "
                           f"got {result}.")
    return result
