"""Writes the .npy fixtures of tests/io_test.cpp with numpy's own writer.

Run from anywhere: python3 tests/data/io/make_io_fixtures.py (numpy >= 1.17). The values are
(i + 0.5) / n, which the test recomputes in C++: both sides round the same exact quotient.
"""
import io
import pathlib

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent


def grid(n):
    return (np.arange(n) + 0.5) / n


def save(name, array, **kwargs):
    with open(HERE / name, "wb") as f:
        np.lib.format.write_array(f, array, **kwargs)


def main():
    # Readable: float32 1-D, float64 (n, 1), format version 2.0.
    save("f32_7.npy", grid(7).astype(np.float32))
    save("f64_257x1.npy", grid(257).reshape(257, 1))
    save("f64_7_v2.npy", grid(7), version=(2, 0))
    # Rejected: byte order, dtypes, a 2-D Fortran-order array, a cut payload.
    save("f64_big_endian.npy", grid(7).astype(">f8"))
    save("int32.npy", np.arange(7, dtype="<i4"))
    save("uint8.npy", np.arange(7, dtype="|u1"))
    save("float16.npy", grid(7).astype("<f2"))
    save("complex128.npy", grid(7).astype("<c16"))
    save("fortran_3x2.npy", np.asfortranarray(grid(6).reshape(3, 2)))
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, grid(7))
    (HERE / "f64_7_truncated.npy").write_bytes(buffer.getvalue()[:-12])  # 5 values + 4 bytes


if __name__ == "__main__":
    main()
