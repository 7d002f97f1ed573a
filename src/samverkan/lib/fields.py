"""Encrypted attributes bound to their row.

A model keeps the ciphertext in a text column and exposes the plaintext through an
``Encrypted`` attribute. The associated data is the model, the attribute and the row's
immutable ``uid``, so a ciphertext copied into another row, or another column, fails to
decrypt. Values are encrypted when set and decrypted when read: nothing is cached in clear.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Generic, TypeVar, overload

from django.conf import settings
from django.db import models

from samverkan.lib import crypto

M = TypeVar("M", bound=models.Model)


class Encrypted(Generic[M]):
    def __init__(self, column: str, *, optional: bool = False, label: str = "") -> None:
        self.column = column
        self.optional = optional
        # The model's label in the associated data; fixed when a model moves to another app, so
        # the values written under its old label still decrypt.
        self.label = label
        self.name = ""

    def __set_name__(self, owner: type[M], name: str) -> None:
        self.name = name

    def aad(self, obj: models.Model) -> str:
        label = self.label or obj._meta.label_lower
        return f"{label}.{self.name}:{obj.uid}"  # type: ignore[attr-defined]

    @overload
    def __get__(self, obj: None, owner: type[M]) -> Encrypted[M]: ...

    @overload
    def __get__(self, obj: M, owner: type[M]) -> str: ...

    def __get__(self, obj: M | None, owner: type[M]) -> Encrypted[M] | str:
        if obj is None:
            return self
        token: str = getattr(obj, self.column)
        if not token:
            return ""
        return crypto.decrypt(token, aad=self.aad(obj))

    def __set__(self, obj: M, value: str) -> None:
        if not value and self.optional:
            setattr(obj, self.column, "")
            return
        setattr(obj, self.column, crypto.encrypt(value, aad=self.aad(obj)))

    def reencrypt(self, obj: M) -> bool:
        """Re-encrypt under the current key; True when the stored value changed."""
        token: str = getattr(obj, self.column)
        if not token or crypto.key_id_of(token) == crypto.current_key_id():
            return False
        self.__set__(obj, self.__get__(obj, type(obj)))
        return True


def encrypted_attributes(model: type[models.Model]) -> list[Encrypted[Any]]:
    return [value for value in vars(model).values() if isinstance(value, Encrypted)]


def search_hash(kind: str, value: str) -> str:
    """A keyed hash for exact-match search of an identity number; never reversible."""
    return hmac.new(settings.SEARCH_KEY, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
