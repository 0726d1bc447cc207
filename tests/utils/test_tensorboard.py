"""SummaryWriter (torch.utils.tensorboard) writing TensorBoard event files itself: the records
decode (CRCs checked) to what was logged, and, when TensorBoard and PyTorch are installed,
TensorBoard's own reader sees the same scalars, histograms, images and text as from PyTorch's
writer."""

from __future__ import annotations

import glob
import os
import struct

import numpy as np
import pytest

import autodiff as ad
from autodiff.utils.tensorboard import SummaryWriter
from autodiff.utils.tensorboard import _records as rec

R = np.random.default_rng(0)
VALUES = R.standard_normal(1000).astype(np.float32)
IMAGE = R.random((3, 8, 10)).astype(np.float32)


def _events(log_dir):
    (path,) = glob.glob(os.path.join(log_dir, "events.out.tfevents.*"))
    with open(path, "rb") as f:
        return [dict(rec.parse(r)) for r in rec.read_records(f.read())]


def _values(event):
    return [dict(rec.parse(v)) for f, v in rec.parse(event[5]) if f == 1]


def test_scalars_decode_to_what_was_logged(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        for step in range(3):
            w.add_scalar("loss/train", ad.tensor(1.0 / (step + 1)), step)
        w.add_scalar("lr", 0.5, 7, walltime=123.0)
    events = _events(tmp_path)
    assert events[0][3] == b"brain.Event:2"
    logged = [(e[2], v[1], struct.unpack("<f", v[2])[0]) for e in events[1:] for v in _values(e)]
    assert logged == [(0, b"loss/train", 1.0), (1, b"loss/train", 0.5),
                      (2, b"loss/train", np.float32(1 / 3)), (7, b"lr", 0.5)]
    assert struct.unpack("<d", events[-1][1])[0] == 123.0


def test_records_are_checked(tmp_path):
    data = rec.record(b"payload")
    assert rec.read_records(data) == [b"payload"]
    with pytest.raises(ValueError, match="corrupt TFRecord"):
        rec.read_records(data[:-1] + bytes([data[-1] ^ 1]))
    assert rec.crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value


def test_add_scalars_writes_a_run_per_tag_and_default_log_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_exp")
    w.add_scalars("run/loss", {"train": 1.0, "val": 2.0}, 3)
    w.close()
    (log_dir,) = glob.glob("runs/*_exp")
    assert w.get_logdir() == log_dir
    for tag, want in (("train", 1.0), ("val", 2.0)):
        (v,) = _values(_events(os.path.join(log_dir, "run_loss_" + tag))[1])
        assert v[1] == b"run/loss" and struct.unpack("<f", v[2])[0] == want


def test_images_are_png(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        w.add_image("img", IMAGE, 0)
        w.add_images("batch", R.random((5, 1, 4, 4)), 0)
        w.add_image("hw", (IMAGE[0] * 255).astype(np.uint8), 0, dataformats="HW")
        with pytest.raises(ValueError, match="1, 3 or 4 channels"):
            w.add_image("bad", R.random((2, 4, 4)))
    sizes = []
    for e in _events(tmp_path)[1:]:
        (v,) = _values(e)
        image = dict(rec.parse(v[4]))
        assert image[4].startswith(b"\x89PNG\r\n\x1a\n")
        sizes.append((image[1], image[2], image[3]))
    assert sizes == [(8, 10, 3), (4, 20, 1), (8, 10, 1)]


def test_histogram_errors_and_purge_step(tmp_path):
    with SummaryWriter(str(tmp_path), purge_step=5) as w:
        with pytest.raises(ValueError, match="no element"):
            w.add_histogram("empty", np.zeros(0))
        w.add_histogram("w", VALUES, 1, bins=10, max_bins=4)
    events = _events(tmp_path)
    assert events[1][2] == 5 and dict(rec.parse(events[1][6])) == {1: 1}  # SessionLog START
    histo = dict(rec.parse(_values(events[2])[0][5]))
    counts = np.frombuffer(histo[7], dtype="<f8")
    assert counts.sum() == VALUES.size and struct.unpack("<d", histo[3])[0] == VALUES.size


def test_tensorboard_reads_what_pytorch_writes(tmp_path, torch):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    seen = {}
    for name, writer, tensor in (("ad", SummaryWriter, ad.tensor),
                                 ("torch", TorchWriter, torch.tensor)):
        log_dir = str(tmp_path / name)
        with writer(log_dir) as w:
            for step in range(3):
                w.add_scalar("loss", tensor(1.0 / (step + 1)), step)
            w.add_histogram("w", tensor(VALUES), 1)
            w.add_image("img", tensor(IMAGE), 0)
            w.add_text("note", "hello", 2)
        ea = EventAccumulator(log_dir, size_guidance={"images": 0, "histograms": 0,
                                                      "tensors": 0})
        ea.Reload()
        h = ea.Histograms("w")[0].histogram_value
        image = ea.Images("img")[0]
        seen[name] = (ea.Tags(), [(e.step, e.value) for e in ea.Scalars("loss")],
                      (h.min, h.max, h.num, h.sum, h.sum_squares, list(h.bucket_limit),
                       list(h.bucket)), (image.width, image.height),
                      list(ea.Tensors("note/text_summary")[0].tensor_proto.string_val))
    assert seen["ad"] == seen["torch"]


def test_figures(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    fig = plt.figure(figsize=(2, 1), dpi=20)
    with SummaryWriter(str(tmp_path)) as w:
        w.add_figure("fig", fig, 0)
    (v,) = _values(_events(tmp_path)[1])
    assert dict(rec.parse(v[4]))[3] == 4  # RGBA
