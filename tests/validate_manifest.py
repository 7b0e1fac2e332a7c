"""Validate manifest.yml against Slack's published app-manifest JSON schema (used by .ci/run)."""

from __future__ import annotations

import sys
from pathlib import Path

import jsonschema
import yaml

MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yml"


def validation_errors(schema_path: Path, manifest_path: Path = MANIFEST) -> list[str]:
    import json

    schema = json.loads(schema_path.read_text())
    manifest = yaml.safe_load(manifest_path.read_text())
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(str(part) for part in error.absolute_path) or '(root)'}: {error.message}"
        for error in validator.iter_errors(manifest)
    ]


if __name__ == "__main__":
    errors = validation_errors(Path(sys.argv[1]))
    for line in errors:
        print(f"manifest.yml: {line}", file=sys.stderr)  # noqa: T201
    print("manifest.yml is valid" if not errors else f"{len(errors)} problem(s)")  # noqa: T201
    raise SystemExit(1 if errors else 0)
