"""Checking manifest.yml against Slack's published app-manifest JSON schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

MANIFEST = Path(__file__).resolve().parent.parent.parent / "manifest.yml"


def validation_errors(schema_path: Path, manifest_path: Path = MANIFEST) -> list[str]:
    schema = json.loads(schema_path.read_text())
    manifest = yaml.safe_load(manifest_path.read_text())
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'/'.join(str(part) for part in error.absolute_path) or '(root)'}: {error.message}"
        for error in validator.iter_errors(manifest)
    ]
