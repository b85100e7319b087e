"""US per-capita income by state, 1929-2009, and the contiguity graph of the 48 states: a real
graph time series shipped in the package (from libpysal's us_income example).

Shape legend: T years, N states (48, the contiguous United States without DC).

    data = load_us_income()
    data["income"]       (81, 48) float64, dollars per person, year by state
    data["adjacency"]    (48, 48) float64, 1 where two states share a border or a corner point
    data["years"], data["names"], data["abbreviations"], data["centroids"] (48, 2) lon, lat

The states are in alphabetical order, which is the order of usjoin.csv's rows and of the ids in
states48.gal. Source, licence and what was derived: minirnn/data/files/us_income/README.md;
minirnn/data/make_us_income_files.py rebuilds the files.
"""
import csv

import numpy as np

from .datasets import data_file

FOLDER = "us_income"


def read_gal(text):
    """A GAL contiguity file -> (N, N) float64 0/1 adjacency. The first line is N; then, per
    node, a line 'id count' and a line with its `count` neighbour ids (0-based here)."""
    lines = text.split("\n")
    N = int(lines[0].split()[-1])
    adjacency = np.zeros((N, N))
    for k in range(N):
        node, count = (int(v) for v in lines[1 + 2 * k].split())
        neighbours = [int(v) for v in lines[2 + 2 * k].split()]
        if len(neighbours) != count:
            raise ValueError(f"GAL line for node {node} lists {len(neighbours)} neighbours, "
                             f"not {count}")
        adjacency[node, neighbours] = 1.0
    return adjacency


def load_us_income():
    """The 48 contiguous states' per-capita personal income, 1929-2009 (81 years, US Bureau of
    Economic Analysis via libpysal), and their contiguity graph (queen: a shared corner counts,
    so Arizona and Colorado are neighbours).

    Returns a dict: income (81, 48) float64 (current dollars, not adjusted for inflation; year
    by state), years (81,) int64 1929..2009, names and abbreviations (lists of 48 str),
    adjacency (48, 48) float64 (symmetric, 0/1, zero diagonal, 214 nonzero entries: 107
    borders; Maine has one neighbour, Missouri and Tennessee eight) and centroids (48, 2)
    float64, each state's longitude and latitude (for drawing the graph as a map).
    """
    with data_file(FOLDER, "usjoin.csv").open("r", encoding="utf-8") as text:
        rows = list(csv.reader(text))
    years = np.array([int(year) for year in rows[0][2:]], dtype=np.int64)
    names = [row[0] for row in rows[1:]]
    income = np.array([[float(v) for v in row[2:]] for row in rows[1:]]).T  # (T, N)
    adjacency = read_gal(data_file(FOLDER, "states48.gal").read_text(encoding="utf-8"))
    with data_file(FOLDER, "states48.csv").open("r", encoding="utf-8") as text:
        states = list(csv.DictReader(text))
    if [s["name"] for s in states] != names:
        raise ValueError("states48.csv and usjoin.csv list the states in different orders")
    return {"income": income, "years": years, "names": names,
            "abbreviations": [s["abbreviation"] for s in states], "adjacency": adjacency,
            "centroids": np.array([[float(s["longitude"]), float(s["latitude"])]
                                   for s in states])}
