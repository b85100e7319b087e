"""Command line: `python -m minirnn tour [--out DIR]` and `python -m minirnn exercises ...`."""
import argparse

from .exercises import cli as exercises_cli
from .tour import run_tour


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minirnn", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    tour = commands.add_parser("tour", help="a guided tour of the library, writing its figures")
    tour.add_argument("--out", default="minirnn-tour", help="output folder for the figures")
    exercises_cli.add_parser(commands)
    args = parser.parse_args(argv)
    if args.command == "tour":
        run_tour(args.out)
    else:
        print(exercises_cli.run(args))


if __name__ == "__main__":
    main()
