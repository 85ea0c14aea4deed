"""Personal data in stored events. Fields named in `KAIZEN_PII_FIELDS` never reach the store as
given: with `KAIZEN_PII_MODE=drop` they are left out, with `hash` (default) they are replaced by
`hmac-sha256:<hex>`, a keyed hash (HMAC-SHA256 with `KAIZEN_PII_SALT` as the key) of the JSON
value. The same value gives the same hash under the same salt, so equality (counts, joins,
drift of the hashed category) still works; without the salt a hash cannot be recomputed, but a
field with few possible values (an age) is only as private as the salt is secret. Rotating the
salt makes old and new hashes incomparable (the salt is at least 32 bytes: runtime.py).

The policy covers everything stored, not only the inputs: an unseen category of a PII field is
hashed or dropped in the stored `unseen` map the same way, and the stored reasons leave out the
PII fields and every engineered feature computed from one (a ratio's contribution gives its
inputs back: a hashed age was recovered exactly from its reason). The client's own response
keeps its reasons and unseen categories: they are its own data."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Iterable

from kaizen import KaizenError

PREFIX = "hmac-sha256:"


@dataclass(frozen=True)
class Scrubber:
    """Applies the PII policy to one application's inputs."""

    fields: frozenset[str] = frozenset()
    mode: str = "hash"
    salt: bytes = b""
    derived: frozenset[str] = frozenset()  # engineered features computed from a PII field

    @classmethod
    def create(  # pylint: disable=too-many-arguments,too-many-positional-arguments
        cls,
        fields: Iterable[str],
        mode: str,
        salt: str | None,
        features: list[str],
        engineered: Iterable[tuple[str, str, str]] = (),
    ) -> "Scrubber":
        """Check the policy against the model's features; a hash needs a salt. `engineered`: the
        model's engineered (name, numerator, denominator) features."""
        unknown = sorted(set(fields) - set(features))
        if unknown:
            raise KaizenError(f"KAIZEN_PII_FIELDS: {', '.join(unknown)}: not a model input")
        if fields and mode == "hash" and not salt:
            raise KaizenError("KAIZEN_PII_SALT: required to hash KAIZEN_PII_FIELDS (or mode drop)")
        derived = {name for name, top, bottom in engineered if {top, bottom} & set(fields)}
        return cls(frozenset(fields), mode, (salt or "").encode(), frozenset(derived))

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

    def unseen(self, found: dict[str, str]) -> dict[str, str]:
        """The unseen categories as they may be stored: a PII field's hashed or left out."""
        if not self.fields or not self.fields & found.keys():
            return found
        if self.mode == "drop":
            return {k: v for k, v in found.items() if k not in self.fields}
        return {k: self.digest(v) if k in self.fields else v for k, v in found.items()}

    def reasons(self, reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The reasons as they may be stored: without the PII fields and the features derived
        from them (a contribution is a function of the value)."""
        if not self.fields:
            return reasons
        return [
            r
            for r in reasons
            if r["feature"] not in self.fields and r["feature"] not in self.derived
        ]
