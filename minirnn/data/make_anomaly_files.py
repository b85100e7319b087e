"""Rebuild minirnn/data/files/ucr_internal_bleeding/ and mitbih_ecg/ from the aeon and sktime
wheels.

Not needed at run time (the files are in the package); kept so anyone can check how they were
made. Neither package is a dependency: the files are read straight out of the wheels. Fetch the
wheels, then run this module:

    pip download --no-deps aeon==1.6.0 -d /tmp/aeon
    pip download --no-deps sktime==1.2.0 -d /tmp/sktime
    python -m minirnn.data.make_anomaly_files /tmp/aeon/aeon-1.6.0-py3-none-any.whl \
        /tmp/sktime/sktime-1.2.0-py3-none-any.whl

What it writes (each folder also holds a hand-written README.md, which this script leaves alone):
    ucr_internal_bleeding/135_UCR_Anomaly_InternalBleeding16_TEST.csv.gz
        aeon's TEST file (the whole series, 7,501 points), byte for byte, gzipped. aeon's TRAIN
        file is not shipped: the script checks that it is exactly the TEST file's first 1,200
        rows, so `load_ucr_internal_bleeding` takes those rows as the training part.
    ucr_internal_bleeding/LICENSE.txt   aeon's BSD-3-Clause licence, unchanged
    mitbih_ecg/mitdb.csv.gz             sktime's mitdb.csv, byte for byte, gzipped
    mitbih_ecg/LICENSE.txt              sktime's BSD-3-Clause licence, unchanged
The yahoo.csv beside mitdb.csv in the sktime wheel is not taken (its terms forbid
redistribution).
"""
import sys
import zipfile

from .make_files import FILES, wheel_licence, write_gzipped

UCR_FOLDER = "aeon/datasets/data/KDD-TSAD_135"
UCR_NAME = "135_UCR_Anomaly_InternalBleeding16"
UCR_TRAIN_ROWS = 1200
MITDB_FILE = "sktime/datasets/data/mitdb/mitdb.csv"


def write_ucr_files(aeon_wheel):
    """aeon's TEST csv gzipped, after checking that its TRAIN csv is the TEST csv's prefix."""
    with zipfile.ZipFile(aeon_wheel) as wheel:
        train = wheel.read(f"{UCR_FOLDER}/{UCR_NAME}_TRAIN.csv").decode().splitlines()
        test_bytes = wheel.read(f"{UCR_FOLDER}/{UCR_NAME}_TEST.csv")
        licence = wheel_licence(wheel)
    test = test_bytes.decode().splitlines()
    if len(train) != UCR_TRAIN_ROWS + 1 or train != test[:UCR_TRAIN_ROWS + 1]:
        raise ValueError(f"aeon's TRAIN file is not the header and first {UCR_TRAIN_ROWS} rows "
                         f"of its TEST file: the loader's rule would be wrong")
    folder = FILES / "ucr_internal_bleeding"
    write_gzipped(folder / f"{UCR_NAME}_TEST.csv.gz", test_bytes)
    (folder / "LICENSE.txt").write_bytes(licence)


def write_mitdb_files(sktime_wheel):
    """sktime's mitdb.csv gzipped, and sktime's licence."""
    with zipfile.ZipFile(sktime_wheel) as wheel:
        ecg, licence = wheel.read(MITDB_FILE), wheel_licence(wheel)
    folder = FILES / "mitbih_ecg"
    write_gzipped(folder / "mitdb.csv.gz", ecg)
    (folder / "LICENSE.txt").write_bytes(licence)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m minirnn.data.make_anomaly_files AEON_WHEEL.whl "
                 "SKTIME_WHEEL.whl")
    write_ucr_files(sys.argv[1])
    write_mitdb_files(sys.argv[2])
