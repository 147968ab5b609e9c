"""Checkpoint and resume: a killed run continues to the bitwise-identical answer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

import iortmc as mc
from iortmc.results.dose import FORMAT_VERSION, restamp
from iortmc.transport import checkpoint
from iortmc.errors import DataError, InputError

from test_result import _doc_pattern, _documented, _walk

ROOT = Path(__file__).resolve().parents[2]
KW = dict(histories=6000, seed=5, batches=14, chunk=4)


def _phantom(n=12):
    return mc.Phantom.box(shape=(n, n, n), voxel_size=0.25, material="water")


def _source(energy=0.05):
    return mc.PointSource(mc.Spectrum.mono(energy), position=(0.1, 0.0, -0.05))


class _Stop(Exception):
    pass


def _interrupted(path, after_histories, phantom=None, source=None, **kw):
    """Run with checkpoints and stop (as a crash would) once ``after_histories`` are done."""
    def progress(done, total):
        if done >= after_histories:
            raise _Stop

    args = {**KW, **kw}
    with pytest.raises(_Stop):
        mc.simulate(phantom or _phantom(), source or _source(), checkpoint=path, progress=progress, **args)


def _same(a, b):
    assert np.array_equal(a.dose_sum, b.dose_sum)
    assert np.array_equal(a.dose_sum2, b.dose_sum2)
    assert a.energy_balance == b.energy_balance   # every entry, exactly
    assert a.histories == b.histories and a.batches == b.batches


# ---------------------------------------------------------------------------------------- SIGKILL
_CHILD = textwrap.dedent("""
    import sys, time
    import iortmc as mc
    ph = mc.Phantom.box(shape=(12, 12, 12), voxel_size=0.25, material="water")
    src = mc.PointSource(mc.Spectrum.mono(0.05), position=(0.1, 0.0, -0.05))
    def progress(done, total):
        print("done", done, flush=True)
        time.sleep(0.25)      # slow the run down so that the parent can kill it mid-way
    mc.simulate(ph, src, histories=6000, seed=5, batches=14, chunk=4, threads=2, checkpoint=sys.argv[1],
                checkpoint_every=2, progress=progress)
    print("finished", flush=True)
