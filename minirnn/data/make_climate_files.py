"""Rebuild minirnn/data/files/climate/ from the statsmodels wheel.

Not needed at run time (the files are in the package); kept so anyone can check how they were
made. statsmodels is not a dependency: the files are read straight out of the wheel. Fetch the
wheel, then run this module:

    pip download --no-deps statsmodels==0.15.0 -d /tmp/sm
    python -m minirnn.data.make_climate_files /tmp/sm/statsmodels-0.15.0-*.whl

What it writes (the folder also holds a hand-written README.md, which this script leaves alone):
    climate/elnino.csv.gz   statsmodels/datasets/elnino/elnino.csv, byte for byte, gzipped
    climate/co2.csv.gz      statsmodels/datasets/co2/co2.csv, byte for byte, gzipped
    climate/LICENSE.txt     statsmodels' BSD-3-Clause licence, unchanged
"""
import sys
import zipfile

from .make_files import FILES, write_gzipped

CLIMATE_FILES = {"elnino.csv.gz": "statsmodels/datasets/elnino/elnino.csv",
                 "co2.csv.gz": "statsmodels/datasets/co2/co2.csv"}
LICENCE_FILE = "statsmodels-0.15.0.dist-info/licenses/LICENSE.txt"


def write_climate_files(wheel_path):
    """Copy the two csv files out of the wheel, gzipped with a fixed mtime (so the same wheel
    always gives the same bytes), and the wheel's licence beside them."""
    folder = FILES / "climate"
    with zipfile.ZipFile(wheel_path) as wheel:
        for name, inner in CLIMATE_FILES.items():
            write_gzipped(folder / name, wheel.read(inner))
        (folder / "LICENSE.txt").write_bytes(wheel.read(LICENCE_FILE))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m minirnn.data.make_climate_files STATSMODELS_WHEEL.whl")
    write_climate_files(sys.argv[1])
