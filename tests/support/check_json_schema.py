#!/usr/bin/env python3
"""Validates YAML or JSON documents against a JSON Schema (draft 2020-12) the way a CI validator
would, with the `jsonschema` package (Debian: python3-jsonschema, python3-yaml).

Usage: check_json_schema.py SCHEMA FILE...
A `$ref` to another schema by file name ("pass.schema.json#/$defs/pass") reads the
*.schema.json files beside SCHEMA. Prints one line per document, "FILE#N valid" or "FILE#N invalid: MESSAGE" (N counts documents
from 1), and exits 0. Exits 2 when the schema is not a valid draft 2020-12 schema, 3 when a
module is missing.
"""
import json
import pathlib
import sys

try:
    import jsonschema
    import yaml
except ImportError as e:  # pragma: no cover - reported to the C++ test that runs us
    print(f"missing Python module: {e.name} (make deps installs python3-jsonschema python3-yaml)")
    sys.exit(3)


def SiblingSchemas(schema_path: pathlib.Path) -> dict:
    """The *.schema.json files beside `schema_path`, by file name, for relative $refs."""
    siblings = {}
    for sibling in sorted(schema_path.parent.glob("*.schema.json")):
        with open(sibling, encoding="utf-8") as f:
            siblings[sibling.name] = json.load(f)
    return siblings


def Validator(validator_class, schema_path: pathlib.Path, schema: dict, siblings: dict):
    """A validator of `schema` that resolves $refs to `siblings` by name (jsonschema 4.18 moved
    that from RefResolver to the referencing package; Debian 12 ships 4.10)."""
    try:
        import referencing
        import referencing.jsonschema
    except ImportError:
        directory = schema_path.resolve().parent
        resolver = jsonschema.RefResolver(
            base_uri=(directory / schema_path.name).as_uri(), referrer=schema,
            store={(directory / name).as_uri(): contents for name, contents in siblings.items()})
        return validator_class(schema, resolver=resolver)
    registry = referencing.Registry().with_resources(
        (name, referencing.Resource.from_contents(
            contents, default_specification=referencing.jsonschema.DRAFT202012))
        for name, contents in siblings.items())
    return validator_class(schema, registry=registry)


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    validator_class = jsonschema.Draft202012Validator
    try:
        validator_class.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        print(f"invalid schema: {e.message}")
        return 2
    schema_path = pathlib.Path(sys.argv[1])
    validator = Validator(validator_class, schema_path, schema, SiblingSchemas(schema_path))
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
