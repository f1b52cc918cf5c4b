"""``python -m viewer print``: user errors end in one clear line and a non-zero exit."""

from __future__ import annotations

import subprocess
import sys

import pytest

from viewer.cli import main


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(["print", *argv])
    return code, capsys.readouterr().err


def test_help_lists_the_print_options():
    out = subprocess.run([sys.executable, "-m", "viewer", "print", "--help"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0
    for opt in ("--layout", "--film-size", "--orientation", "--medium", "--copies", "--bits", "--color",
                "--magnification", "--annotation", "--presentation-lut", "--window", "--json"):
        assert opt in out.stdout


def test_missing_file(capsys, tmp_path):
    code, err = run(capsys, "127.0.0.1", "104", "--aec", "P", str(tmp_path / "nope.dcm"))
    assert code == 1 and "no such file or directory" in err and err.count("\n") == 1


def test_aec_required_without_profile(capsys, corpus):
    code, err = run(capsys, "127.0.0.1", "104", str(corpus / "ct" / "CT_small.dcm"))
    assert code == 2 and "--aec" in err


def test_bad_layout(capsys, corpus):
    code, err = run(capsys, "127.0.0.1", "104", "--aec", "P", "--layout", "SLIDE", str(corpus / "ct" / "CT_small.dcm"))
    assert code == 2 and "unsupported image display format" in err


def test_profile_limits_checked_before_connecting(capsys, corpus):
    code, err = run(capsys, "127.0.0.1", "9", "--printer", "dcmprscp-restricted", "--layout", "STANDARD\\2,2",
                    "--no-adapt", str(corpus / "ct" / "CT_small.dcm"))
    assert code == 2 and "not supported by printer dcmprscp-restricted" in err


def test_not_dicom(capsys, corpus):
    code, err = run(capsys, "127.0.0.1", "104", "--aec", "P", str(corpus / "broken" / "not_dicom.txt"))
    assert code == 1 and "error:" in err and "Traceback" not in err


@pytest.mark.parametrize("bad", ["X=1", "0=a", "nopos"])
def test_bad_annotation_syntax(capsys, corpus, bad):
    with pytest.raises(SystemExit) as exc:
        main(["print", "127.0.0.1", "104", "--aec", "P", "--annotation", bad, str(corpus / "ct" / "CT_small.dcm")])
    assert exc.value.code == 2


def test_unwritable_queue_still_prints_message(capsys, corpus, tmp_path, monkeypatch):
    """A data folder that cannot be written: the job runs without the queue's history (and says so)."""
    blocked = tmp_path / "data"
    blocked.write_text("a file where the data folder should be")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocked))
    code, err = run(capsys, "127.0.0.1", "9", "--aec", "P", "--timeout", "2", str(corpus / "ct" / "CT_small.dcm"))
    assert "print queue not writable" in err
    assert code == 1 and "cannot associate with printer P@127.0.0.1:9" in err and "Traceback" not in err
