"""``firescribe download MODEL --dir DIR``: fetch released model files for the workflow."""

from __future__ import annotations

import argparse

from firescribe.models import HUB_REPOS, download


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="firescribe")
    sub = parser.add_subparsers(dest="command", required=True)
    dl = sub.add_parser("download", help="download a released model from the Hugging Face hub")
    dl.add_argument("model", choices=sorted(HUB_REPOS))
    dl.add_argument("--dir", required=True, help="target folder (config: fireredasr_aed.model_dir, or punctuation.model_dir for fireredpunc)")
    args = parser.parse_args(argv)
    if args.command == "download":
        print(download(args.model, args.dir))


if __name__ == "__main__":
    main()
