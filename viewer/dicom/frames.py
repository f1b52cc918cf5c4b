"""Frame access: the number of frames and frame *i* decoded on demand.

>>> src = open_frames("ct.dcm")
>>> src.num_frames, src.frame(0).shape

What :meth:`FrameSource.frame` returns
-------------------------------------
Stored pixel values (PS3.3 C.7.6.3), before any Modality LUT: bits above High Bit masked,
signed values sign-extended, as ``(rows, cols)`` for one sample per pixel or
``(rows, cols, samples)`` (always colour-by-pixel, whatever the Planar Configuration).

Colour is returned in the interpretation :attr:`FrameSource.photometric` names, which is
``RGB`` for every YBR input: native YBR_FULL is converted here, native YBR_FULL_422 and
every compressed syntax go through pydicom's decode runner, which knows whether the plugin
(Pillow, libjpeg, openjpeg) already produced RGB (JPEG baseline YBR_FULL_422, JPEG 2000
YBR_ICT/YBR_RCT) and converts only what is still YCbCr. Nothing converts twice. PALETTE
COLOR frames are palette indices; :mod:`viewer.render` applies the palette.

Reading
-------
Uncompressed files are read with the Pixel Data value deferred, and each frame's bytes are
read from the file on demand; encapsulated data decodes only the fragments of frame *i*.
A short Pixel Data is rendered as far as it goes and reported in :attr:`FrameSource.warnings`.
"""

from __future__ import annotations

import logging
import os
import struct
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydicom.dataelem import RawDataElement
from pydicom.errors import BytesLengthException

from viewer.dicom import pixeldata as _px
from viewer.errors import DecodeError, ReadError, ViewerError

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

log = logging.getLogger(__name__)

__all__ = ["FrameSource", "open_frames", "read_dataset"]

#: Elements larger than this are left in the file until needed (pydicom ``defer_size``).
DEFER_SIZE = 256 * 1024
#: Largest decoded frame (bytes) the viewer makes; larger declared frames are refused.
MAX_FRAME_BYTES = 1024 ** 3
#: Missing native pixel bytes shown as 0 at most (or as many as the frame holds, if more).
MAX_ZERO_FILL = 16 * 1024 ** 2

_PIXEL_DATA = 0x7FE00010
_FLOAT_PIXEL_DATA = (0x7FE00008, 0x7FE00009)


