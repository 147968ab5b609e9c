"""The run/info/plot/example/validate sub-commands, through iortmc.cli.main([...])."""

import h5py
import numpy as np
import pytest

from iortmc import load
from iortmc.cli import main
from iortmc.cli.run import ProgressBar, energy_balance_lines

CASE = '''
title = "cli test"
histories = 2000
seed = 3
[phantom]
size_cm = [2.0, 2.0, 2.0]
voxel_size_cm = 0.2
material = "water"
[source]
type = "point"
spectrum = { energy_keV = 30 }
[options]
threads = 1
batches = 4
'''


@pytest.fixture
def case_file(tmp_path):
    p = tmp_path / "case.toml"
    p.write_text(CASE)
    return p


def test_run_writes_result_and_summary(case_file, tmp_path, capsys):
    out = tmp_path / "r.h5"
    assert main(["run", str(case_file), "-o", str(out), "-q"]) == 0
    text = capsys.readouterr().out
    res = load(out)
    assert res.histories == 2000 and res.seed == 3 and res.dose.shape == (10, 10, 10)
    assert res.metadata["case_title"] == "cli test"
    for words in ("histories/s", "dose at the reference point (x, y, z) = (1, 0, 0) cm", "maximum dose in tissue",
                  "at (x, y, z) = (", "voxel [z, y, x] = [", "energy balance", f"wrote {out}"):
        assert words in text
    with h5py.File(out) as f:
        assert f.attrs["file_type"] == "iortmc-result"


def test_run_overrides_and_default_output(case_file, capsys):
    assert main(["run", str(case_file), "--histories", "500", "--seed", "9", "-q"]) == 0
    res = load(case_file.with_suffix(".h5"))
    assert res.histories == 500 and res.seed == 9