""")


def test_run_killed_with_sigkill_resumes_to_the_uninterrupted_answer(tmp_path):
    """A subprocess run (2 threads) is killed with SIGKILL after its first checkpoint; resuming it
    (1 thread) gives the sums and energy balance of an uninterrupted run bit for bit."""
    out = tmp_path / "run.h5"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    reported = 0
    try:
        deadline = time.monotonic() + 240
        seen_checkpoint = False
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("done"):
                reported = int(line.split()[1])
            if seen_checkpoint:  # one more wave after the first checkpoint: kill it now
                proc.send_signal(signal.SIGKILL)
                break
            seen_checkpoint = out.exists()
        else:
            pytest.fail("the child run wrote no checkpoint in time")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=60)
        stderr = proc.stderr.read()
    assert proc.returncode == -signal.SIGKILL, stderr[-2000:]

    state = checkpoint.read(out)
    assert not state.complete and 0 < state.batches_done < KW["batches"]
    starts = [(b * KW["histories"]) // KW["batches"] for b in range(KW["batches"] + 1)]
    reported_batches = starts.index(reported)
    # at most one checkpoint interval (2 batches) plus the wave in flight (2 threads) is lost
    assert state.batches_done >= reported_batches - 2 - 2
    partial = mc.load(out)   # an unfinished checkpoint is a valid result of the histories done
    assert partial.histories == starts[state.batches_done] and partial.batches == state.batches_done

    resumed = mc.resume(out, threads=1)
    whole = mc.simulate(_phantom(), _source(), threads=2, **KW)
    _same(resumed, whole)
    _same(mc.load(out), whole)          # the finished file holds the same result
    assert checkpoint.read(out).complete


# ---------------------------------------------------------------------------------------- resume
@pytest.mark.parametrize("scoring,statistics,threads,stop,resume_threads", [
    ("kerma", "batch", 2, 2500, 1),      # stops mid-chunk (batch 6 of chunk 4..8)
    ("kerma", "history", 1, 1800, 2),
    ("analog", "history", 2, 3500, 2),
])
def test_resume_is_bitwise_identical_to_an_uninterrupted_run(tmp_path, scoring, statistics, threads, stop,
                                                            resume_threads):
    p = tmp_path / "ck.h5"
    opts = dict(scoring=scoring, statistics=statistics)
    _interrupted(p, stop, threads=threads, checkpoint_every=1, **opts)
    st = checkpoint.read(p)
    assert not st.complete and st.batches_done > 0
    r = mc.simulate(_phantom(), _source(), checkpoint=p, resume=True, threads=resume_threads, **opts, **KW)
    assert r.metadata["resumed_at_batch"] == st.batches_done
    _same(r, mc.simulate(_phantom(), _source(), threads=threads, **opts, **KW))
    # resuming a finished checkpoint returns it as it is
    _same(mc.simulate(_phantom(), _source(), checkpoint=p, resume=True, **opts, **KW), r)


def test_resume_of_a_missing_file_starts_from_the_beginning(tmp_path):
    p = tmp_path / "new.h5"
    r = mc.simulate(_phantom(), _source(), checkpoint=p, resume=True, threads=2, **KW)
    _same(r, mc.simulate(_phantom(), _source(), threads=1, **KW))
    _same(mc.load(p), r)


def test_electron_beam_resume_through_iortmc_resume(tmp_path):
    """iortmc.resume rebuilds an ElectronBeam (with energy spread) from the file, bit for bit."""
    ph = mc.Phantom.box(shape=(8, 8, 8), voxel_size=0.5, material="water")
    beam = mc.ElectronBeam(energy=4.0, energy_spread=0.3, field_diameter=2.0, position=(0, 0, -3.0),
                           direction=(0.1, 0.0, 1.0))
    kw = dict(histories=300, seed=2, batches=6, chunk=2)
    p = tmp_path / "e.h5"
    _interrupted(p, 150, phantom=ph, source=beam, threads=1, checkpoint_every=1, **kw)
    r = mc.resume(p, threads=2)
    _same(r, mc.simulate(ph, beam, threads=1, **kw))


def test_sources_rebuild_bit_for_bit_from_their_description():
    from iortmc.transport.packing import pack_source

    sources = [mc.PointSource(mc.Spectrum.builtin("intrabeam_50kv_bare"), position=(0.3, -0.2, 0.1)),
               mc.PencilBeam(mc.Spectrum.builtin("xoft_axxent_50kv"), position=(0, 0, -2), direction=(1, 2, 3)),
               mc.ElectronBeam(energy=6.0, energy_spread=0.5, field_size=(3.0, 2.0), angular_spread=0.02,
                               source_distance=100.0, particle="e+")]
    for s in sources:
        d = json.loads(json.dumps(s.describe()))
        r = checkpoint.source_from_description(d)
        assert r.describe() == s.describe()
        a, b = pack_source(s), pack_source(r)
        for x, y in zip(a, b):
            assert np.array_equal(np.asarray(x), np.asarray(y))
    with pytest.raises(InputError, match="cannot be rebuilt"):
        checkpoint.source_from_description({"type": "PhaseSpaceSource", "path": "x.IAEAphsp"})


# ---------------------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("change,match", [
    (dict(seed=6), r"seed = 5 there, 6 requested"),
    (dict(histories=7000), r"histories = 6000 there, 7000 requested"),
    (dict(batches=15), r"batches = 14 there, 15 requested"),
    (dict(chunk=5), r"chunk = 4 there, 5 requested"),
    (dict(scoring="analog"), r"transport options differ \(scoring: 'kerma' there, 'analog' requested"),
    (dict(photon_cutoff=0.002), r"photon_cutoff: 0.001 there, 0.002 requested"),
    (dict(source=0.06), r"another source: position_cm|another source: spectrum"),
    (dict(phantom="density"), r"density differs in 1 voxels"),
    (dict(phantom="shape"), r"grid shape \(12, 12, 12\) there, \(10, 10, 10\) requested"),
])
def test_resume_refuses_a_checkpoint_of_another_problem(tmp_path, change, match):
    p = tmp_path / "ck.h5"
    _interrupted(p, 2000, threads=1)
    before = p.read_bytes()
    change = dict(change)
    ph, src = _phantom(), _source()
    what = change.pop("phantom", None)
    if what == "density":
        ph.density[3, 4, 5] = 1.01
    elif what == "shape":
        ph = _phantom(10)
    if "source" in change:
        src = _source(change.pop("source"))
    with pytest.raises(InputError, match=match):
        mc.simulate(ph, src, checkpoint=p, resume=True, threads=1, **{**KW, **change})
    assert p.read_bytes() == before   # a refused resume leaves the checkpoint alone


def test_source_data_mismatch_is_refused_even_with_the_same_description(tmp_path):
    p = tmp_path / "ck.h5"
    _interrupted(p, 2000, threads=1)
    with h5py.File(p, "a") as f:
        f["checkpoint"].attrs["source_sha256"] = "0" * 64
    restamp(p)   # an intended edit: record the new checksum
    with pytest.raises(InputError, match="sampling data .* differ bit for bit"):
        mc.simulate(_phantom(), _source(), checkpoint=p, resume=True, **KW)
    with h5py.File(p, "a") as f:
        f["checkpoint"].attrs["physics_sha256"] = "1" * 64
        del f["checkpoint"].attrs["source_sha256"]
    restamp(p)   # an intended edit: record the new checksum
    with pytest.raises(DataError, match="checkpoint data is incomplete or damaged"):
        mc.simulate(_phantom(), _source(), checkpoint=p, resume=True, **KW)


def test_unfinished_checkpoint_is_not_overwritten_without_resume(tmp_path):
    p = tmp_path / "ck.h5"
    _interrupted(p, 2000, threads=1)
    with pytest.raises(InputError, match=r"unfinished checkpoint \(\d+ of 14 batches done\); pass resume=True"):
        mc.simulate(_phantom(), _source(), checkpoint=p, **KW)
    # a finished one (or any other file) is replaced, as DoseResult.save does
    mc.simulate(_phantom(), _source(), checkpoint=p, resume=True, **KW)
    r = mc.simulate(_phantom(), _source(), checkpoint=p, threads=1, **{**KW, "seed": 9})
    assert mc.load(p).seed == 9 == r.seed


def test_resume_needs_a_checkpoint_and_a_rebuildable_source(tmp_path):
    plain = tmp_path / "plain.h5"
    mc.simulate(_phantom(), _source(), **KW).save(plain)
    with pytest.raises(DataError, match="without checkpoint data .* nothing to resume"):
        mc.resume(plain)
    with pytest.raises(DataError, match="does not exist"):
        mc.resume(tmp_path / "missing.h5")
    p = tmp_path / "ck.h5"
    _interrupted(p, 2000, threads=1)
    with h5py.File(p, "a") as f:
        d = json.loads(f["checkpoint"].attrs["source"])
        d["type"] = "PhaseSpaceSource"
        f["checkpoint"].attrs["source"] = json.dumps(d)
    restamp(p)   # an intended edit: record the new checksum
    with pytest.raises(InputError, match="'PhaseSpaceSource' cannot be rebuilt .* resume=True"):
        mc.resume(p)


@pytest.mark.parametrize("kw,match", [
    (dict(checkpoint_every=2), "checkpoint_every needs checkpoint=PATH"),
    (dict(resume=True), "resume=True needs checkpoint=PATH"),
    (dict(checkpoint="x.h5", resume="yes"), "resume must be True or False"),
    (dict(checkpoint="x.h5", checkpoint_every=0), "checkpoint_every must be >= 1"),
    (dict(chunk=0), "chunk must be >= 1"),
    (dict(checkpoint="/no/such/dir/x.h5"), "directory '/no/such/dir' does not exist"),
    (dict(client=object()), "client must be a dask.distributed.Client"),
])
def test_run_option_validation(kw, match):
    with pytest.raises(InputError, match=match):
        mc.simulate(_phantom(4), _source(), histories=10, **kw)


# ---------------------------------------------------------------------------------------- format
def test_checkpoint_fields_agree_with_the_documentation(tmp_path):
    """docs/hdf5-format.md's checkpoint table lists exactly what an unfinished and a finished
    checkpoint write beyond a plain result (the four running sums only while unfinished)."""
    p = tmp_path / "ck.h5"
    _interrupted(p, 2000, threads=1)
    unfinished = set(_walk(p))
    mc.simulate(_phantom(), _source(), checkpoint=p, resume=True, **KW)
    finished = set(_walk(p))
    extra = {w for w in unfinished | finished if w.startswith("/checkpoint")}
    assert not {w for w in unfinished | finished if w not in extra
                and not any(_doc_pattern(d).match(w) for d in _documented("result"))}
    doc = _documented("checkpoint")
    assert extra == doc
    sums = {d for d in doc if d.startswith(("/checkpoint/total_sum", "/checkpoint/chunk_sum"))}
    assert len(sums) == 12 and not sums & finished and sums <= unfinished
    with h5py.File(p) as f:
        assert f.attrs["format_version"] == FORMAT_VERSION and bool(f["checkpoint"].attrs["complete"])
        assert f["checkpoint/energy_balance"].shape == (14, 8)


# ---------------------------------------------------------------------------------------- reduction
class _Done:
    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value

    def release(self):
        pass

    def cancel(self):
        pass


class _SerialClient:
    """Just enough of a dask.distributed.Client to run iortmc's chunk tasks in this process, one
    after the other: the eager reduction (each chunk summed on its own, then added to the total)."""

    def scatter(self, items, broadcast=False, hash=True):
        return [_Done(x) for x in items]

    def submit(self, fn, *args, pure=True, key=None):
        return _Done(fn(*(a.value if isinstance(a, _Done) else a for a in args)))

    def scheduler_info(self):
        return {"workers": {"serial": {}}}


@pytest.mark.parametrize("batches,chunk,threads", [(600, 1, 2), (37, 5, 1)])
def test_lazy_two_level_reduction_equals_eager_chunk_sums(batches, chunk, threads):
    """The local run folds chunk sums into the total lazily, voxel by voxel, with uint8 chunk tags
    that wrap every 255 chunks; chunk tasks sum each chunk on its own and the client adds the chunk
    sums in order. Both must give the same bits (600 chunks: the tags wrap twice)."""
    ph, src = _phantom(6), _source()
    kw = dict(histories=3 * batches, seed=8, batches=batches, chunk=chunk)
    local = mc.simulate(ph, src, threads=threads, **kw)
    eager = mc.simulate(ph, src, client=_SerialClient(), threads=1, **kw)
    _same(local, eager)
