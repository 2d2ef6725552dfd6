"""The speed verdict on a deliberately slow learner: 2.1, 4.3 and 4.4 written with Python loops.

    python benchmarks/slow_learner.py /tmp/slow-course

Makes a copy of the course in the folder given, with every exercise solved (as
tests/maintainer/test_isolation.py's ``solved_copy`` does), then rewrites im2col,
maxpool2d_forward and maxpool2d_backward as a learner might first write them, with
loops over windows (correct, but slow), and prints ``cnnlib progress`` for them and two
fast neighbours: the autograder's speed verdict, measured in the learner's sandbox.
"""
import os
import subprocess
import sys
import time
from pathlib import Path

for helpers in ("tests/maintainer", "tools"):  # solved_copy, and the make_class it uses
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / helpers))
from test_isolation import solved_copy

SLOW = {
"conv": ("im2col", '''
    kH, kW = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    N, C, H, W = x.shape
    H_out = (H + 2 * padding - kH) // stride + 1
    W_out = (W + 2 * padding - kW) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    cols = np.empty((N, H_out, W_out, kH * kW * C), x.dtype)
    for n in range(N):
        for i in range(H_out):
            for j in range(W_out):
                window = xp[n, :, i * stride:i * stride + kH, j * stride:j * stride + kW]  # (C, kH, kW)
                cols[n, i, j] = window.transpose(1, 2, 0).ravel()
    return cols
'''),
"pooling_f": ("maxpool2d_forward", '''
    kH, kW = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    if stride is None:
        stride = (kH, kW)
    sH, sW = (stride, stride) if isinstance(stride, int) else stride
    N, C, H, W = x.shape
    H_out, W_out = (H + 2 * padding - kH) // sH + 1, (W + 2 * padding - kW) // sW + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=-np.inf)
    out = np.empty((N, C, H_out, W_out), x.dtype)
    argmax = np.empty((N, C, H_out, W_out), np.int64)
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * sH:i * sH + kH, j * sW:j * sW + kW].reshape(N, C, -1)
            argmax[:, :, i, j] = window.argmax(axis=2)
            out[:, :, i, j] = window.max(axis=2)
    return out, (x, (kH, kW), (sH, sW), padding, argmax)
'''),
"pooling_b": ("maxpool2d_backward", '''
    x, (kH, kW), (sH, sW), padding, argmax = cache
    N, C, H, W = x.shape
    H_out, W_out = argmax.shape[2:]
    dxp = np.zeros((N, C, H + 2 * padding, W + 2 * padding), dout.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    u, v = divmod(int(argmax[n, c, i, j]), kW)
                    dxp[n, c, i * sH + u, j * sW + v] += dout[n, c, i, j]
    return dxp[:, :, padding:padding + H, padding:padding + W]
'''),
}

def replace_body(path, name, body):
    import ast
    src = path.read_text()
    lines = src.splitlines(keepends=True)
    node = next(n for n in ast.parse(src).body if isinstance(n, ast.FunctionDef) and n.name == name)
    start = node.body[1].lineno - 1 if isinstance(node.body[0], ast.Expr) else node.body[0].lineno - 1
    lines[start:node.end_lineno] = [body.lstrip("\n")]
    path.write_text("".join(lines))

root = Path(sys.argv[1])
root.mkdir(parents=True, exist_ok=True)
solved_copy(root)
replace_body(root / "cnnlib/conv.py", *SLOW["conv"])
replace_body(root / "cnnlib/pooling.py", *SLOW["pooling_f"])
replace_body(root / "cnnlib/pooling.py", *SLOW["pooling_b"])
env = {k: v for k, v in os.environ.items() if k != "CNNLIB_SOLUTIONS"}
env["PYTHONPATH"] = str(root)
t = time.time()
out = subprocess.run(["cnnlib", "progress", "2.1", "4.3", "4.4", "2.2", "4.1"], cwd=root, env=env,
                     capture_output=True, text=True, check=False)
print(out.stdout[-6000:], out.stderr[-3000:])
print(f"graded in {time.time()-t:.0f} s")
