#!/usr/bin/env python3
"""Validates YAML or JSON documents against a JSON Schema (draft 2020-12) the way a CI validator
would, with the `jsonschema` package (Debian: python3-jsonschema, python3-yaml).

Usage: check_json_schema.py SCHEMA FILE...
Prints one line per document, "FILE#N valid" or "FILE#N invalid: MESSAGE" (N counts documents
from 1), and exits 0. Exits 2 when the schema is not a valid draft 2020-12 schema, 3 when a
module is missing.
"""
import json
import sys

try:
    import jsonschema
    import yaml
except ImportError as e:  # pragma: no cover - reported to the C++ test that runs us
    print(f"missing Python module: {e.name} (make deps installs python3-jsonschema python3-yaml)")
    sys.exit(3)


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    validator_class = jsonschema.Draft202012Validator
    try:
        validator_class.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        print(f"invalid schema: {e.message}")
        return 2
    validator = validator_class(schema)
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as f:
            documents = [d for d in yaml.safe_load_all(f) if d is not None]
        for n, document in enumerate(documents, start=1):
            errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
            if errors:
                print(f"{path}#{n} invalid: {errors[0].message}")
            else:
                print(f"{path}#{n} valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
