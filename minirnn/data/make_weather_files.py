"""Rebuild minirnn/data/files/seattle_weather/ from the vega_datasets wheel.

Not needed at run time (the file is in the package); kept so anyone can check how it was made.
vega_datasets is not a dependency: the file is read straight out of the wheel. Fetch the wheel,
then run this module:

    pip download --no-deps vega_datasets==0.9.0 -d /tmp/vega
    python -m minirnn.data.make_weather_files /tmp/vega/vega_datasets-0.9.0-py3-none-any.whl

What it writes (the folder also holds a hand-written README.md, which this script leaves alone):
    seattle_weather/seattle-weather.csv.gz   the original file, byte for byte, gzipped
    seattle_weather/LICENSE.txt              vega_datasets' MIT licence, unchanged
"""
import sys
import zipfile

from .make_files import FILES, write_gzipped

WEATHER_FILE = "vega_datasets/_data/seattle-weather.csv"
LICENCE_FILE = "vega_datasets-0.9.0.dist-info/LICENSE"


def write_weather_files(wheel_path):
    """Copy the daily Seattle weather file out of the wheel, gzipped with a fixed mtime (so the
    same wheel always gives the same bytes), and the wheel's licence beside it."""
    with zipfile.ZipFile(wheel_path) as wheel:
        weather, licence = wheel.read(WEATHER_FILE), wheel.read(LICENCE_FILE)
    folder = FILES / "seattle_weather"
    write_gzipped(folder / "seattle-weather.csv.gz", weather)
    (folder / "LICENSE.txt").write_bytes(licence)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m minirnn.data.make_weather_files VEGA_DATASETS_WHEEL.whl")
    write_weather_files(sys.argv[1])
