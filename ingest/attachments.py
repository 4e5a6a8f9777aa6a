"""Which payload file a row's attachment path names (contract section 3).

Exports from Windows and macOS differ from their manifests in two ways: the
Unicode form of names (macOS and many zip tools write NFD, manifests are
typed in NFC) and letter case.  A path is matched exactly, then after NFC
normalisation, then case-insensitively (``casefold`` of the NFC form).  Two
files that differ only by case make a case-insensitive match ambiguous: no
file is chosen, and the row's attachment is missing (a secret row's package
then holds its unreferenced files for review, ``register``).
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable


def _nfc(path: str) -> str:
    return unicodedata.normalize("NFC", path)


class PayloadPaths:
    """An index of the package's payload paths, built once per run."""

    def __init__(self, files: Iterable[str]):
        self.exact: set[str] = set()
        self.by_nfc: dict[str, list[str]] = defaultdict(list)
        self.by_case: dict[str, list[str]] = defaultdict(list)
        for path in files:
            self.exact.add(path)
            self.by_nfc[_nfc(path)].append(path)
            self.by_case[_nfc(path).casefold()].append(path)

    def resolve(self, rel: str) -> str | None:
        """The payload path ``rel`` names, or None (not there, or ambiguous)."""
        if rel in self.exact:
            return rel
        for index, key in ((self.by_nfc, _nfc(rel)), (self.by_case, _nfc(rel).casefold())):
            found = index.get(key, [])
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                return None
        return None
