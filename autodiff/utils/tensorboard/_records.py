"""TensorBoard's event-file format without TensorFlow or TensorBoard installed: the few
protobuf messages a SummaryWriter writes (Event, Summary, HistogramProto, Image, a string
TensorProto), encoded by hand, framed as TFRecords (length, masked CRC-32C, data, masked
CRC-32C), and PNG encoding for images. ``read_events`` decodes what ``event_record`` wrote."""

from __future__ import annotations

import struct
import zlib

import numpy as np


# ----------------------------------------------------------------------------- protobuf
def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64s are ten-byte two's complement, as protobuf
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def field_varint(field: int, n: int) -> bytes:
    return _key(field, 0) + _varint(int(n))


def field_double(field: int, x: float) -> bytes:
    return _key(field, 1) + struct.pack("<d", float(x))


def field_float(field: int, x: float) -> bytes:
    return _key(field, 5) + struct.pack("<f", float(x))


def field_bytes(field: int, data) -> bytes:
    data = data.encode() if isinstance(data, str) else bytes(data)
    return _key(field, 2) + _varint(len(data)) + data


def field_packed_doubles(field: int, xs) -> bytes:
    return field_bytes(field, np.asarray(xs, dtype="<f8").tobytes())


def event(wall_time: float, step: int | None = None, summary_values=(), file_version=None):
    """An Event message: wall_time, step, and a Summary of already-encoded Values."""
    msg = field_double(1, wall_time)
    if step is not None:
        msg += field_varint(2, step)
    if file_version is not None:
        msg += field_bytes(3, file_version)
    if summary_values:
        msg += field_bytes(5, b"".join(field_bytes(1, v) for v in summary_values))
    return msg


def scalar_value(tag: str, x: float) -> bytes:
    return field_bytes(1, tag) + field_float(2, x)


def histogram_value(tag: str, lo, hi, num, total, sum_squares, limits, counts) -> bytes:
    histo = (field_double(1, lo) + field_double(2, hi) + field_double(3, num)
             + field_double(4, total) + field_double(5, sum_squares)
             + field_packed_doubles(6, limits) + field_packed_doubles(7, counts))
    return field_bytes(1, tag) + field_bytes(5, histo)


def image_value(tag: str, height: int, width: int, channels: int, png: bytes) -> bytes:
    image = (field_varint(1, height) + field_varint(2, width) + field_varint(3, channels)
             + field_bytes(4, png))
    return field_bytes(1, tag) + field_bytes(4, image)


def text_value(tag: str, text: str) -> bytes:
    """The text plugin's form: a DT_STRING tensor of shape (1,) with plugin metadata."""
    metadata = field_bytes(1, field_bytes(1, "text"))  # plugin_data { plugin_name }
    shape = field_bytes(2, field_varint(1, 1))  # dim { size: 1 }
    tensor = field_varint(1, 7) + field_bytes(2, shape) + field_bytes(8, text)
    return field_bytes(1, tag) + field_bytes(8, tensor) + field_bytes(9, metadata)


# ----------------------------------------------------------------------------- records
def _crc32c_table() -> list:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    c = 0xFFFFFFFF
    table = _CRC_TABLE
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def _masked(data: bytes) -> bytes:
    c = crc32c(data)
    return struct.pack("<I", (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF)


def record(data: bytes) -> bytes:
    """One TFRecord: the framing TensorBoard reads event files with."""
    length = struct.pack("<Q", len(data))
    return length + _masked(length) + data + _masked(data)


def read_records(raw: bytes) -> list:
    """The payloads of a file of TFRecords, each checked against its CRCs."""
    out, pos = [], 0
    while pos < len(raw):
        length = raw[pos:pos + 8]
        (n,) = struct.unpack("<Q", length)
        data = raw[pos + 12:pos + 12 + n]
        if raw[pos + 8:pos + 12] != _masked(length) or raw[pos + 12 + n:pos + 16 + n] != \
                _masked(data):
            raise ValueError(f"corrupt TFRecord at byte {pos}")
        out.append(data)
        pos += 16 + n
    return out


def parse(msg: bytes) -> list:
    """A protobuf message as [(field, value)]: ints for varints, bytes for the rest."""
    out, pos = [], 0
    while pos < len(msg):
        key, pos = _read_varint(msg, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(msg, pos)
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, pos = msg[pos:pos + size], pos + size
        elif wire == 2:
            n, pos = _read_varint(msg, pos)
            value, pos = msg[pos:pos + n], pos + n
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        out.append((field, value))
    return out


def _read_varint(msg: bytes, pos: int):
    shift = result = 0
    while True:
        b = msg[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, pos


# ----------------------------------------------------------------------------- PNG
def png(pixels: np.ndarray) -> bytes:
    """PNG bytes of a uint8 (H, W, C) image, C in 1 (grey), 3 (RGB) or 4 (RGBA)."""
    h, w, c = pixels.shape
    color = {1: 0, 3: 2, 4: 6}[c]
    rows = np.concatenate([np.zeros((h, 1), np.uint8), pixels.reshape(h, w * c)], axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows.tobytes())) + chunk(b"IEND", b""))
