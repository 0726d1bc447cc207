"""``SummaryWriter``: torch.utils.tensorboard's writer, writing TensorBoard event files itself
(see _records), so logging needs neither TensorFlow nor TensorBoard; ``tensorboard --logdir
runs`` shows them as it shows PyTorch's."""

from __future__ import annotations

import datetime
import itertools
import os
import socket
import time
import warnings

import numpy as np

from . import _records as rec

_uid = itertools.count()


def _numpy(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach()
    if hasattr(x, "cpu"):
        x = x.cpu()
    if hasattr(x, "numpy"):
        x = x.numpy()
    return np.asarray(x)


def _scalar(x) -> float:
    a = _numpy(x)
    if a.size != 1:
        raise ValueError(f"scalar should be 0D or a single value, got an array of shape {a.shape}")
    return float(a.reshape(()))


def _tensorflow_bins() -> list:
    """TensorFlow's default histogram bucket limits (PyTorch's bins='tensorflow')."""
    v, pos = 1e-12, []
    while v < 1e20:
        pos.append(v)
        v *= 1.1
    return [-x for x in reversed(pos)] + [0] + pos


class _EventFile:
    """One events.out.tfevents file, records appended as they come, flushed every
    ``max_queue`` events or ``flush_secs`` seconds and on flush() / close()."""

    def __init__(self, log_dir: str, max_queue: int, flush_secs: float, suffix: str):
        os.makedirs(log_dir, exist_ok=True)
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
                f"{os.getpid()}.{next(_uid)}{suffix}")
        self.path = os.path.join(log_dir, name)
        self._file = open(self.path, "wb")  # noqa: SIM115 (closed by close())
        self._max_queue, self._flush_secs = max(1, int(max_queue)), flush_secs
        self._pending, self._last_flush = 0, time.time()
        self.write(rec.event(time.time(), file_version="brain.Event:2"))

    def write(self, event: bytes) -> None:
        self._file.write(rec.record(event))
        self._pending += 1
        if self._pending >= self._max_queue or time.time() - self._last_flush > self._flush_secs:
            self.flush()

    def flush(self) -> None:
        if not self._file.closed:
            self._file.flush()
        self._pending, self._last_flush = 0, time.time()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


