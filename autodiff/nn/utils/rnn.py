"""nn.utils.rnn: variable-length sequences for recurrent layers, as ``torch.nn.utils.rnn``.

``pad_sequence`` / ``unpad_sequence`` turn a list of sequences into one padded batch and back;
``pack_padded_sequence`` / ``pad_packed_sequence`` / ``pack_sequence`` / ``unpack_sequence``
build and undo a :class:`PackedSequence`, which ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU`` accept.

Every conversion is one differentiable gather (``x[index]``) over index arrays computed in
NumPy from the lengths, so gradients flow from packed data back to the padded input and
back again.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ... import creation, ops
from ...errors import ShapeError
from ...tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]


class _PackedSequenceFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedSequenceFields):
    """The time steps of a batch of sequences, packed: ``data`` holds, for t = 0, 1, ..., the
    step t of every sequence that is longer than t (longest first), and ``batch_sizes[t]``
    says how many there are. ``sorted_indices`` maps the packed order to the caller's batch
    order (None when the sequences came sorted), ``unsorted_indices`` is its inverse.

    Build one with :func:`pack_padded_sequence` or :func:`pack_sequence`, not by hand.

    Shape:
        data (sum(lengths), *); batch_sizes (max(lengths),) int64 on the CPU; sorted_indices and
        unsorted_indices (N,) int64 on the device of ``data``.

    Example:
        >>> p = pack_sequence([ad.tensor([1, 2, 3]), ad.tensor([4, 5])])
        >>> p.data, p.batch_sizes
        (tensor([1, 4, 2, 5, 3]), tensor([2, 2, 1]))
    """

    def __new__(cls, data: Tensor, batch_sizes: Tensor | None = None,
                sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PackedSequence((data, batch_sizes), sorted_indices)
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise TypeError("PackedSequence: expected (data, batch_sizes) or a (data, "
                                "batch_sizes) pair as the first argument")
            data, batch_sizes = data
        if getattr(batch_sizes, "device", None) is not None and batch_sizes.device.type == "cuda":
            raise ValueError("PackedSequence: batch_sizes should always be on the CPU; build a "
                             "PackedSequence with pack_padded_sequence or pack_sequence")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """``data.to(*args, **kwargs)``; the indices follow data's device, batch_sizes stays on
        the CPU. Returns ``self`` when data is unchanged."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        dev = data.device
        move = None if self.sorted_indices is None else self.sorted_indices.to(dev)
        back = None if self.unsorted_indices is None else self.unsorted_indices.to(dev)
        return type(self)(data, self.batch_sizes, move, back)

    def double(self) -> PackedSequence:
        return self.to(dtype=_dtype("float64"))

    def float(self) -> PackedSequence:
        return self.to(dtype=_dtype("float32"))

    def cpu(self) -> PackedSequence:
        return self.to("cpu") if self.data.device.type == "cuda" else self

    @property
    def is_cuda(self) -> bool:
        return self.data.device.type == "cuda"


def _dtype(name: str):
    from ... import dtypes

    return getattr(dtypes, name)


def _host_device(t: Tensor):
    """Where index tensors of ``t`` such as batch_sizes live: its device when that is a CPU,
    else the default CPU device."""
    return "cpu" if t.device.type == "cuda" else t.device


def _as_int_array(x) -> np.ndarray:
    """``x`` (a Tensor, list or array of integers) as an int64 NumPy array."""
    if isinstance(x, Tensor):
        x = x.detach().cpu() if x.device.type == "cuda" else x.detach()
        arr = x.numpy()
    else:
        arr = np.asarray(x)
    return arr.astype(np.int64, copy=False)


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a 1-D permutation of 0..N-1 (None gives None)."""
    if permutation is None:
        return None
    perm = _as_int_array(permutation)
    inv = np.empty_like(perm)
    inv[perm] = np.arange(perm.size, dtype=np.int64)
    return creation.tensor(inv, device=permutation.device)


def _pack_index(batch_sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(time, batch) of every row of packed data, in packed order."""
    steps = np.arange(batch_sizes.size, dtype=np.int64)
    time = np.repeat(steps, batch_sizes)
    offsets = np.cumsum(batch_sizes) - batch_sizes
    batch = np.arange(time.size, dtype=np.int64) - np.repeat(offsets, batch_sizes)
    return time, batch