def test_run_bad_case_is_a_clean_error(tmp_path, capsys):
    p = tmp_path / "bad.toml"
    p.write_text(CASE.replace("histories = 2000", "histories = 0"))
    assert main(["run", str(p), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("iortmc: error: histories")


def test_run_missing_output_directory(case_file, tmp_path, capsys):
    assert main(["run", str(case_file), "-o", str(tmp_path / "no" / "r.h5"), "-q"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_info(case_file, tmp_path, capsys):
    out = tmp_path / "r.h5"
    main(["run", str(case_file), "-o", str(out), "-q"])
    capsys.readouterr()
    assert main(["info", str(out), "--point", "0.5", "0", "0"]) == 0
    text = capsys.readouterr().out
    assert "format 1." in text and "water" in text and "(x, y, z) = (0.5, 0, 0) cm" in text


def test_info_not_a_result(tmp_path, capsys):
    p = tmp_path / "x.h5"
    p.write_bytes(b"not hdf5")
    assert main(["info", str(p)]) == 2
    assert "not an HDF5 file" in capsys.readouterr().err


def test_plot_commands(case_file, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "r.h5"
    main(["run", str(case_file), "-o", str(out), "-q"])
    pngs = {k: tmp_path / f"{k}.png" for k in ("dd", "rad", "sl", "pr", "cmp")}
    assert main(["plot", str(out), "--depth-dose", str(pngs["dd"]), "--radial", str(pngs["rad"]),
                 "--slice", "z=0", str(pngs["sl"]), "--profile", "x", str(pngs["pr"]),
                 "--compare", str(out), str(pngs["cmp"])]) == 0
    for p in pngs.values():
        assert p.stat().st_size > 1000 and p.read_bytes()[:4] == b"\x89PNG"


def test_plot_needs_an_output_and_checks_slice(case_file, tmp_path, capsys):
    out = tmp_path / "r.h5"
    main(["run", str(case_file), "-o", str(out), "-q"])
    assert main(["plot", str(out)]) == 2
    assert "at least one" in capsys.readouterr().err
    pytest.importorskip("matplotlib")
    assert main(["plot", str(out), "--slice", "w=1", str(tmp_path / "s.png")]) == 2
    assert "--slice axis" in capsys.readouterr().err
    assert main(["plot", str(out), "--slice", "z=9", str(tmp_path / "s.png")]) == 2
    assert "outside the phantom" in capsys.readouterr().err


def test_example_list(capsys):
    assert main(["example", "--list"]) == 0
    assert "intrabeam" in capsys.readouterr().out


def test_example_runs_small(tmp_path, capsys):
    assert main(["example", "intrabeam", "-o", str(tmp_path / "ex"), "--histories", "20000", "-q",
                 "--threads", "1"]) == 0
    res = load(tmp_path / "ex" / "intrabeam.h5")
    assert res.histories == 20000 and res.phantom.materials[0].name == "breast_50_50"
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "no figure written" in capsys.readouterr().err
    else:
        assert (tmp_path / "ex" / "intrabeam.png").stat().st_size > 1000
        assert (tmp_path / "ex" / "intrabeam_isodose_z0.png").stat().st_size > 1000


def test_example_unknown_name(capsys):
    with pytest.raises(SystemExit):
        main(["example", "nonexistent"])


def test_validate_subset(tmp_path, capsys, monkeypatch):
    """Runs the data-only cases through the CLI machinery (the MC cases are exercised in test_examples)."""
    from iortmc.cli import validate

    report = validate.run(tmp_path / "v", quick=True, progress=False, cases=["photon_data", "electron_data"])
    assert report.passed and len(report.checks) == 10
    md = (tmp_path / "v" / "validation.md").read_text()
    assert "| photon_data |" in md and "PASS" in md
    with pytest.raises(Exception, match="unknown validation case"):
        validate.run(tmp_path / "v", cases=["nope"])


def test_validate_command_exit_status(tmp_path, capsys, monkeypatch):
    from iortmc.cli import validate

    def fake_run(output_dir, quick, threads, progress):
        rep = validate.Report(quick=quick)
        rep.checks.append(validate.Check("c", "q", 1.0, 2.0, -0.5, "|dev| <= 1 %", False, "ref"))
        rep.markdown_path = tmp_path / "validation.md"
        return rep

    monkeypatch.setattr(validate, "run", fake_run)
    assert main(["validate", "--quick", "-o", str(tmp_path)]) == 1
    assert "0 of 1 checks passed" in capsys.readouterr().out


def test_energy_balance_lines():
    lines = energy_balance_lines({"emitted": 10.0, "deposited": 6.0, "escaped": 3.0, "below_cutoff": 1.0,
                                  "scored": 7.0}, "analog")
    assert any("relative 0.00e+00" in line for line in lines)
    lines = energy_balance_lines({"emitted": 10.0, "deposited": 0.0, "escaped": 4.0, "below_cutoff": 0.0,
                                  "scored": 6.06}, "kerma")
    assert any("= 1.0100" in line for line in lines)
    assert energy_balance_lines(None, "kerma") == ["energy balance: not recorded"]


def test_progress_bar_plain_line(monkeypatch):
    import io

    s = io.StringIO()
    bar = ProgressBar(stream=s)
    bar._tqdm = False
    bar(50, 100)
    bar(100, 100)
    bar.close()
    assert "100/100" in s.getvalue() and s.getvalue().endswith("\n")
    quiet = io.StringIO()
    ProgressBar(enabled=False, stream=quiet)(5, 10)
    assert quiet.getvalue() == ""


# ---------------------------------------------------------------------------------------- checkpoints
def test_run_checkpoint_every_and_resume(case_file, tmp_path, capsys):
    """--checkpoint-every keeps OUT a checkpoint file; --resume continues a run stopped mid-way to
    the answer of an uninterrupted run, bit for bit; without --resume an unfinished checkpoint is
    not overwritten."""
    from iortmc.transport import checkpoint
    from iortmc.cli.case import load_case
    from iortmc.transport.run import simulate

    plain = tmp_path / "plain.h5"
    assert main(["run", str(case_file), "-o", str(plain), "-q"]) == 0
    ck = tmp_path / "ck.h5"
    assert main(["run", str(case_file), "-o", str(ck), "-q", "--checkpoint-every", "1"]) == 0
    state = checkpoint.read(ck)
    assert state.complete and state.every == 1 and state.result.metadata["case_title"] == "cli test"

    class Stop(Exception):
        pass

    def stop(done, total):
        if done >= 1000:
            raise Stop

    case = load_case(case_file)   # the same run from Python, killed in batch 2 of 4 (1 checkpointed)
    part = tmp_path / "part.h5"
    with pytest.raises(Stop):
        simulate(case.phantom, case.source, case.histories, case.seed, checkpoint=part, checkpoint_every=1,
                 progress=stop, **case.options)
    capsys.readouterr()
    assert main(["run", str(case_file), "-o", str(part), "-q"]) == 2
    assert "unfinished checkpoint (1 of 4 batches done); pass resume=True" in capsys.readouterr().err
    assert main(["info", str(part)]) == 0
    assert "checkpoint: UNFINISHED" in capsys.readouterr().out
    assert main(["run", str(case_file), "-o", str(part), "-q", "--resume"]) == 0
    a, b = load(plain), load(part)
    assert np.array_equal(a.dose_sum, b.dose_sum) and np.array_equal(a.dose_sum2, b.dose_sum2)
    assert a.energy_balance == b.energy_balance
    assert b.metadata["case_title"] == "cli test" and b.metadata["resumed_at_batch"] == 1
    assert main(["info", str(part)]) == 0
    assert "checkpoint: finished: 4 of 4 batches" in capsys.readouterr().out
    # a different seed is refused with the reason
    assert main(["run", str(case_file), "-o", str(part), "-q", "--resume", "--seed", "4"]) == 2
    assert "seed = 3 there, 4 requested" in capsys.readouterr().err
