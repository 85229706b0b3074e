"""Message validation for the worker protocol.

The schemas live in TypeScript (packages/protocol/src/worker.ts, zod). Their JSON Schema export is
shipped beside this file (worker.schema.json); a TypeScript test keeps it in sync and both sides
run one shared message corpus. This module implements the subset of JSON Schema that the export
uses, and fills in defaults the way zod does, so both sides see the same request.
"""
import copy
import json
import os

SCHEMA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.schema.json")

with open(SCHEMA_PATH, encoding="utf-8") as f:
    SCHEMA = json.load(f)

DEFS = SCHEMA["$defs"]
LIMITS = SCHEMA["limits"]
PROTOCOL_VERSION = SCHEMA["version"]
OPS = sorted(k.split(".", 1)[1] for k in DEFS if k.startswith("request."))


class ProtocolError(Exception):
    """A message that fails the schema; `code` is one of the protocol's error codes."""

    def __init__(self, code, message, request_id=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


def _type_ok(value, t):
    if t == "null":
        return value is None
    if t == "boolean":
        return isinstance(value, bool)
    if t == "string":
        return isinstance(value, str)
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool) or (
            isinstance(value, float) and value.is_integer())
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value and abs(value) != float("inf")
    if t == "array":
        return isinstance(value, list)
    if t == "object":
        return isinstance(value, dict)
    raise ValueError(f"unsupported JSON Schema type {t}")


