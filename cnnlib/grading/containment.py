"""Keeping a learner's code in its place when an instructor grades a class (``cnnlib grade``).

A learner grading their own work needs only the sandbox (``sandbox.py``): the
code is theirs. An instructor grading a class runs code nobody has read, so
``cnnlib grade`` contains the sandbox's processes further, with Linux's
Landlock (kernel 5.13+, no privileges needed). Once contained, a process and
everything it starts

- may write in its scratch folder only (not the course, the reference
  solutions, the gradebook, nor another submission's folder);
- may read everything else except the paths the policy names (the other
  submissions, the instructor's hidden checks, the gradebook);
- may not open TCP connections (Landlock ABI 4+), nor signal, trace or read
  the memory of a process outside (the grader, another submission; ABI 6+
  for signals);
- runs without capabilities when it runs as root (no raising its limits).

The policy travels as JSON in ``CNNLIB_CONTAIN``; the fork server applies it
(``contained.py``, its last preload) and so does every worker (``worker.py``),
before any learner file is imported. A kernel without Landlock leaves the
processes uncontained: ``describe()`` says so, and ``cnnlib grade`` prints it.
"""
from __future__ import annotations

import ctypes
import json
import os
import sys

ENV = "CNNLIB_CONTAIN"

# Landlock's system calls have one number on every architecture (asm-generic).
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_VERSION_FLAG, _RULE_PATH_BENEATH, _RULE_NET_PORT = 1, 1, 2
_PR_SET_NO_NEW_PRIVS, _PR_CAPBSET_DROP, _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 38, 24, 47, 4

# Filesystem rights, by the ABI that introduced them.
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_ABI_FS = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
_TRUNCATE, _IOCTL_DEV = 1 << 14, 1 << 15
_FILE_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | _TRUNCATE | _IOCTL_DEV  # what a rule on a file may grant
_NET_ALL = 0b11  # bind and connect TCP (ABI 4)
_SCOPE_ALL = 0b11  # abstract unix sockets and signals (ABI 6)


class _Ruleset(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


_libc = ctypes.CDLL(None, use_errno=True)


def _syscall(number, *args) -> int:
    result = _libc.syscall(number, *args)
    if result < 0:
        e = ctypes.get_errno()
        raise OSError(e, f"Landlock: {os.strerror(e)}")
    return result


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 where there is none (not Linux, too old, or switched off)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        return _syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_VERSION_FLAG))
    except (OSError, AttributeError):
        return 0


def describe() -> str:
    """One line on how learner code is contained on this machine."""
    abi = landlock_abi()
    if not abi:
        return ("containment: none beyond the sandbox (this kernel has no Landlock): learner code runs in its "
                "own processes with limits, but can read and write what you can; grade in a container or VM")
    parts = ["writes only in its scratch folder", "reads all but other submissions, hidden checks and outputs"]
    parts.append("no TCP" if abi >= 4 else "TCP open (Landlock ABI < 4)")
    parts.append("cannot signal or trace the grader" if abi >= 6 else "cannot trace the grader (signals: ABI < 6)")
    return f"containment: Landlock ABI {abi}: " + ", ".join(parts)


def readable_roots(excluded) -> list[str]:
    """Paths that together hold everything readable except the ``excluded`` trees.

    Landlock only grants, so "all but X" is granted as the siblings of X and of each
    folder above it. Symbolic links are left out: Landlock judges the object a path
    resolves to, which is reached through its real path anyway.
    """
    excluded = {os.path.realpath(p) for p in excluded}
    above = {os.path.dirname(p) for p in excluded}
    for p in list(above):
        while p != os.path.dirname(p):
            p = os.path.dirname(p)
            above.add(p)
    if "/" not in above and "/" not in excluded:
        return ["/"]
    roots: list[str] = []

    def walk(folder):
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            path = os.path.join(folder, entry.name)
            if path in excluded or entry.is_symlink():
                continue
            if path in above and entry.is_dir(follow_symlinks=False):
                walk(path)
            elif entry.is_dir(follow_symlinks=False) or entry.is_file(follow_symlinks=False):
                roots.append(path)

    walk("/")
    return roots


def policy(scratch: str, readable: list[str], excluded: list[str]) -> str:
    """The JSON for ``CNNLIB_CONTAIN``: write in ``scratch``; read ``readable`` and all but ``excluded``.

    A ``readable`` path that holds an excluded one is left out: granting it would grant what it holds.
    """
    out = [os.path.realpath(p) for p in excluded]
    extra = {r for r in map(os.path.realpath, readable)
             if not any(x == r or x.startswith(r.rstrip("/") + "/") for x in out)}
    return json.dumps({"write": [os.path.realpath(scratch)], "read": sorted(set(readable_roots(out)) | extra)})


def apply_from_environment() -> bool:
    """Contain this process as ``CNNLIB_CONTAIN`` says; False when it says nothing.

    Raises OSError when the policy cannot be applied: the caller must then not run learner code.
    """
    spec = os.environ.get(ENV)
    if not spec:
        return False
    rules = json.loads(spec)
    restrict(rules["read"], rules["write"])
    return True


def restrict(read, write) -> None:
    """Landlock this process (and all it starts): read ``read``, read and write ``write``, nothing else."""
    abi = landlock_abi()
    if not abi:
        raise OSError("Landlock is not available on this kernel: learner code cannot be contained")
    handled = _ABI_FS[max(v for v in _ABI_FS if v <= abi)]
    attr = _Ruleset(handled, _NET_ALL if abi >= 4 else 0, _SCOPE_ALL if abi >= 6 else 0)
    size = ctypes.sizeof(_Ruleset) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = _syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    try:
        readonly = _EXECUTE | _READ_FILE | _READ_DIR
        for path in read:
            _add(ruleset, path, readonly, handled)
        for path in write:
            _add(ruleset, path, handled, handled)
        _add(ruleset, "/dev/null", _READ_FILE | _WRITE_FILE | _TRUNCATE, handled)
        if _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        _drop_capabilities()
        _syscall(_RESTRICT_SELF, ruleset, ctypes.c_uint32(0))
    finally:
        os.close(ruleset)


def _add(ruleset: int, path: str, rights: int, handled: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # gone since the policy was written: nothing to grant
    try:
        if not os.path.isdir(path):
            rights &= _FILE_RIGHTS
        rule = _PathBeneath(rights & handled, fd)
        _syscall(_ADD_RULE, ruleset, ctypes.c_int(_RULE_PATH_BENEATH), ctypes.byref(rule), ctypes.c_uint32(0))
    finally:
        os.close(fd)


def _drop_capabilities() -> None:
    """As root, give up every capability, so that learner code cannot raise its limits or reboot."""
    if os.geteuid() != 0:
        return
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            last = int(f.read())
    except (OSError, ValueError):
        last = 63
    for cap in range(last + 1):
        _libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
    _libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: empty (two 32-bit words each)
    if _libc.capset(header, data) != 0:
        raise OSError(ctypes.get_errno(), "capset: the capabilities could not be dropped")