class SummaryWriter:
    """Writes scalars, histograms, images, figures and text for TensorBoard to ``log_dir``
    (default ``runs/<Mon>DD_HH-MM-SS_<host><comment>``), as torch.utils.tensorboard does."""

    def __init__(self, log_dir: str | None = None, comment: str = "", purge_step=None,
                 max_queue: int = 10, flush_secs: int = 120, filename_suffix: str = ""):
        if not log_dir:
            now = datetime.datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", now + "_" + socket.gethostname() + comment)
        self.log_dir = str(log_dir)
        self._options = (max_queue, flush_secs, filename_suffix)
        self._file = _EventFile(self.log_dir, *self._options)
        self._sub_writers: dict[str, _EventFile] = {}
        self.default_bins = _tensorflow_bins()
        if purge_step is not None:  # SessionLog START: TensorBoard drops later steps it has
            self._file.write(rec.event(time.time(), int(purge_step))
                             + rec.field_bytes(6, rec.field_varint(1, 1)))

    def get_logdir(self) -> str:
        return self.log_dir

    def _write(self, value: bytes, global_step, walltime, file: _EventFile | None = None):
        step = None if global_step is None else int(_scalar(global_step))
        when = time.time() if walltime is None else float(walltime)
        (file or self._file).write(rec.event(when, step, [value]))

    def add_scalar(self, tag: str, scalar_value, global_step=None, walltime=None,
                   new_style: bool = False, double_precision: bool = False) -> None:
        self._write(rec.scalar_value(tag, _scalar(scalar_value)), global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step=None,
                    walltime=None) -> None:
        """Each scalar in a run of its own, ``log_dir/<main_tag>_<tag>``, under ``main_tag``."""
        for tag, value in tag_scalar_dict.items():
            sub = os.path.join(self.log_dir, main_tag.replace("/", "_") + "_" + tag)
            if sub not in self._sub_writers:
                self._sub_writers[sub] = _EventFile(sub, *self._options)
            self._write(rec.scalar_value(main_tag, _scalar(value)), global_step, walltime,
                        self._sub_writers[sub])

    def add_histogram(self, tag: str, values, global_step=None, bins="tensorflow",
                      walltime=None, max_bins=None) -> None:
        v = _numpy(values).astype(np.float64).reshape(-1)
        if v.size == 0:
            raise ValueError("The input has no element.")
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        counts, limits = np.histogram(v, bins=bins)
        if max_bins is not None and len(counts) > max_bins:  # merge neighbours, as PyTorch
            sub = len(counts) // max_bins
            pad = (-len(counts)) % sub
            counts = np.pad(counts, (0, pad)).reshape(-1, sub).sum(-1)
            limits = np.concatenate([limits[:-1][::sub], limits[-1:]])
        nonzero = np.flatnonzero(counts)  # PyTorch keeps the span of non-empty buckets
        start, end = (int(nonzero[0]), int(nonzero[-1]) + 1) if nonzero.size else (0, 1)
        kept = counts[start - 1:end] if start > 0 else np.concatenate([[0], counts[:end]])
        self._write(rec.histogram_value(tag, v.min(), v.max(), v.size, v.sum(), v.dot(v),
                                        limits[start:end + 1], kept), global_step, walltime)

    def add_image(self, tag: str, img_tensor, global_step=None, walltime=None,
                  dataformats: str = "CHW") -> None:
        self._write(_image_value(tag, _numpy(img_tensor), dataformats), global_step, walltime)

    def add_images(self, tag: str, img_tensor, global_step=None, walltime=None,
                   dataformats: str = "NCHW") -> None:
        """A batch of images laid out in a grid of 8 columns."""
        imgs = _to_layout(_numpy(img_tensor), dataformats, "NCHW")
        n, c, h, w = imgs.shape
        cols = min(n, 8)
        rows = -(-n // cols) if n else 0
        grid = np.zeros((c, h * rows, w * cols), dtype=imgs.dtype)
        for i in range(n):
            r, k = divmod(i, cols)
            grid[:, r * h:(r + 1) * h, k * w:(k + 1) * w] = imgs[i]
        self._write(_image_value(tag, grid, "CHW"), global_step, walltime)

    def add_figure(self, tag: str, figure, global_step=None, close: bool = True,
                   walltime=None) -> None:
        """A matplotlib figure (or a list of them, as a batch) rendered to RGBA."""
        figures = figure if isinstance(figure, list) else [figure]
        images = []
        for fig in figures:
            fig.canvas.draw()
            images.append(np.asarray(fig.canvas.buffer_rgba()).copy())
            if close:
                import matplotlib.pyplot as plt

                plt.close(fig)
        if isinstance(figure, list):
            self.add_images(tag, np.stack(images), global_step, walltime, dataformats="NHWC")
        else:
            self.add_image(tag, images[0], global_step, walltime, dataformats="HWC")

    def add_text(self, tag: str, text_string: str, global_step=None, walltime=None) -> None:
        self._write(rec.text_value(tag + "/text_summary", text_string), global_step, walltime)

    def add_graph(self, model, input_to_model=None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        warnings.warn("SummaryWriter.add_graph: autodiff has no graph tracer for TensorBoard's "
                      "graph view; nothing was written", UserWarning, stacklevel=2)

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None,
                    run_name=None, global_step=None) -> None:
        raise NotImplementedError("SummaryWriter.add_hparams: the hparams plugin's records are "
                                  "not written by autodiff; log the metrics with add_scalar")

    def flush(self) -> None:
        for f in (self._file, *self._sub_writers.values()):
            f.flush()

    def close(self) -> None:
        for f in (self._file, *self._sub_writers.values()):
            f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _to_layout(a: np.ndarray, given: str, want: str) -> np.ndarray:
    given = given.upper()
    if a.ndim != len(given):
        raise ValueError(f"dataformats {given!r} needs a {len(given)}-D image, got shape "
                         f"{a.shape}")
    for d in want:
        if d not in given:
            a, given = a[..., None] if d == "C" else a[None], given + d if d == "C" else d + given
    return a.transpose([given.index(d) for d in want])


def _image_value(tag: str, img: np.ndarray, dataformats: str) -> bytes:
    """PyTorch's conversion: to HWC; float images in [0, 1] scaled by 255; grey or RGB(A)."""
    hwc = _to_layout(img, dataformats, "HWC")
    if hwc.shape[-1] not in (1, 3, 4):
        raise ValueError(f"an image needs 1, 3 or 4 channels, got shape {img.shape} "
                         f"({dataformats})")
    scale = 1 if hwc.dtype == np.uint8 else 255
    pixels = np.clip(hwc.astype(np.float64) * scale, 0, 255).astype(np.uint8)
    h, w, c = pixels.shape
    return rec.image_value(tag, h, w, c, rec.png(np.ascontiguousarray(pixels)))