def _check(value, schema, path):
    """Returns the value with defaults filled in; raises ProtocolError naming the field."""
    where = path or "message"
    if "anyOf" in schema:
        errors = []
        for option in schema["anyOf"]:
            try:
                return _check(value, option, path)
            except ProtocolError as e:
                errors.append(e.message)
        raise ProtocolError("invalid", f"{where}: no variant matches ({'; '.join(errors)})")
    types = schema.get("type")
    if types is not None:
        types = types if isinstance(types, list) else [types]
        if not any(_type_ok(value, t) for t in types):
            raise ProtocolError("invalid", f"{where}: expected {' or '.join(types)}, got {type(value).__name__}")
        if "integer" in types and isinstance(value, float):
            value = int(value)
    if "const" in schema and value != schema["const"]:
        raise ProtocolError("invalid", f"{where}: expected {json.dumps(schema['const'])}")
    if "enum" in schema and value not in schema["enum"]:
        raise ProtocolError("invalid", f"{where}: expected one of {', '.join(map(json.dumps, schema['enum']))}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            raise ProtocolError("invalid", f"{where}: must be >= {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise ProtocolError("invalid", f"{where}: must be <= {schema['maximum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            raise ProtocolError("invalid", f"{where}: must be > {schema['exclusiveMinimum']}")
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            raise ProtocolError("invalid", f"{where}: must be < {schema['exclusiveMaximum']}")
    if isinstance(value, str):
        # JSON Schema counts code points; zod counts UTF-16 units. They differ only beyond the BMP.
        n = len(value.encode("utf-16-le")) // 2
        if n < schema.get("minLength", 0):
            raise ProtocolError("invalid", f"{where}: must have at least {schema['minLength']} characters")
        if "maxLength" in schema and n > schema["maxLength"]:
            raise ProtocolError("oversized", f"{where}: must have at most {schema['maxLength']} characters")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            raise ProtocolError("invalid", f"{where}: must have at least {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise ProtocolError("oversized", f"{where}: must have at most {schema['maxItems']} items")
        prefix = schema.get("prefixItems", [])
        out = []
        for i, item in enumerate(value):
            sub = prefix[i] if i < len(prefix) else schema.get("items")
            if sub is False:
                raise ProtocolError("invalid", f"{where}: too many items")
            out.append(_check(item, sub, f"{path}[{i}]") if isinstance(sub, dict) else item)
        value = out
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                raise ProtocolError("invalid", f"{_join(path, key)}: required")
        out = {}
        for key, item in value.items():
            if "propertyNames" in schema:
                _check(key, schema["propertyNames"], _join(path, key))
            if key in props:
                out[key] = _check(item, props[key], _join(path, key))
            else:
                extra = schema.get("additionalProperties", True)
                if extra is False:
                    raise ProtocolError("invalid", f"{_join(path, key)}: unknown field")
                out[key] = _check(item, extra, _join(path, key)) if isinstance(extra, dict) else item
        for key, sub in props.items():
            if key not in out and "default" in sub:
                out[key] = _check(copy.deepcopy(sub["default"]), sub, _join(path, key))
        value = out
    return value


def _join(path, key):
    return f"{path}.{key}" if path else key


def validate(name, value):
    """Validates `value` against the message schema `name` (e.g. `request.generate`, `hello`)."""
    return _check(value, DEFS[name], "")


def loads(text):
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as e:
        raise ProtocolError("invalid", f"not JSON: {e}")


def _request_id(msg):
    rid = msg.get("id") if isinstance(msg, dict) else None
    return rid if isinstance(rid, str) and 0 < len(rid) <= 128 else None


def parse_request(msg):
    """Validates one request (JSON text or its parsed value); returns it with defaults applied."""
    if isinstance(msg, str):
        msg = loads(msg)
    if not isinstance(msg, dict):
        raise ProtocolError("invalid", "message: expected an object")
    rid = _request_id(msg)
    kind = msg.get("type")
    if not isinstance(kind, str):
        raise ProtocolError("invalid", "type: required", rid)
    if f"request.{kind}" not in DEFS:
        raise ProtocolError("unknown-type", f"type: unknown message type {kind[:64]!r}", rid)
    try:
        return validate(f"request.{kind}", msg)
    except ProtocolError as e:
        e.request_id = rid
        raise


def parse_frame(text, assembler):
    """One frame from the control plane: a request (returned), or a chunk of one (None until the
    last chunk completes it). Raises ProtocolError carrying whatever request id could be read."""
    msg = loads(text)
    if isinstance(msg, dict) and msg.get("type") == "chunk":
        try:
            whole = assembler.push(validate("chunk", msg))
        except ProtocolError as e:
            e.request_id = _request_id(msg)
            raise
        if whole is None:
            return None
        msg = loads(whole)
    return parse_request(msg)


def encode_frames(message, chunk_chars=None):
    """JSON text of a message, cut into `chunk` frames when longer than chunk_chars."""
    chunk_chars = chunk_chars or LIMITS["chunkChars"]
    text = json.dumps(message, separators=(",", ":"), allow_nan=False)
    if len(text) <= chunk_chars:
        return [text]
    mid = message.get("id") or "stream"
    pieces = [text[i:i + chunk_chars] for i in range(0, len(text), chunk_chars)]
    return [json.dumps({"type": "chunk", "id": mid, "seq": i, "last": i == len(pieces) - 1, "data": p},
                       separators=(",", ":")) for i, p in enumerate(pieces)]


class ChunkAssembler:
    """Joins chunk frames in order; push() returns the whole JSON text when the last one arrives."""

    def __init__(self, max_chars=None):
        self.max_chars = max_chars or LIMITS["maxMessageBytes"]
        self.parts = {}

    def push(self, chunk):
        mid = chunk["id"]
        entry = self.parts.setdefault(mid, {"next": 0, "data": [], "size": 0})
        if chunk["seq"] != entry["next"]:
            del self.parts[mid]
            raise ProtocolError("invalid", f"chunk {chunk['seq']} of {mid} out of order", mid)
        entry["size"] += len(chunk["data"])
        if entry["size"] > self.max_chars:
            del self.parts[mid]
            raise ProtocolError("oversized", f"message {mid} exceeds {self.max_chars} characters", mid)
        entry["data"].append(chunk["data"])
        entry["next"] += 1
        if not chunk["last"]:
            return None
        del self.parts[mid]
        return "".join(entry["data"])