def _unpack_index(batch_sizes: np.ndarray, total_length: int) -> np.ndarray:
    """(total_length, N) rows of packed data for each (time, batch) slot; ``sum(batch_sizes)``
    (one past the last row) where a slot is padding."""
    n = int(batch_sizes[0])
    time, batch = _pack_index(batch_sizes)
    index = np.full((total_length, n), time.size, dtype=np.int64)
    index[time, batch] = np.arange(time.size, dtype=np.int64)
    return index


def _gather_padded(data: Tensor, index: np.ndarray, padding_value: float) -> Tensor:
    """``data[index]``, where an index of ``len(data)`` reads ``padding_value``."""
    if np.any(index == data.shape[0]):
        pad = creation.full((1, *data.shape[1:]), padding_value, dtype=data.dtype,
                            device=data.device)
        data = ops.cat([data, pad], 0)
    return data[index]


def _lengths_of(batch_sizes: np.ndarray) -> np.ndarray:
    """The length of each sequence, in packed (sorted) order."""
    n = int(batch_sizes[0])
    return (batch_sizes[None, :] > np.arange(n)[:, None]).sum(1).astype(np.int64)


def _check_lengths(lengths: np.ndarray, input: Tensor, batch_first: bool,
                   enforce_sorted: bool) -> None:
    if lengths.ndim != 1:
        raise ShapeError(f"pack_padded_sequence: 'lengths' argument should be a 1D CPU int64 "
                         f"tensor, but got {lengths.ndim}D with shape {lengths.shape}")
    if input.numel() == 0:
        raise ShapeError(f"pack_padded_sequence: Cannot pack empty tensors (input of shape "
                         f"{tuple(input.shape)})")
    batch, steps = (input.shape[0], input.shape[1]) if batch_first else input.shape[1::-1]
    if lengths.size != batch:
        raise ShapeError(f"pack_padded_sequence: Expected `len(lengths)` to be equal to "
                         f"batch_size, but got {lengths.size} (batch_size={batch}) for input "
                         f"of shape {tuple(input.shape)}")
    if lengths[-1] <= 0:  # the shortest, once sorted (as PyTorch checks it)
        raise ShapeError("pack_padded_sequence: Length of all samples has to be greater than "
                         "0, but found an element in 'lengths' that is <= 0")
    if enforce_sorted and np.any(lengths[1:] > lengths[:-1]):
        raise ShapeError(f"pack_padded_sequence: `lengths` array must be sorted in decreasing "
                         f"order when `enforce_sorted` is True, got {lengths.tolist()}. You can "
                         f"pass `enforce_sorted=False` to pack_padded_sequence and/or "
                         f"pack_sequence to sidestep this requirement if you do not need ONNX "
                         f"exportability.")
    if lengths.max() > steps:
        raise ShapeError(f"pack_padded_sequence: a length of {int(lengths.max())} is longer "
                         f"than the {steps} time steps of input of shape {tuple(input.shape)} "
                         f"(batch_first={batch_first})")


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch of variable-length sequences.

    Args:
        input: padded sequences, (T, N, *) or (N, T, *) with ``batch_first``.
        lengths: the length of each sequence (a list or 1-D integer tensor), all > 0.
        batch_first: whether ``input`` is (N, T, *).
        enforce_sorted: require lengths in decreasing order; when False the sequences are
            sorted here and ``sorted_indices`` records how.

    Returns:
        A :class:`PackedSequence`; gradients of its ``data`` flow back to ``input``.

    Shape:
        input (T, N, *) -> data (sum(lengths), *), batch_sizes (max(lengths),).

    Example:
        >>> x = ad.randn(4, 3, 2)
        >>> pack_padded_sequence(x, [2, 4, 3], enforce_sorted=False).batch_sizes
        tensor([3, 3, 2, 1])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pack_padded_sequence: expected input to be a Tensor, got "
                        f"{type(input).__name__}")
    if input.ndim < 2:
        raise ShapeError(f"pack_padded_sequence: expected input of shape (T, N, *) or (N, T, "
                         f"*) with at least 2 dims, got shape {tuple(input.shape)}")
    lengths = _as_int_array(lengths)
    sorted_indices = None
    order = np.arange(lengths.size, dtype=np.int64) if lengths.ndim == 1 else None
    if not enforce_sorted and lengths.ndim == 1:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
        sorted_indices = creation.tensor(order, device=input.device)
    _check_lengths(lengths, input, batch_first, enforce_sorted)
    batch_sizes = (lengths[None, :] > np.arange(int(lengths[0]))[:, None]).sum(1)
    time, batch = _pack_index(batch_sizes)
    data = input[(order[batch], time) if batch_first else (time, order[batch])]
    sizes = creation.tensor(batch_sizes.astype(np.int64), device=_host_device(input))
    return PackedSequence(data, sizes, sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Undo :func:`pack_padded_sequence`: the padded batch, in the caller's original order.

    Args:
        sequence: a :class:`PackedSequence`.
        batch_first: return (N, T, *) instead of (T, N, *).
        padding_value: the value of the padded slots.
        total_length: pad to this many steps (at least the longest length).

    Returns:
        (padded, lengths): the padded tensor and an int64 tensor of the sequence lengths.

    Shape:
        data (sum(lengths), *) -> padded (T, N, *), lengths (N,).

    Example:
        >>> p = pack_sequence([ad.tensor([1, 2, 3]), ad.tensor([4, 5])])
        >>> pad_packed_sequence(p, batch_first=True)[0]
        tensor([[1, 2, 3],
                [4, 5, 0]])
    """
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected a PackedSequence, got "
                        f"{type(sequence).__name__}")
    data = sequence.data
    batch_sizes = _as_int_array(sequence.batch_sizes)
    steps = batch_sizes.size
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"pad_packed_sequence: Expected total_length to be at least the "
                             f"length of the longest sequence in input, but got total_length="
                             f"{total_length} and max sequence length being {steps}")
        steps = int(total_length)
    index = _unpack_index(batch_sizes, steps)
    lengths = _lengths_of(batch_sizes)
    if sequence.unsorted_indices is not None:
        back = _as_int_array(sequence.unsorted_indices)
        index, lengths = index[:, back], lengths[back]
    if batch_first:
        index = index.T
    padded = _gather_padded(data, index, padding_value)
    return padded, creation.tensor(lengths, device=_host_device(sequence.data))


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors of shapes (L_i, *) into (B, L_max, *) (batch_first) or (L_max, B, *),
    filling with ``padding_value`` after (``padding_side='right'``) or before each."""
    seqs = list(sequences)
    if not seqs:
        raise ValueError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got "
                         f"{padding_side!r}")
    longest = max(s.shape[0] for s in seqs)
    padded = []
    for s in seqs:
        gap = longest - s.shape[0]
        widths = [0, 0] * (s.ndim - 1) + ([0, gap] if padding_side == "right" else [gap, 0])
        padded.append(ops.pad(s, tuple(widths), value=padding_value) if gap else s)
    out = ops.stack(padded, 0)
    return out if batch_first else out.transpose(0, 1)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """The sequences of a right-padded batch, each cut to its length (``padded_sequences`` is
    not changed, unlike PyTorch, which transposes it in place when ``batch_first`` is False)."""
    padded = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [padded[i, : int(n)] for i, n in enumerate(_as_int_array(lengths))]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of tensors of shapes (L_i, *): ``pad_sequence`` then
    ``pack_padded_sequence``.

    Example:
        >>> pack_sequence([ad.tensor([1, 2]), ad.tensor([3, 4, 5])], enforce_sorted=False)
    """
    seqs = list(sequences)
    lengths = [s.shape[0] for s in seqs]
    return pack_padded_sequence(pad_sequence(seqs), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences (L_i, *) of a :class:`PackedSequence`, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
