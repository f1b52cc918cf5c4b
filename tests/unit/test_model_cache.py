"""The bounded frame cache: frames equal pydicom's pixel_array, memory stays under budget."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

from viewer.dicom.cache import FrameCache
from viewer.errors import ViewerError


def test_frames_match_pydicom_and_are_cached(corpus: Path) -> None:
    path = corpus / "series/ct_stack_40/IMG0001.dcm"
    cache = FrameCache()
    first = cache.frame(path, 0)
    np.testing.assert_array_equal(first, pydicom.dcmread(path).pixel_array)
    assert cache.frame(str(path), 0) is first
    assert (cache.hits, cache.misses) == (1, 1)
    assert not first.flags.writeable


def test_multiframe_frame_index(corpus: Path) -> None:
    path = corpus / "synthetic/xa_cine_frametime_10f.dcm"
    reference = pydicom.dcmread(path).pixel_array
    cache = FrameCache()
    for i in (0, 7, 9):
        np.testing.assert_array_equal(cache.frame(path, i), reference[i])


def test_budget_is_respected(corpus: Path) -> None:
    files = sorted((corpus / "series/ct_stack_40").glob("*.dcm"))
    one = pydicom.dcmread(files[0]).pixel_array.nbytes
    cache = FrameCache(max_bytes=3 * one, max_sources=2)
    for f in files[:10]:
        cache.frame(f)
        assert cache.nbytes <= 3 * one
    assert len(cache) == 3
    # The most recent frames are the ones kept.
    assert cache.frame(files[9]) is cache.frame(files[9]) and cache.hits >= 1
    cache.discard(files[9])
    assert len(cache) == 2
    cache.clear()
    assert (len(cache), cache.nbytes) == (0, 0)


def test_errors_are_viewer_errors_and_not_cached(corpus: Path) -> None:
    cache = FrameCache()
    with pytest.raises(ViewerError):
        cache.frame(corpus / "broken/not_dicom.txt")
    assert len(cache) == 0
