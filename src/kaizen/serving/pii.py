"""Personal data in stored events. Fields named in `KAIZEN_PII_FIELDS` never reach the store as
given: with `KAIZEN_PII_MODE=drop` they are left out, with `hash` (default) they are replaced by
`hmac-sha256:<hex>`, a keyed hash (HMAC-SHA256 with `KAIZEN_PII_SALT` as the key) of the JSON
value. The same value gives the same hash under the same salt, so equality (counts, joins,
drift of the hashed category) still works; without the salt a hash cannot be recomputed, but a
field with few possible values (an age) is only as private as the salt is secret. Rotating the
salt makes old and new hashes incomparable."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from kaizen import KaizenError

PREFIX = "hmac-sha256:"


@dataclass(frozen=True)
class Scrubber:
    """Applies the PII policy to one application's inputs."""

    fields: frozenset[str] = frozenset()
    mode: str = "hash"
    salt: bytes = b""

    @classmethod
    def create(cls, fields, mode: str, salt: str | None, features: list[str]) -> "Scrubber":
        """Check the policy against the model's features; a hash needs a salt."""
        unknown = sorted(set(fields) - set(features))
        if unknown:
            raise KaizenError(f"KAIZEN_PII_FIELDS: {', '.join(unknown)}: not a model input")
        if fields and mode == "hash" and not salt:
            raise KaizenError("KAIZEN_PII_SALT: required to hash KAIZEN_PII_FIELDS (or mode drop)")
        return cls(frozenset(fields), mode, (salt or "").encode())

    def digest(self, value: Any) -> str:
        """The keyed hash of a JSON value."""
        message = json.dumps(value, sort_keys=True).encode()
        return PREFIX + hmac.new(self.salt, message, hashlib.sha256).hexdigest()

    def __call__(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """The inputs as they may be stored."""
        if not self.fields:
            return inputs
        if self.mode == "drop":
            return {k: v for k, v in inputs.items() if k not in self.fields}
        return {k: self.digest(v) if k in self.fields else v for k, v in inputs.items()}