def read_dataset(path: str | os.PathLike[str], defer: bool = True) -> Dataset:
    """Read a DICOM file (Part 10, or a raw dataset without File Meta) with pydicom.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
    defer : bool
        Leave large values (Pixel Data) in the file until they are needed.

    Returns
    -------
    pydicom.dataset.FileDataset

    Raises
    ------
    ReadError
        If the file is missing, empty, truncated in its header or not DICOM at all.
    """
    from pydicom.errors import InvalidDicomError

    from viewer.dicom.bounded_io import BudgetExceeded, InflateLimit, dcmread_bounded

    p = Path(path)
    if not p.is_file():
        raise ReadError(f"{p}: no such file" if not p.exists() else f"{p}: not a file", path=str(p))
    size = p.stat().st_size
    if size == 0:
        raise ReadError(f"{p}: empty file (0 bytes)", path=str(p))
    kwargs: dict[str, Any] = {"defer_size": DEFER_SIZE} if defer else {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            try:
                # Bounded: a deflate bomb is refused, not inflated whole; gigabytes of empty
                # elements end after a budget of reads.
                ds = dcmread_bounded(p, **kwargs)
            except InvalidDicomError:
                # PS3.10 7.1: a Part 10 file starts with a 128-byte preamble and "DICM". Raw
                # datasets (e.g. from old media) lack it; accept them only if they parse into
                # something with recognisable image/patient attributes.
                ds = dcmread_bounded(p, force=True, **kwargs)
                if not _looks_like_dicom(ds):
                    raise ReadError(f"{p}: not a DICOM file", path=str(p)) from None
                _guess_transfer_syntax(ds)
        except ReadError:
            raise
        except (BudgetExceeded, InflateLimit) as exc:
            raise ReadError(f"{p}: refused: {exc}", path=str(p)) from None
        except (OSError, EOFError) as exc:
            raise ReadError(f"{p}: cannot read: {exc}", path=str(p)) from None
        except Exception as exc:  # noqa: BLE001 - pydicom raises many types on malformed input
            raise ReadError(f"{p}: not readable as DICOM ({type(exc).__name__}: {exc})", path=str(p)) from None
    truncated = [str(w.message).split(" in file ")[0] for w in caught
                 if "End of file" in str(w.message) or "delimiter" in str(w.message)]
    if len(ds) == 0:
        if truncated:
            raise ReadError(f"{p}: truncated file, no data element could be read ({truncated[0]})", path=str(p))
        if size <= 132 + 8:
            raise ReadError(f"{p}: only a preamble, no DICOM data set", path=str(p))
        raise ReadError(f"{p}: no data element could be read after the File Meta header "
                        "(truncated or corrupt file)", path=str(p))
    if truncated:
        log.warning("%s: truncated file (%s)", p, truncated[0])
    ds._viewer_read_problems = truncated  # read by FrameSource for its messages
    return ds


def _looks_like_dicom(ds: Dataset) -> bool:
    try:
        tags = [int(t) for t in ds.keys()]
    except Exception:  # noqa: BLE001 - whatever pydicom raises on it, it is not DICOM
        return False
    if not tags:
        return False
    known = {0x00080016, 0x00080018, 0x00100010, 0x00280010, _PIXEL_DATA, 0x0020000D}
    return sum(t in known for t in tags) >= 2 and all(t >= 0x00080000 for t in tags[:1])


def _guess_transfer_syntax(ds: Dataset) -> None:
    """Set File Meta Transfer Syntax from how pydicom parsed a raw dataset (PS3.5 A.1/A.2)."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

    if getattr(ds, "file_meta", None) is None:
        ds.file_meta = FileMetaDataset()
    if "TransferSyntaxUID" in ds.file_meta:
        return
    implicit = getattr(ds, "is_implicit_VR", None)
    little = getattr(ds, "is_little_endian", True)
    if implicit is None:
        implicit, little = ds.original_encoding if hasattr(ds, "original_encoding") else (True, True)
    ds.file_meta.TransferSyntaxUID = (ImplicitVRLittleEndian if implicit else
                                      ExplicitVRLittleEndian if little else ExplicitVRBigEndian)


def open_frames(source: str | os.PathLike[str] | Dataset) -> FrameSource:
    """Open the frames of a DICOM image.

    Parameters
    ----------
    source : str, os.PathLike or pydicom.dataset.Dataset
        A file path, or a dataset already read (it is not modified). A dataset read
        without its pixels (``stop_before_pixels``) is read again from its file.

    Returns
    -------
    FrameSource

    Raises
    ------
    ReadError
        If a path cannot be read as DICOM.
    DecodeError
        If the dataset has no image, or its Image Pixel module is inconsistent, or no
        installed decoder handles its transfer syntax (the message names what to install).
    """
    if isinstance(source, (str, os.PathLike)):
        ds = read_dataset(source)
        path: str | None = str(source)
    else:
        ds = source
        name = getattr(source, "filename", None)
        path = name if isinstance(name, str) and os.path.isfile(name) else None
        if path and _PIXEL_DATA not in ds and not any(t in ds for t in _FLOAT_PIXEL_DATA):
            ds = read_dataset(path)  # a header read with stop_before_pixels: read the file again
    try:
        return FrameSource(ds, path=path)
    except DecodeError as exc:
        if path and not str(exc).startswith(path):
            raise DecodeError(f"{path}: {exc}") from None
        raise
    except ViewerError:
        raise
    except (NotImplementedError, ValueError, TypeError, struct.error, BytesLengthException) as exc:
        # An Image Pixel attribute whose value cannot be decoded with its VR (unknown VR,
        # wrong length for the VR: a damaged header) fails when pydicom converts it.
        raise DecodeError(f"{path or 'dataset'}: damaged image attribute: "
                          f"{str(exc).splitlines()[0].split(' To replace this error')[0]}") from None


def decoder_reason(exc: BaseException) -> str:
    """A decoder failure in one line, with its reason.

    pydicom reports plugin failures as "Unable to decode as exceptions were raised by all
    available plugins:" followed by one "  plugin: Error: reason" line per plugin; those
    lines are the reason, so they are joined, not cut off.
    """
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    if len(lines) > 1 and lines[0].endswith(":"):
        return "; ".join(lines[1:])
    return " ".join(lines)


class FrameSource:
    """The frames of one image; decodes frame *i* on demand without decoding the others.

    Attributes
    ----------
    dataset : pydicom.dataset.Dataset
        The data set (Pixel Data may still be deferred in the file).
    num_frames : int
        Number of frames (Number of Frames, or 1).
    warnings : list of str
        Problems found while decoding that did not stop it (short Pixel Data, ...).
    """

    def __init__(self, ds: Dataset, path: str | None = None) -> None:
        self.dataset = ds
        self.path = path
        self.warnings: list[str] = []
        self._float = any(t in ds for t in _FLOAT_PIXEL_DATA) and _PIXEL_DATA not in ds
        problems = list(getattr(ds, "_viewer_read_problems", []) or [])
        if _PIXEL_DATA not in ds and not self._float:
            if problems:
                raise DecodeError(f"no Pixel Data (7FE0,0010): the file is truncated ({problems[0]})")
            if "Rows" in ds and "Columns" in ds:
                raise DecodeError("no Pixel Data (7FE0,0010) although Rows and Columns are set: "
                                  "the file is probably truncated")
            raise DecodeError("no Pixel Data (7FE0,0010) in this data set: nothing to display")
        for problem in problems:
            self.warnings.append(f"the file is truncated ({problem}); the image may be incomplete")
        self.geometry = _px.geometry(ds)
        self.num_frames: int = self.geometry.num_frames
        meta = getattr(ds, "file_meta", None)
        ts = meta.get("TransferSyntaxUID", None) if meta is not None else None
        if ts is None:
            implicit = getattr(ds, "is_implicit_VR", True)
            little = getattr(ds, "is_little_endian", True)
            ts = ("1.2.840.10008.1.2" if implicit is not False else
                  "1.2.840.10008.1.2.1" if little is not False else _px.BIG_ENDIAN)
        self.transfer_syntax: str = str(ts)
        self.native = self.transfer_syntax in _px.NATIVE_SYNTAXES
        self._plugin = ""
        if not self.native:
            from viewer.dicom._codecs import choose_plugin

            self._plugin = choose_plugin(self.transfer_syntax)
        self._big_endian = self.transfer_syntax == _px.BIG_ENDIAN
        self._buffer: bytes | None = None
        self._file_range: tuple[int, int] | None = None
        self._available = 0
        self._pixel_vr = ""
        self._dds: Dataset | None = None
        if self.native and not self._float:
            self._locate_native()
        elif not self._float:
            msg = _px.encapsulated_warning(self._decode_dataset().PixelData)
            if msg:
                self._warn(msg)
        g = self.geometry
        self.photometric: str = "RGB" if g.samples == 3 and g.photometric.startswith("YBR") else g.photometric

    # ------------------------------------------------------------------ properties
    @property
    def rows(self) -> int:
        """Rows of every frame."""
        return self.geometry.rows

    @property
    def columns(self) -> int:
        """Columns of every frame."""
        return self.geometry.columns

    @property
    def samples(self) -> int:
        """Samples per pixel (1 or 3)."""
        return self.geometry.samples

    def __len__(self) -> int:
        return self.num_frames

    def __repr__(self) -> str:
        g = self.geometry
        return (f"FrameSource({self.path or 'dataset'}, {self.num_frames} x {g.rows}x{g.columns}x{g.samples}, "
                f"{g.photometric}, {g.bits_stored}/{g.bits_allocated} bits, {self.transfer_syntax})")

    # ------------------------------------------------------------------ native
    def _locate_native(self) -> None:
        """Find the Pixel Data bytes: in the file (deferred) or in memory; check length."""
        elem = self.dataset.get_item(_PIXEL_DATA, keep_deferred=True)
        self._pixel_vr = str(getattr(elem, "VR", "") or "")
        # A deferred value is a raw element without a value: its bytes are still in the file.
        if (isinstance(elem, RawDataElement) and elem.value is None and self.path
                and self.transfer_syntax != _px.DEFLATED):
            start = int(elem.value_tell)
            file_size = os.path.getsize(self.path)
            length = int(elem.length) if elem.length != 0xFFFFFFFF else file_size - start
            self._available = max(0, min(length, file_size - start))
            self._file_range = (start, self._available)
        else:
            try:
                value = self.dataset.PixelData
            except Exception as exc:  # noqa: BLE001 - a deferred value whose file is gone or cut
                raise ReadError(f"{self.path or 'dataset'}: cannot read Pixel Data: {exc}", path=self.path) from None
            if value is None:
                value = b""
            self._buffer = bytes(value) if not isinstance(value, bytes) else value
            self._available = len(self._buffer)
        msg = _px.length_warning(self._available, self.geometry)
        if msg:
            self._warn(msg)

    def _warn(self, msg: str) -> None:
        if msg not in self.warnings:
            self.warnings.append(msg)
            log.warning("%s: %s", self.path or "dataset", msg)

    def _read_bytes(self, start: int, length: int) -> bytes:
        """Bytes [start, start+length) of the Pixel Data value, short if the data ends."""
        length = max(0, min(length, self._available - start))
        if length <= 0:
            return b""
        if self._buffer is not None:
            return self._buffer[start:start + length]
        assert self._file_range is not None and self.path is not None
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self._file_range[0] + start)
                return fh.read(length)
        except OSError as exc:  # the file went away or became unreadable since it was opened
            raise ReadError(f"{self.path}: cannot read pixel data: {exc.strerror or exc}", path=self.path) from None

    def _read_frame_bytes(self, start: int, length: int) -> bytearray:
        """Bytes [start, start+length) of the Pixel Data, zero-padded to ``length`` if the data
        ends early (empty if none is there), read straight into one writable buffer.

        The frame's array is a view of it: no second copy of the frame (reading ``bytes``
        and copying them to a writable array would cost twice the frame).
        """
        length = max(0, length)
        present = max(0, min(length, self._available - start))
        if present <= 0:
            return bytearray()
        buf = bytearray(length)  # zero-filled: the padding of a short frame
        if self._buffer is not None:
            buf[:present] = memoryview(self._buffer)[start:start + present]
            return buf
        assert self._file_range is not None and self.path is not None
        view = memoryview(buf)
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self._file_range[0] + start)
                done = 0
                while done < present:
                    n = fh.readinto(view[done:present])
                    if not n:
                        break  # the file shrank since it was opened: the rest stays zero
                    done += n
        except OSError as exc:  # the file went away or became unreadable since it was opened
            raise ReadError(f"{self.path}: cannot read pixel data: {exc.strerror or exc}", path=self.path) from None
        if not done:
            return bytearray()
        return buf

    def _native_frame(self, index: int) -> np.ndarray:
        g = self.geometry
        if _px.fast_path_ok(g):
            start, length = _px.frame_byte_range(index, g)
            big_endian = self._big_endian
            chunk: bytes | bytearray
            if big_endian and g.bits_allocated == 8:
                chunk = self._read_8bit_big_endian(start, length)
                big_endian = False
                if len(chunk) < length and chunk:
                    chunk = chunk + bytes(length - len(chunk))
            else:
                chunk = self._read_frame_bytes(start, length)
            if len(chunk) == 0:
                raise DecodeError(f"frame {index + 1} has no pixel data: Pixel Data ends at byte "
                                  f"{self._available}, the frame starts at byte {start}")
            arr = _px.read_native_frame(chunk, g, big_endian)
            if g.samples == 3 and g.photometric == "YBR_FULL":
                from pydicom.pixels.processing import convert_color_space

                arr = convert_color_space(arr, "YBR_FULL", "RGB")  # PS3.3 C.7.6.3.1.2
            return arr
        return self._pydicom_native(index)

    def _read_8bit_big_endian(self, start: int, length: int) -> bytes:
        """Frame bytes of 8-bit data in Explicit VR Big Endian.

        As OW, the bytes are 16-bit words in big-endian order, so each pair is swapped
        relative to the pixel order (PS3.5 A.3); as OB they are in pixel order.
        """
        if self._pixel_vr != "OW":
            return self._read_bytes(start, length)
        first = start - start % 2
        span = self._read_bytes(first, length + (start - first) + 1)
        span += bytes(len(span) % 2)
        swapped = np.frombuffer(span, ">u2").astype("<u2").tobytes()
        return swapped[start - first:start - first + length]

    def _pydicom_native(self, index: int) -> np.ndarray:
        """pydicom's native decoder for 1-bit, YBR_FULL_422 and big-endian 8-bit data."""
        from pydicom.pixels.decoders.base import get_decoder

        g = self.geometry
        bits = g.frame_bits
        start_bit, end_bit = index * bits, (index + 1) * bits
        first, last = start_bit // 8, -(-end_bit // 8)
        # Hand pydicom the whole-byte span holding this frame, padded if the data is short,
        # as a one-frame buffer; for unaligned 1-bit frames keep the leading bits.
        if g.bits_allocated == 1 and start_bit % 8:
            chunk = self._read_bytes(first, last - first + 1)
            need = last - first + 1
            offset_bits = start_bit % 8
            if len(chunk) < need:
                chunk += bytes(need - len(chunk))
            bitsarr = np.unpackbits(np.frombuffer(chunk, np.uint8), bitorder="little")
            return np.array(bitsarr[offset_bits:offset_bits + g.rows * g.columns].reshape(g.rows, g.columns))
        chunk = self._read_bytes(first, last - first)
        if not chunk:
            raise DecodeError(f"frame {index + 1} has no pixel data: Pixel Data ends at byte {self._available}")
        if len(chunk) < last - first:
            chunk += bytes(last - first - len(chunk))
        opts: dict[str, Any] = dict(rows=g.rows, columns=g.columns, samples_per_pixel=g.samples,
                                    bits_allocated=g.bits_allocated, bits_stored=g.bits_stored,
                                    pixel_representation=int(g.signed), photometric_interpretation=g.photometric,
                                    number_of_frames=1, planar_configuration=g.planar,
                                    pixel_keyword="PixelData")
        try:
            arr, props = get_decoder(self.transfer_syntax).as_array(chunk, index=0, **opts)
        except Exception as exc:  # noqa: BLE001 - any decoder failure is a DecodeError
            raise DecodeError(f"cannot decode frame {index + 1}: {decoder_reason(exc)}") from None
        self._note_props(props)
        return arr

    # ------------------------------------------------------------------ encapsulated
    def _encapsulated_value(self) -> bytes:
        """The encapsulated Pixel Data bytes, never more than the file holds.

        Encapsulated Pixel Data has an undefined length (PS3.5 A.4); a damaged file may
        declare a defined, huge one instead, which pydicom then defers and would try to
        read whole. Read only what is in the file, and say so.
        """
        elem = self.dataset.get_item(_PIXEL_DATA, keep_deferred=True)
        if isinstance(elem, RawDataElement) and elem.value is None and self.path and elem.length != 0xFFFFFFFF:
            start, declared = int(elem.value_tell), int(elem.length)
            try:
                available = max(0, min(declared, os.path.getsize(self.path) - start))
                with open(self.path, "rb") as fh:
                    fh.seek(start)
                    data = fh.read(available)
            except OSError as exc:
                raise ReadError(f"{self.path}: cannot read pixel data: {exc.strerror or exc}",
                                path=self.path) from None
            if available < declared:
                self._warn(f"Pixel Data declares {declared} bytes but the file holds {available}")
            return data
        try:
            value = self.dataset.PixelData
        except Exception as exc:  # noqa: BLE001 - a deferred value whose file is gone or cut
            raise ReadError(f"{self.path or 'dataset'}: cannot read Pixel Data: {exc}", path=self.path) from None
        return bytes(value or b"")

    def _decode_dataset(self) -> Dataset:
        """A private dataset with just what pydicom's decoder reads, built once.

        The Image Pixel attributes (group 0028), the offset tables and the Pixel Data bytes,
        with File Meta naming the transfer syntax: the caller's dataset is never written to.
        """
        if self._dds is None:
            from pydicom.dataset import Dataset, FileMetaDataset
            from pydicom.uid import UID

            dds = Dataset()
            for elem in self.dataset.group_dataset(0x0028):
                dds.add(elem)
            for tag in (0x7FE00001, 0x7FE00002):  # Extended Offset Table (Lengths)
                if tag in self.dataset:
                    dds.add(self.dataset[tag])
            dds.add_new(_PIXEL_DATA, "OB", self._encapsulated_value())
            dds.file_meta = FileMetaDataset()
            dds.file_meta.TransferSyntaxUID = UID(self.transfer_syntax)
            self._dds = dds
        return self._dds

    def _encapsulated_frame(self, index: int) -> np.ndarray:
        from pydicom.pixels.decoders.base import get_decoder

        try:
            arr, props = get_decoder(self.transfer_syntax).as_array(
                self._decode_dataset(), index=index, decoding_plugin=self._plugin)
        except ReadError:
            raise
        except BaseException as exc:
            # Rust codecs (pylibjpeg-rle) turn a panic on damaged data into pyo3's
            # PanicException, a BaseException: a decode error too, not a crash.
            if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
                raise
            from viewer.dicom._codecs import syntax_name

            raise DecodeError(f"cannot decode frame {index + 1} ({syntax_name(self.transfer_syntax)}): "
                              f"{decoder_reason(exc)}") from None
        self._note_props(props)
        return arr

    def _note_props(self, props: dict[str, Any]) -> None:
        pi = str(props.get("photometric_interpretation", self.photometric))
        if pi != self.photometric:
            log.debug("decoder returned %s for %s", pi, self.geometry.photometric)
            self.photometric = pi

    # ------------------------------------------------------------------ public
    def frame(self, index: int) -> np.ndarray:
        """Return the stored values of frame ``index`` (0-based), decoding only that frame.

        Parameters
        ----------
        index : int
            0-based frame number, ``0 <= index < num_frames``.

        Returns
        -------
        numpy.ndarray
            ``(rows, cols)`` or ``(rows, cols, samples)`` stored values; colour in the
            interpretation :attr:`photometric` names (see the module docstring).

        Raises
        ------
        DecodeError
            If the frame cannot be decoded (the message says why).
        """
        if not 0 <= index < self.num_frames:
            raise DecodeError(f"frame {index + 1} out of range: the image has {self.num_frames} frame(s)")
        self._check_frame_size(index)
        if self._float:
            return self._float_frame(index)
        if self.native:
            return self._native_frame(index)
        return self._encapsulated_frame(index)

    def _check_frame_size(self, index: int) -> None:
        """Refuse a frame larger than :data:`MAX_FRAME_BYTES`, or (native data) one the file
        holds too little of: at most ``max(MAX_ZERO_FILL, bytes present)`` missing bytes are
        shown as 0, so a small file declaring 16384 x 16384 x 16 bits costs no gigabytes."""
        g = self.geometry
        declared = -(-g.frame_bits // 8)
        what = f"{g.rows}x{g.columns}x{g.samples} at {g.bits_allocated} bits"
        if declared > MAX_FRAME_BYTES:
            raise DecodeError(f"frame {index + 1}: {what} is {declared} bytes, more than the "
                              f"{MAX_FRAME_BYTES} a frame may have")
        if self.native and not self._float:
            present = max(0, min(declared, self._available - index * declared))
            if declared - present > max(MAX_ZERO_FILL, present):
                raise DecodeError(f"frame {index + 1}: the header declares {what} ({declared} bytes) but the "
                                  f"Pixel Data holds {present} bytes of it")

    def _float_frame(self, index: int) -> np.ndarray:
        arr = self._float_frame_from_file(index)
        if arr is not None:
            return arr
        from pydicom.pixels.utils import pixel_array

        try:
            return np.asarray(pixel_array(self.dataset, index=index))
        except Exception as exc:  # noqa: BLE001 - any decoder failure is a DecodeError
            raise DecodeError(f"cannot decode float pixel data frame {index + 1}: {exc}") from None

    def _float_frame_from_file(self, index: int) -> np.ndarray | None:
        """Frame ``index`` of (Double) Float Pixel Data still in the file, read straight into
        its array; ``None`` (pydicom decodes it) unless the value is deferred in an
        uncompressed file, one sample per pixel, and holds the whole frame.

        pydicom would load the whole value (every frame) into the data set and copy the frame
        out of it: three times a one-frame file's size.
        """
        g = self.geometry
        tag = next(t for t in _FLOAT_PIXEL_DATA if t in self.dataset)
        size = 4 if tag == _FLOAT_PIXEL_DATA[0] else 8  # OF: 32-bit, OD: 64-bit (PS3.5 6.2)
        elem = self.dataset.get_item(tag, keep_deferred=True)
        if (not isinstance(elem, RawDataElement) or elem.value is not None or not self.path or not self.native
                or self.transfer_syntax == _px.DEFLATED or g.samples != 1 or g.bits_allocated != size * 8):
            return None
        length = g.rows * g.columns * size
        start = int(elem.value_tell) + index * length
        try:
            if int(elem.length) < (index + 1) * length or os.path.getsize(self.path) < start + length:
                return None
            buf = bytearray(length)
            with open(self.path, "rb") as fh:
                fh.seek(start)
                if fh.readinto(buf) != length:
                    return None
        except OSError:
            return None  # pydicom reports it
        dtype = np.dtype(f"{'>' if self._big_endian else '<'}f{size}")
        arr = np.frombuffer(buf, dtype=dtype).reshape(g.rows, g.columns)
        return arr.astype(dtype.newbyteorder("=")) if self._big_endian else arr

    def container_frame(self, index: int) -> np.ndarray | None:
        """Frame ``index`` as the raw unsigned containers (bits above High Bit kept).

        Used for overlays embedded in unused high bits (retired, PS3.3 C.9.2); ``None`` for
        encapsulated or non byte-aligned data, where no such bits exist.
        """
        g = self.geometry
        if not self.native or self._float or g.bits_allocated not in (8, 16) or g.samples != 1:
            return None
        start, length = _px.frame_byte_range(index, g)
        chunk = self._read_bytes(start, length)
        chunk += bytes(length - len(chunk))
        dtype = np.dtype(f"{'>' if self._big_endian else '<'}u{g.bits_allocated // 8}")
        return np.frombuffer(chunk, dtype=dtype).astype(f"=u{g.bits_allocated // 8}").reshape(g.rows, g.columns)
