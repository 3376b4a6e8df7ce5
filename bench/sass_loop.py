#!/usr/bin/env python3
"""Static instruction counts of a CUDA kernel's main loop, from its SASS.

For each kernel whose mangled name matches --kernel, finds its outermost loops (the spans of
backward branches that lie inside no other) and prints the instructions in each, by class: MUFU
(the special-function unit: exp2, log2, reciprocal), FP32, FP64, integer, memory, control.
This is not a timing: it is the instruction budget the pass spends per group of samples, to
set against the device's issue rate when a pass is arithmetic-bound. Needs cuobjdump (the
CUDA toolkit, or the nvidia-cuda-cuobjdump wheel):

    python3 bench/sass_loop.py build/kernels/CMakeFiles/betamix_kernels.dir/pass.cu.o \\
        --arch sm_90 --kernel 'pass_kernelILi2ELi1ELb1E'

An existing `cuobjdump -sass` listing can be given instead of the object file.
"""

import argparse
import re
import subprocess
import sys

CLASSES = [
    ("MUFU", re.compile(r"^MUFU")),
    ("FP64", re.compile(r"^(DADD|DFMA|DMUL|DSETP|F2F\.F64|F2F\.F32\.F64|I2F\.F64|F2I\.F64)")),
    ("FP32", re.compile(r"^(FADD|FFMA|FMUL|FMNMX|FSEL|FSETP|FCHK|HFMA2|I2FP|F2I|I2F|FRND)")),
    ("memory", re.compile(r"^(LDG|STG|LDS|STS|LDC|LDL|STL|ULDC|LD|ST)")),
    ("control", re.compile(r"^(BRA|BSSY|BSYNC|CALL|RET|EXIT|BAR|WARPSYNC|NOP)")),
]


def listing(path, arch):
    if path.endswith(".sass") or path.endswith(".txt"):
        return open(path).read()
    return subprocess.run(["cuobjdump", "-sass", "-arch", arch, path], check=True,
                          capture_output=True, text=True).stdout


def functions(text):
    name, body = None, []
    for line in text.splitlines():
        m = re.search(r"Function : (\S+)", line)
        if m:
            if name:
                yield name, body
            name, body = m.group(1), []
            continue
        m = re.match(r"\s+/\*([0-9a-f]{4,})\*/\s+(.*?)\s*;", line)
        if m and name:
            body.append((int(m.group(1), 16), m.group(2)))
    if name:
        yield name, body


def opcode(ins):
    return re.sub(r"^@!?U?P\w+\s+", "", ins).split()[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", help="object file, cubin, or a cuobjdump -sass listing")
    ap.add_argument("--arch", default="sm_90")
    ap.add_argument("--kernel", default="pass_kernel", help="regex on the mangled name")
    a = ap.parse_args()
    found = False
    for name, body in functions(listing(a.input, a.arch)):
        if not re.search(a.kernel, name):
            continue
        found = True
        spans = []
        for addr, ins in body:
            m = re.match(r"^(?:@!?P\d\s+)?BRA\s+(?:`\(\.L_x_\d+\)\s*)?0x([0-9a-f]+)", ins)
            if m and int(m.group(1), 16) < addr:
                spans.append((int(m.group(1), 16), addr))
        # The outermost loops: spans inside no other span.
        outer = sorted(sp for sp in spans
                       if not any(o != sp and o[0] <= sp[0] and sp[1] <= o[1] for o in spans))
        if not outer:
            print(f"{name}: no loop")
            continue
        print(name)
        for lo, hi in outer:
            loop = [opcode(ins) for addr, ins in body if lo <= addr <= hi]
            counts = {c: 0 for c, _ in CLASSES}
            counts["integer/other"] = 0
            for op in loop:
                for c, rx in CLASSES:
                    if rx.match(op):
                        counts[c] += 1
                        break
                else:
                    counts["integer/other"] += 1
            print(f"  loop 0x{lo:x}-0x{hi:x}: {len(loop)} instructions: " +
                  ", ".join(f"{c} {v}" for c, v in counts.items()))
    if not found:
        sys.exit(f"no kernel matches {a.kernel!r}")


if __name__ == "__main__":
    main()
