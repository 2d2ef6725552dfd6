"""The instructor's seat: submit, batch-grade, hidden checks, Gradescope and GitHub Classroom.

The batches grade chapter 04 only (``chapters: [4]`` in points.yaml) so that they
run in seconds; the class of 200 made by ``tools/make_class.py`` is the full-size
measurement. Each batch runs ``cnnlib grade`` as an instructor does, in a process
of its own, against a copy of the course (so that a submission that gets out
would damage the copy, not this checkout).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import pytest
import yaml
from make_class import (
    mutant_file,
    reference_answers,
    reference_file,
    replace_function,
    stub_file,
    write_course,
)

from cnnlib.exercises import EXERCISES
from cnnlib.grading import batch, containment
from cnnlib.questions import QUESTIONS
from cnnlib.submission import (
    ANSWERS,
    EXERCISE_FILES,
    MANIFEST,
    MAX_FILE_BYTES,
    MAX_MEMBERS,
    SubmissionError,
    pack,
    read,
    unpack,
)

ROOT = Path(__file__).resolve().parents[2]
POINTS = 'default: 1\nquestions: 0.5\npoints:\n  "4.4": 3\n  relu_forward: 2\nchapters: [4]\n'
CHAPTER4 = ["4.1 relu_forward", "4.2 relu_backward", "4.3 maxpool2d_forward", "4.4 maxpool2d_backward",
            "4.5 avgpool2d_forward", "4.6 avgpool2d_backward", "4.q1 concept check", "4.q2 concept check"]
KEYS = ["relu_forward", "relu_backward", "maxpool2d_forward", "maxpool2d_backward", "avgpool2d_forward",
        "avgpool2d_backward", "4.q1", "4.q2"]
CONTAINED = containment.landlock_abi() > 0
needs_landlock = pytest.mark.skipif(not CONTAINED, reason="this kernel has no Landlock: learner code is not contained")


def _temporaries() -> set[str]:
    return {p for p in os.listdir(tempfile.gettempdir()) if p.startswith(("cnnlib-grade-", "cnnlib-unpack-"))}


def _tree_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(p.relative_to(folder).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def submit(folder: Path, out: Path, files: dict[str, str] | None = None, answers=None) -> Path:
    """A learner's course folder with these exercise files (module -> source; stubs for the rest), packed."""
    pack(write_course(folder, files or {}, answers), out)
    return out


def all_reference() -> dict[str, str]:
    return {rel[len("cnnlib/"):-3]: reference_file(rel[len("cnnlib/"):-3]) for rel in EXERCISE_FILES}


