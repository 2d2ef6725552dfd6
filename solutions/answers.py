"""Reference answers to the concept checks (``cnnlib.questions``), with the reasoning in one line each."""
import math

ANSWERS = {
    "1.q1": 13,          # floor((28 + 2*1 - 5) / 2) + 1
    "1.q2": 7,           # each 3x3 layer adds 3 - 1 = 2 pixels: 1 + 3 * 2
    "2.q1": 128,         # 2 images x 8 x 8 output positions (padding 1 keeps 8 x 8)
    "2.q2": (128, 16),   # (windows, kH*kW*C_in) @ (kH*kW*C_in, C_out)
    "3.q1": "b",         # dW = sum over windows of dout times the window the weight multiplied
    "3.q2": "b",         # truncation ~h**2 and rounding ~eps/h leave about 1e-10
    "4.q1": 0,           # a window, nothing learned
    "4.q2": 1,           # only the maximum moved the output
    "5.q1": 3136 * 128 + 128,
    "5.q2": 0.0,         # p - y: both sum to 1
    "6.q1": 0.01 / (1 - 0.9),
    "6.q2": 1 / 200,     # step s uses (s + 1) / W of the peak during warm-up
    "7.q1": 2 * 64,      # gamma and beta per channel
    "7.q2": 1 / (1 - 0.25),
    "8.q1": 422,         # ceil(54,000 / 128): the last batch of 112 digits is a step too
    "8.q2": "a",         # the update runs no forward pass: the caches are the step's own
    "10.q1": math.sqrt(2 / (32 * 3 * 3)),
    "10.q2": math.log(10),
    "11.q1": 64 * 3 * 3 + 64 * 128,  # one 3x3 filter per channel, then a 64 -> 128 matrix per position
    "11.q2": "b",        # the identity path passes dL/dout through the fork untouched
    "12.q1": "c",        # a 6 turned upside down is a 9; small shifts, turns and patches keep the digit
    "12.q2": 25,         # corners 0 .. 4 along each axis, independently: 5 * 5
}
