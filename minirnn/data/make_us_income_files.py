"""Rebuild minirnn/data/files/us_income/ from libpysal's wheel.

Not needed at run time (the files are in the package); kept so anyone can check how they were
made. libpysal is not a dependency: the two files are copied and the shapefile is read with the
few functions below. Fetch the wheel, then run this module:

    pip download --no-deps libpysal==4.14.1 -d /tmp/pysal
    python -m minirnn.data.make_us_income_files /tmp/pysal/libpysal-4.14.1-py3-none-any.whl

What it writes (the folder also holds a hand-written README.md, which this script leaves alone):
    us_income/usjoin.csv        48 states' per-capita income 1929-2009, the original file unchanged
    us_income/states48.gal      their contiguity graph (GAL format), the original file unchanged
    us_income/states48.csv      per state: name, postal abbreviation and the longitude and latitude
                                of its centroid, computed here from us48.shp/us48.dbf (for drawing
                                the graph like a map), in usjoin.csv's row order
    us_income/LICENSE.txt       libpysal's BSD-3-Clause licence, unchanged
"""
import struct
import sys
import zipfile

import numpy as np

from .make_files import FILES, wheel_licence

EXAMPLE = "libpysal/examples/us_income"


def read_dbf(raw):
    """The records of a dBase III table as a list of {field name: stripped text}."""
    num_records, header_length, record_length = struct.unpack("<4xIHH", raw[:12])
    fields, offset = [], 32
    while raw[offset] != 0x0D:  # each 32-byte field descriptor: name (11 bytes), type, ..., length
        fields.append((raw[offset:offset + 11].split(b"\0")[0].decode("ascii"), raw[offset + 16]))
        offset += 32
    records = []
    for r in range(num_records):
        start = header_length + r * record_length + 1  # after the deletion flag
        record = {}
        for name, length in fields:
            record[name] = raw[start:start + length].decode("latin-1").strip()
            start += length
        records.append(record)
    return records


def polygon_centroids(raw):
    """The area-weighted centroid (x, y) of every polygon record of an ESRI shapefile.

    Each record's rings are summed with their signed areas (the shoelace formula), so a hole,
    whose ring runs the other way, is subtracted and islands are weighted by their size."""
    centroids, offset = [], 100  # a 100-byte file header, then records
    while offset < len(raw):
        _, content_length = struct.unpack(">ii", raw[offset:offset + 8])  # in 16-bit words
        start = offset + 8
        shape_type, = struct.unpack("<i", raw[start:start + 4])
        if shape_type != 5:
            raise ValueError(f"expected polygon records (shape type 5); got {shape_type}")
        num_parts, num_points = struct.unpack("<ii", raw[start + 36:start + 44])
        parts = list(struct.unpack(f"<{num_parts}i", raw[start + 44:start + 44 + 4 * num_parts]))
        first = start + 44 + 4 * num_parts
        points = np.frombuffer(raw, "<f8", 2 * num_points, first).reshape(num_points, 2)
        area = moment_x = moment_y = 0.0
        for begin, end in zip(parts, parts[1:] + [num_points]):
            x, y = points[begin:end, 0], points[begin:end, 1]
            cross = x[:-1] * y[1:] - x[1:] * y[:-1]  # rings are closed: last point = first
            area += cross.sum() / 2
            moment_x += ((x[:-1] + x[1:]) * cross).sum() / 6
            moment_y += ((y[:-1] + y[1:]) * cross).sum() / 6
        centroids.append((moment_x / area, moment_y / area))
        offset = start + 2 * content_length
    return centroids


def write_us_income_files(wheel_path):
    """Copy usjoin.csv, states48.gal and the licence out of the wheel; write states48.csv."""
    with zipfile.ZipFile(wheel_path) as wheel:
        read = lambda name: wheel.read(f"{EXAMPLE}/{name}")
        licence = wheel_licence(wheel)
        usjoin, gal = read("usjoin.csv"), read("states48.gal")
        records, centroids = read_dbf(read("us48.dbf")), polygon_centroids(read("us48.shp"))
    names = [line.split(",")[0].strip('"') for line in usjoin.decode().splitlines()[1:]]
    by_name = {rec["STATE_NAME"]: (rec["STATE_ABBR"], c) for rec, c in zip(records, centroids)}
    rows = ["name,abbreviation,longitude,latitude"]
    for name in names:  # usjoin.csv's order, which is also the order of the ids in states48.gal
        abbreviation, (lon, lat) = by_name[name]
        rows.append(f"{name},{abbreviation},{lon:.3f},{lat:.3f}")
    folder = FILES / "us_income"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "usjoin.csv").write_bytes(usjoin)
    (folder / "states48.gal").write_bytes(gal)
    (folder / "states48.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "LICENSE.txt").write_bytes(licence)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m minirnn.data.make_us_income_files LIBPYSAL_WHEEL.whl")
    write_us_income_files(sys.argv[1])
