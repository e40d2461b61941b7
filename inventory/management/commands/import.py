"""``manage.py import FILE [--model …] [--format …]``: bulk import, all-or-nothing, with a progress bar."""

from __future__ import annotations

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from inventory import importer


class Command(BaseCommand):
    help = (
        "Import sites, devices, interfaces or IP addresses from a CSV, YAML or JSON file. "
        "Related objects by slug or name. Writes everything or nothing; every error names row and field."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="path of the file, or - for standard input (then give --format)")
        parser.add_argument(
            "--model", choices=importer.MODELS, help="what the file holds (default: from its name)"
        )
        parser.add_argument(
            "--format", choices=importer.FORMATS, help="file format (default: from its extension)"
        )
        parser.add_argument("--user", help="user the change log names (default: none)")
        parser.add_argument("--dry-run", action="store_true", help="only validate; write nothing")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options) -> None:
        path = options["file"]
        model = options["model"] or _model_from_name(path)
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user {options['user']!r}.")
        try:
            fmt = options["format"] or importer.format_for(path)
            if path == "-":
                rows = importer.parse(sys.stdin.read(), format=fmt, model=model)
            else:
                rows = importer.parse(Path(path).read_bytes(), format=fmt, model=model)
            if options["dry_run"]:
                errors = importer.validate(rows, model=model, user=user)
                if errors:
                    raise importer.ImportFailed(errors)
                self.stdout.write(f"{len(rows)} {model} are valid (dry run: nothing written).")
                return
            disable = options["no_progress"] or len(rows) < 2
            with tqdm(
                total=len(rows), unit="row", desc=f"import {model}", disable=disable, file=sys.stderr
            ) as bar:
                created = importer.commit(rows, model=model, user=user, progress=bar.update)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        except importer.ImportFailed as failed:
            for error in failed.errors:
                self.stderr.write(str(error))
            raise CommandError(
                f"Import failed: {len(failed.errors)} error(s); nothing was written."
            ) from None
        self.stdout.write(self.style.SUCCESS(f"Imported {len(created)} {model}."))


def _model_from_name(path: str) -> str:
    """``sites.csv`` → ``sites``; ``ip_addresses.yaml`` → ``ip-addresses``."""
    stem = Path(path).stem.lower().replace("_", "-")
    for model in importer.MODELS:
        if stem == model or stem.endswith(f"-{model}") or stem.startswith(f"{model}-"):
            return model
    raise CommandError(f"Give --model (one of {', '.join(importer.MODELS)}): cannot tell it from {path!r}.")
