#!/usr/bin/python3
"""Validates macvguard's JSON output against docs/schema/NAME.json (docs/json.md).

    json_schema.py NAME [--lines] [FILE]     (stdin without FILE)

--lines: JSON Lines (monitor, journal, run): every line must validate. Without it the
input must be exactly one JSON value. Exit 0 when valid; 1 with the first error on
stderr. Uses python3-jsonschema (Debian), draft 2020-12, every schema of docs/schema
registered by its $id so "$ref": "record.json" resolves offline.
"""
import json, os, sys, warnings
warnings.simplefilter("ignore", DeprecationWarning)
import jsonschema

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "schema")
store = {}
for f in os.listdir(here):
    if f.endswith(".json"):
        s = json.load(open(os.path.join(here, f)))
        store[s["$id"]] = s
args = [a for a in sys.argv[1:] if not a.startswith("--")]
name = args[0] if args[0].endswith(".json") else args[0] + ".json"
schema = json.load(open(os.path.join(here, name)))
resolver = jsonschema.RefResolver.from_schema(schema, store=store)
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
v = cls(schema, resolver=resolver, format_checker=jsonschema.FormatChecker())
data = (open(args[1], "rb") if len(args) > 1 else sys.stdin.buffer).read().decode("utf-8")
docs = [l for l in data.splitlines() if l.strip()] if "--lines" in sys.argv else [data]
if not docs:
    print("%s: no JSON at all" % name, file=sys.stderr)
    sys.exit(1)
for i, d in enumerate(docs):
    try:
        value = json.loads(d)
    except ValueError as e:
        print("%s: item %d: not JSON: %s" % (name, i + 1, e), file=sys.stderr)
        sys.exit(1)
    errs = sorted(v.iter_errors(value), key=lambda e: list(e.path))
    if errs:
        e = errs[0]
        print("%s: item %d: %s at %s" % (name, i + 1, e.message[:300], "/".join(map(str, e.path))), file=sys.stderr)
        sys.exit(1)