def run_cli(*args, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CNNLIB_SOLUTIONS"}
    proc = subprocess.run([sys.executable, "-m", "cnnlib.cli", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


# ----------------------------------------------------------------------------
# cnnlib submit

def test_submit_packs_exactly_the_exercise_files_with_their_hashes(tmp_path):
    answers = reference_answers()
    out = submit(tmp_path / "course", tmp_path / "alice.zip", {"activations": reference_file("activations")}, answers)
    (tmp_path / "course" / "notes.txt").write_text("not an exercise file")
    with zipfile.ZipFile(out) as z:
        names = sorted(z.namelist())
        manifest = json.loads(z.read(MANIFEST))
        assert names == sorted([MANIFEST, ANSWERS, *EXERCISE_FILES])
        for rel in EXERCISE_FILES + (ANSWERS,):
            assert manifest["files"][rel]["sha256"] == hashlib.sha256(z.read(rel)).hexdigest()
    assert manifest["course"] == "cnnlib" and manifest["course_version"] == "0.1.0" and manifest["date"].endswith("Z")
    sub = read(out)
    assert sub.name == "alice" and sub.hashes_match and not sub.notes, sub.notes
    assert sub.files["cnnlib/activations.py"].decode() == reference_file("activations")
    assert sub.files["cnnlib/conv.py"].decode() == stub_file("conv")
    assert json.loads(sub.files[ANSWERS]) == answers


def test_submit_from_the_command_line_packs_this_course(tmp_path):
    proc = run_cli("submit", "--out", tmp_path / "me.zip", cwd=ROOT)
    assert f"Wrote {tmp_path / 'me.zip'}: {len(EXERCISE_FILES) + (ROOT / ANSWERS).exists()} files" in proc.stdout
    assert set(EXERCISE_FILES) <= set(zipfile.ZipFile(tmp_path / "me.zip").namelist())


def test_a_file_changed_after_packing_is_noted(tmp_path):
    out = submit(tmp_path / "course", tmp_path / "bob.zip")
    folder = tmp_path / "unpacked"
    unpack(out, folder)
    (folder / "cnnlib" / "conv.py").write_text("# edited later\n")
    sub = read(folder)
    assert not sub.hashes_match
    assert any("cnnlib/conv.py" in n and "manifest" in n for n in sub.notes), sub.notes


@pytest.mark.parametrize("damage", ["missing", "a folder", "a link", "bad answers"])
def test_a_missing_or_unreadable_file_is_named_and_nothing_is_packed(damage, tmp_path):
    course = write_course(tmp_path / "course", {}, reference_answers())
    target = course / ("answers.json" if damage == "bad answers" else "cnnlib/losses.py")
    target.unlink()
    if damage == "a folder":
        target.mkdir()
    elif damage == "a link":
        target.symlink_to(course / "cnnlib" / "conv.py")
    elif damage == "bad answers":
        target.write_text("{not json")
    with pytest.raises(SubmissionError) as e:
        pack(course, tmp_path / "out.zip")
    words = {"missing": "cnnlib/losses.py is missing", "a folder": "cnnlib/losses.py is not a regular file",
             "a link": "cnnlib/losses.py is a symbolic link", "bad answers": "answers.json cannot be read as JSON"}
    assert words[damage] in str(e.value) and "nothing was packed" in str(e.value)
    assert not (tmp_path / "out.zip").exists()


# ----------------------------------------------------------------------------
# Unpacking refuses what could leave its folder

def _zip(path: Path, members) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data, mode in members:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            z.writestr(info, data)
    return path


def _tar(path: Path, member: tarfile.TarInfo) -> Path:
    with tarfile.open(path, "w:gz") as t:
        t.addfile(tarfile.TarInfo("cnnlib/conv.py"), io.BytesIO(b""))
        t.addfile(member, io.BytesIO(b"x" * member.size) if member.isfile() else None)
    return path


def _tar_member(name, kind, **attrs) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    for k, v in attrs.items():
        setattr(info, k, v)
    return info


MALICIOUS = {
    "dot-dot": (lambda p: _zip(p, [("cnnlib/../../evil.py", b"x", 0o100644)]), "'cnnlib/../../evil.py' has '..'"),
    "absolute": (lambda p: _zip(p, [("/tmp/evil.py", b"x", 0o100644)]), "'/tmp/evil.py' has an absolute path"),
    "zip symlink": (lambda p: _zip(p, [("cnnlib/conv.py", b"/etc/passwd", 0o120777)]),
                    "'cnnlib/conv.py' is a symbolic link"),
    "tar symlink": (lambda p: _tar(p, _tar_member("cnnlib/pooling.py", tarfile.SYMTYPE, linkname="/etc/passwd")),
                    "'cnnlib/pooling.py' is a symbolic link"),
    "tar hard link": (lambda p: _tar(p, _tar_member("cnnlib/pooling.py", tarfile.LNKTYPE, linkname="/etc/passwd")),
                      "'cnnlib/pooling.py' is a hard link"),
    "tar device": (lambda p: _tar(p, _tar_member("cnnlib/pooling.py", tarfile.CHRTYPE, devmajor=1, devminor=3)),
                   "'cnnlib/pooling.py' is a special file"),
    "too big": (lambda p: _zip(p, [("cnnlib/conv.py", b"#" * (MAX_FILE_BYTES + 1), 0o100644)]),
                "'cnnlib/conv.py' takes the archive past its size bound"),
    "too many": (lambda p: _zip(p, [(f"f{i}.txt", b"", 0o100644) for i in range(MAX_MEMBERS + 1)]),
                 f"{MAX_MEMBERS + 1} members, more than {MAX_MEMBERS}"),
    "backslash": (lambda p: _zip(p, [("..\\evil.py", b"x", 0o100644)]), "has a backslash"),
    "not an archive": (lambda p: (p.write_bytes(b"hello"), p)[1], "is not a zip or tar archive"),
}


@pytest.mark.parametrize("kind", MALICIOUS)
def test_an_archive_that_could_write_outside_its_folder_is_refused(kind, tmp_path):
    make, words = MALICIOUS[kind]
    archive = make(tmp_path / ("bad.tar.gz" if kind.startswith("tar") else "bad.zip"))
    target = tmp_path / "target"
    target.mkdir()
    before = _temporaries()
    with pytest.raises(SubmissionError) as e:
        unpack(archive, target)
    assert words in str(e.value), str(e.value)
    assert list(target.iterdir()) == []  # checked before anything was written
    with pytest.raises(SubmissionError):
        read(archive)
    assert _temporaries() == before
    assert not (tmp_path / "evil.py").exists()


# ----------------------------------------------------------------------------
# Points

def test_points_yaml_sets_the_columns_and_their_points(tmp_path):
    (tmp_path / "points.yaml").write_text(POINTS)
    columns = batch.load_points(tmp_path / "points.yaml")
    assert [c.label for c in columns] == CHAPTER4
    assert [c.points for c in columns] == [2, 1, 1, 3, 1, 1, 0.5, 0.5]
    everything = batch.load_points()
    assert len(everything) == len(EXERCISES) + len(QUESTIONS) and all(c.points == 1 for c in everything)
    batch.write_points(columns, tmp_path / "again.yaml")
    assert batch.load_points(tmp_path / "again.yaml") == columns


@pytest.mark.parametrize("text, words", [
    ("bonus: 3\n", "unknown key 'bonus'"),
    ("points:\n  '9.9': 1\n", "points['9.9'] must name an exercise"),
    ("default: -1\n", "default must be a number of points >= 0. Received: default: -1"),
    ("points:\n  '2.3': 1\n  conv2d_forward: 2\n", "names 'conv2d_forward' twice"),
    ("chapters: [9]\n", "chapters must be a list of chapters with exercises"),
    ("default: 1\ndefault: 2\n", "key 'default' appears twice"),
    ("- 1\n", "must be a mapping"),
])
def test_a_bad_points_file_is_named_with_its_rule(text, words, tmp_path):
    (tmp_path / "points.yaml").write_text(text)
    with pytest.raises(ValueError) as e:
        batch.load_points(tmp_path / "points.yaml")
    assert words in str(e.value), str(e.value)


# ----------------------------------------------------------------------------
# A batch of contrasting submissions

def attacker_file(course: Path, out: Path, canary: Path, other: Path) -> str:
    """activations.py whose relu_forward tries to get out, and reports what it got through its verdict."""
    code = f'''def relu_forward(x):
    import os
    import signal
    outcomes = []

    def attempt(what, path, mode="a"):
        try:
            with open(path, mode) as f:
                f.read() if "r" in mode else f.write("# written by a submission\\n")
            outcomes.append(what + "=DONE")
        except OSError as e:
            outcomes.append(what + "=" + type(e).__name__)

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    attempt("reference", {str(course / "solutions" / "activations.py")!r})
    attempt("copy-reference", os.path.join(here, "solutions", "activations.py"))
    attempt("copy-grader", os.path.join(here, "cnnlib", "grading", "core.py"))
    attempt("gradebook", {str(out / "gradebook.csv")!r}, "w")
    attempt("canary", {str(canary)!r}, "w")
    attempt("other-archive", {str(other)!r}, "rb")  # read, not written: another learner's submission
    try:
        os.listdir(os.path.dirname(os.path.dirname(here)))
        outcomes.append("other-submissions=LISTED")
    except OSError as e:
        outcomes.append("other-submissions=" + type(e).__name__)
    delivered = forged = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/" + pid + "/cmdline", "rb") as f:
                if b"cnnlib.grading.batch import child" not in f.read():
                    continue
        except OSError:
            continue
        try:
            with open("/proc/" + pid + "/fd/1", "w") as f:
                f.write("forged")
            forged += 1
        except OSError:
            pass
        try:
            os.kill(int(pid), signal.SIGKILL)
            delivered += 1
        except OSError:
            pass
    outcomes.append(f"forged={{forged}} signals={{delivered}}")
    import resource
    try:
        resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        outcomes.append("memory-limit=RAISED")
    except (ValueError, OSError) as e:
        outcomes.append("memory-limit=" + type(e).__name__)
    raise ValueError("probe: " + " ".join(outcomes))
'''
    return replace_function(reference_file("activations"), "relu_forward", code)


def numpy_patcher_file() -> str:
    source = reference_file("activations").replace(
        "import numpy as np\n", "import numpy as np\n\nnp.allclose = lambda *a, **k: True\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n"
        "try:\n    open(__import__('os').path.join(__import__('os').path.dirname(np.__file__), "
        "'cnnlib_probe.txt'), 'w').write('patched')\nexcept OSError:\n    pass\n", 1)
    return replace_function(source, "relu_forward", "def relu_forward(x):\n    return np.zeros_like(x), (x,)\n")


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course to grade against: a submission that got out would damage this, not the checkout."""
    import shutil
    root = tmp_path_factory.mktemp("course")
    for part in ("cnnlib", "solutions"):
        shutil.copytree(ROOT / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.fixture(scope="module")
def klass(tmp_path_factory, course):
    """A class of contrasting submissions, graded once: (folder, submissions, outputs, what was protected)."""
    base = tmp_path_factory.mktemp("class")
    subs, work = base / "submissions", base / "work"
    subs.mkdir()
    out, canary = base / "grading", base / "canary.txt"
    canary.write_text("untouched\n")
    out.mkdir()
    (out / "gradebook.csv").write_text("a previous run's gradebook\n")  # replaced at the end, never written before
    answers = reference_answers()
    ref = all_reference()
    plan = {
        "a-pristine": ({}, None),
        "b-reference": (ref, answers),
        "c-mutant": ({**ref, "pooling": mutant_file("pooling", {"maxpool2d_backward": "average pooling's gradient"})},
                     answers),
        "d-syntax-error": ({**ref, "activations": reference_file("activations") + "\ndef broken(:\n"}, answers),
        "e-infinite-loop": ({**ref, "activations": replace_function(
            reference_file("activations"), "relu_forward", "def relu_forward(x):\n    while True:\n        pass\n")},
            answers),
        "f-flood": ({**ref, "activations": replace_function(
            reference_file("activations"), "relu_forward",
            "def relu_forward(x):\n    print('x' * 10_000_000)\n    return np.maximum(x, 0), (np.maximum(x, 0),)\n")},
            answers),
        "g-numpy-patcher": ({**ref, "activations": numpy_patcher_file()}, answers),
        "h-attacker": ({**ref, "activations": attacker_file(course, out, canary, subs / "b-reference.zip")}, answers),
    }
    for name, (files, ans) in plan.items():
        submit(work / name, subs / f"{name}.zip", files, ans)
    _zip(subs / "i-malformed.zip", [("cnnlib/conv.py", b"", 0o100644), ("../evil.py", b"x", 0o100644)])
    (base / "points.yaml").write_text(POINTS)
    protected = {"course": _tree_hash(course)}
    before = _temporaries()
    proc = run_cli("grade", *sorted(subs.iterdir()), "--out", out, "--points", base / "points.yaml",
                   "--time-limit", 2, "--course", course, cwd=base)
    assert _temporaries() == before, "a temporary folder outlived the run"
    protected["course after"] = _tree_hash(course)
    return base, sorted(subs.iterdir()), out, protected, proc.stdout


def _details(out: Path) -> dict:
    return json.loads((out / "details.json").read_text())


def test_each_submission_gets_the_verdicts_its_code_earns(klass):
    _, _, out, _, stdout = klass
    details = _details(out)
    status = {name: {k: r["status"] for k, r in d["results"].items()} for name, d in details.items()}
    message = {name: {k: r["message"] for k, r in d["results"].items()} for name, d in details.items()}
    done = dict.fromkeys(KEYS, "done")
    assert status["a-pristine"] == dict.fromkeys(KEYS, "not started")
    assert status["b-reference"] == done
    assert status["c-mutant"] == {**done, "maxpool2d_backward": "wrong"}
    assert "Hint: that is average pooling's gradient" in message["c-mutant"]["maxpool2d_backward"]
    assert status["d-syntax-error"] == {**done, "relu_forward": "broken", "relu_backward": "broken"}
    assert "cnnlib/activations.py does not import: SyntaxError at line" in message["d-syntax-error"]["relu_forward"]
    assert status["e-infinite-loop"] == {**done, "relu_forward": "crashed"}
    assert "did not finish in 2 s" in message["e-infinite-loop"]["relu_forward"]
    assert status["f-flood"] == {**done, "relu_forward": "crashed"}
    assert "printed more than 1 MB" in message["f-flood"]["relu_forward"]
    assert status["g-numpy-patcher"] == {**done, "relu_forward": "wrong"}  # the patch stays in its process
    assert "differs from the reference" in message["g-numpy-patcher"]["relu_forward"]
    assert status["i-malformed"] == dict.fromkeys(KEYS, "broken")
    assert "member '../evil.py' has '..'" in message["i-malformed"]["relu_forward"]
    assert "containment: Landlock" in stdout or "containment: none" in stdout


@needs_landlock
def test_learner_code_cannot_write_the_reference_the_gradebook_or_reach_other_submissions(klass):
    base, _, out, protected, _ = klass
    result = _details(out)["h-attacker"]["results"]
    probe = result["relu_forward"]["message"]
    for what in ("reference", "copy-reference", "copy-grader", "gradebook", "canary", "other-archive"):
        assert f"{what}=PermissionError" in probe, probe
    assert "other-submissions=PermissionError" in probe, probe  # it cannot even find them
    assert "forged=0 signals=0" in probe, probe  # nor write into the grader's output, nor signal any grader
    assert "memory-limit=ValueError" in probe, probe  # nor lift its limits, even when graded as root
    assert {k: r["status"] for k, r in result.items() if k != "relu_forward"} == dict.fromkeys(KEYS[1:], "done")
    assert protected["course after"] == protected["course"]
    assert (base / "canary.txt").read_text() == "untouched\n"
    import numpy as np
    assert not (Path(np.__file__).parent / "cnnlib_probe.txt").exists()
    with open(out / "gradebook.csv") as f:
        assert "written by a submission" not in f.read()


def test_the_gradebook_has_a_row_per_submission_and_the_points_of_the_yaml(klass):
    _, subs, out, _, _ = klass
    rows = list(csv.reader((out / "gradebook.csv").open()))
    assert rows[0] == ["submission", *CHAPTER4, "total"]
    assert rows[1] == ["points possible", "2", "1", "1", "3", "1", "1", "0.5", "0.5", "10"]
    assert [r[0] for r in rows[2:]] == sorted(p.name[:-4] for p in subs)
    total = {r[0]: r[-1] for r in rows[2:]}
    assert total == {"a-pristine": "0", "b-reference": "10", "c-mutant": "7", "d-syntax-error": "7",
                     "e-infinite-loop": "8", "f-flood": "8", "g-numpy-patcher": "8",
                     "h-attacker": "8" if CONTAINED else total["h-attacker"], "i-malformed": "0"}
    verdicts = list(csv.reader((out / "verdicts.csv").open()))
    assert verdicts[0] == ["submission", *CHAPTER4] and verdicts[3][4] == "wrong"  # c-mutant's 4.4


def test_feedback_names_the_first_failing_check_and_its_hint(klass):
    _, _, out, _, _ = klass
    text = (out / "feedback" / "c-mutant.md").read_text()
    assert text.startswith("# Feedback: c-mutant\n")
    assert "Score: 7 of 10 points." in text
    assert "| 4.4 maxpool2d_backward | wrong | 0 / 3 |" in text
    assert "check 1 of 5 failed: 'hand-computed 4x4 cases'" in text
    assert "Hint: that is average pooling's gradient" in text
    assert "hashes match the manifest" in text
    assert sorted(p.name for p in (out / "feedback").iterdir()) == [
        f"{n}.md" for n in ("a-pristine", "b-reference", "c-mutant", "d-syntax-error", "e-infinite-loop",
                            "f-flood", "g-numpy-patcher", "h-attacker", "i-malformed")]


def test_grading_the_same_submissions_again_gives_the_same_files(klass, course):
    base, subs, out, _, _ = klass
    again = base / "again"
    run_cli("grade", *subs, "--out", again, "--points", base / "points.yaml", "--time-limit", 2, "--course", course,
            "--jobs", 1, cwd=base)
    for rel in ["gradebook.csv", "verdicts.csv", "details.json",
                *[f"feedback/{p.name}" for p in (out / "feedback").iterdir()]]:
        assert (again / rel).read_bytes() == (out / rel).read_bytes(), rel


def test_bad_arguments_are_named(tmp_path):
    proc = run_cli("grade", tmp_path / "nobody.zip", cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "submission" in proc.stderr and "nobody.zip" in proc.stderr
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "a.zip").write_bytes(b"")
    proc = run_cli("grade", tmp_path / "a", tmp_path / "b" / "a.zip", cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "share the name 'a'" in proc.stderr
    proc = run_cli("grade", tmp_path / "a", "--jobs", 0, cwd=tmp_path, check=False)
    assert "--jobs must be a whole number >= 1. Received: 0" in proc.stderr


# ----------------------------------------------------------------------------
# Hidden checks

HIDDEN = '''"""Instructor-only checks (a test of cnnlib grade --extra-checks)."""
import numpy as np

from cnnlib.grading.core import REF, check, compare


@check("relu_forward", "SECRET-TITLE: a 3x7 batch")
def _secret(impl):
    x = np.linspace(-1, 1, 21, dtype=np.float32).reshape(3, 7)
    compare(impl.relu_forward(x)[0], REF.relu_forward(x)[0], "SECRET-MESSAGE relu_forward")
'''


def test_hidden_checks_run_and_the_feedback_says_so_without_revealing_them(tmp_path, course):
    (tmp_path / "hidden").mkdir()
    (tmp_path / "hidden" / "secret_checks.py").write_text(HIDDEN)
    (tmp_path / "points.yaml").write_text(POINTS)
    sly = replace_function(reference_file("activations"), "relu_forward",
                           "def relu_forward(x):\n    if x.shape == (3, 7):\n        return x.copy(), (x,)\n"
                           "    return np.maximum(x, 0), (np.maximum(x, 0),)\n")
    subs = [submit(tmp_path / "r", tmp_path / "reference.zip", all_reference(), reference_answers()),
            submit(tmp_path / "s", tmp_path / "sly.zip", {**all_reference(), "activations": sly}, reference_answers()),
            submit(tmp_path / "p", tmp_path / "pristine.zip"),
            _zip(tmp_path / "malformed.zip", [("../x.py", b"", 0o100644)])]
    out = tmp_path / "grading"
    run_cli("grade", *subs, "--out", out, "--points", tmp_path / "points.yaml", "--extra-checks", tmp_path / "hidden",
            "--course", course, "--feedback", "html", cwd=tmp_path)
    details = _details(out)
    assert details["reference"]["results"]["relu_forward"]["status"] == "done"
    assert details["reference"]["results"]["relu_forward"]["total"] == 5  # 4 shipped + 1 hidden
    assert details["sly"]["results"]["relu_forward"]["status"] == "wrong"
    assert "SECRET-MESSAGE" in details["sly"]["results"]["relu_forward"]["message"]  # the instructor sees it all
    assert details["sly"]["hidden"] == {"relu_forward": 1}
    sly_feedback = (out / "feedback" / "sly.html").read_text()
    reference_feedback = (out / "feedback" / "reference.html").read_text()
    pristine_feedback = (out / "feedback" / "pristine.html").read_text()
    assert sly_feedback.startswith("<!DOCTYPE html>")
    assert "SECRET" not in sly_feedback + reference_feedback + pristine_feedback
    assert "hidden checks ran: 0 of 1 passed, then one failed (not shown)" in sly_feedback
    assert "check 5 of 5 failed: &#x27;a hidden check&#x27;" in sly_feedback
    assert "1 hidden check ran: passed" in reference_feedback
    assert "1 hidden check: not run, a check before them failed" in pristine_feedback
    malformed_feedback = (out / "feedback" / "malformed.html").read_text()  # its own message, not a hidden one's
    assert "member &#x27;../x.py&#x27; has &#x27;..&#x27;" in malformed_feedback and "not run" in malformed_feedback


# ----------------------------------------------------------------------------
# Gradescope

def _fake_autograder(tmp_path: Path, bundle: Path, submission: Path) -> Path:
    """The /autograder tree Gradescope builds: source/ (the bundle unpacked), run_autograder, submission/."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as z:
        z.extractall(root / "source")
        assert (z.getinfo("run_autograder").external_attr >> 16) & stat.S_IXUSR
    (root / "run_autograder").write_bytes((root / "source" / "run_autograder").read_bytes())
    (root / "submission").mkdir()
    (root / "submission" / submission.name).write_bytes(submission.read_bytes())
    return root


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    """``cnnlib publish gradescope`` with chapter 04's points and a hidden check."""
    folder = tmp_path_factory.mktemp("gradescope")
    (folder / "points.yaml").write_text(POINTS)
    (folder / "hidden").mkdir()
    (folder / "hidden" / "secret_checks.py").write_text(HIDDEN)
    run_cli("publish", "gradescope", "--out", folder / "autograder.zip", "--points", folder / "points.yaml",
            "--extra-checks", folder / "hidden", cwd=folder)
    return folder / "autograder.zip"


@pytest.mark.parametrize("who", ["pristine", "reference", "mutant"])
def test_the_gradescope_bundle_writes_results_json_in_gradescopes_format(who, bundle, tmp_path):
    names = zipfile.ZipFile(bundle).namelist()
    assert {"setup.sh", "run_autograder", "points.yaml", "hidden/secret_checks.py", "cnnlib/grading/core.py",
            "solutions/conv.py"} <= set(names)
    assert not any("__pycache__" in n for n in names)
    files = {"pristine": {}, "reference": all_reference(),
             "mutant": {**all_reference(), "pooling": mutant_file("pooling", {"maxpool2d_backward":
                                                                               "average pooling's gradient"})}}[who]
    upload = submit(tmp_path / "learner", tmp_path / "submission.zip", files,
                    None if who == "pristine" else reference_answers())
    root = _fake_autograder(tmp_path, bundle, upload)
    assert subprocess.run(["bash", "-n", root / "source" / "setup.sh"], check=False).returncode == 0
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "CNNLIB_AUTOGRADER_ROOT": str(root),
           "PYTHON": sys.executable}
    proc = subprocess.run(["bash", root / "run_autograder"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads((root / "results" / "results.json").read_text())
    tests = results["tests"]
    assert [t["name"] for t in tests] == CHAPTER4
    assert all(set(t) >= {"name", "score", "max_score", "output", "visibility"} for t in tests)
    assert all(t["visibility"] == "visible" and isinstance(t["output"], str) for t in tests)
    assert [t["max_score"] for t in tests] == [2, 1, 1, 3, 1, 1, 0.5, 0.5]
    assert results["score"] == sum(t["score"] for t in tests) == {"pristine": 0, "reference": 10, "mutant": 7}[who]
    by_name = {t["name"]: t for t in tests}
    if who == "mutant":
        assert "Hint: that is average pooling's gradient" in by_name["4.4 maxpool2d_backward"]["output"]
    if who == "reference":
        assert "1 hidden check ran: passed" in by_name["4.1 relu_forward"]["output"]
    assert "SECRET" not in json.dumps(results)
    (tmp_path / f"results-{who}.json").write_text(json.dumps(results, indent=1))


# ----------------------------------------------------------------------------
# GitHub Classroom

def test_the_classroom_workflow_has_one_step_per_exercise_and_its_commands_run(tmp_path, course):
    workflow = tmp_path / ".github" / "workflows" / "classroom.yml"
    run_cli("publish", "classroom", "--out", workflow, cwd=tmp_path)
    spec = yaml.safe_load(workflow.read_text())
    assert spec["on"] == ["push", "repository_dispatch"]
    steps = spec["jobs"]["run-autograding-tests"]["steps"]
    graders = [s for s in steps if s.get("uses") == "education/autograding-command-grader@v1"]
    columns = batch.load_points()
    assert [s["with"]["test-name"] for s in graders] == [c.label for c in columns]
    assert [s["with"]["max-score"] for s in graders] == ["1"] * len(columns)
    reporter = steps[-1]
    assert reporter["uses"] == "education/autograding-grading-reporter@v1"
    assert reporter["with"]["runners"].split(",") == [s["id"] for s in graders]
    assert set(reporter["env"]) == {f"{s['id'].upper()}_RESULTS" for s in graders}
    # The commands, run as the command grader runs them: in the learner's repository, from its root.
    import shutil
    repos = {}
    for who, files in (("pristine", {}), ("reference", {"activations": reference_file("activations")})):
        repo = tmp_path / who
        shutil.copytree(course, repo)
        write_course(repo, files, reference_answers() if files else None)
        repos[who] = repo
    env = {"PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]), "HOME": str(tmp_path)}
    for step in (s for s in graders if s["with"]["test-name"] in ("4.1 relu_forward", "4.q1 concept check")):
        for who, repo in repos.items():
            proc = subprocess.run(step["with"]["command"], shell=True, cwd=repo, env=env, capture_output=True,
                                  text=True, timeout=300, check=False)
            assert proc.returncode == (0 if who == "reference" else 1), (step["name"], who, proc.stdout, proc.stderr)
    proc = run_cli("publish", "classroom", "--extra-checks", tmp_path, cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "cannot be kept from learners" in proc.stderr


# ----------------------------------------------------------------------------
# Nothing outlives a run

def _graders() -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"cnnlib.grading.batch import child" in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


@pytest.fixture
def looping(tmp_path):
    (tmp_path / "points.yaml").write_text(POINTS)
    source = replace_function(reference_file("activations"), "relu_forward",
                              "def relu_forward(x):\n    while True:\n        pass\n")
    return submit(tmp_path / "c", tmp_path / "looping.zip", {"activations": source})


def test_a_submission_over_its_time_limit_is_stopped_with_all_it_started(looping, tmp_path):
    before = _temporaries()
    run_cli("grade", looping, "--out", tmp_path / "out", "--points", tmp_path / "points.yaml", "--time-limit", 60,
            "--submission-time-limit", 3, cwd=tmp_path)
    result = _details(tmp_path / "out")["looping"]
    assert result["results"]["relu_forward"]["status"] == "crashed"
    assert "took longer than 3 s" in result["results"]["maxpool2d_forward"]["message"]
    assert _graders() == [] and _temporaries() == before


def test_sigterm_stops_the_batch_and_leaves_nothing_behind(looping, tmp_path):
    before = _temporaries()
    env = {k: v for k, v in os.environ.items() if k != "CNNLIB_SOLUTIONS"}
    proc = subprocess.Popen([sys.executable, "-m", "cnnlib.cli", "grade", str(looping), "--out", str(tmp_path / "out"),
                             "--points", str(tmp_path / "points.yaml"), "--time-limit", "60"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    import time
    deadline = time.monotonic() + 60
    while not _graders() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # inside the loop by now
    proc.terminate()
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "stopped by SIGTERM" in stderr, stderr
    assert _graders() == [] and _temporaries() == before
    assert not (tmp_path / "out" / "gradebook.csv").exists()  # no gradebook of half a batch
