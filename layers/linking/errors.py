"""Errors of the linker's data: each names the file and the entry that is wrong."""

from __future__ import annotations


class LinkingError(ValueError):
    """The linking data (data/linking/*.yaml) cannot be used as it stands."""


class UnknownPlaceError(LinkingError):
    """An alias or group names a place id the gazetteer does not have."""


class AmbiguousAliasError(LinkingError):
    """One form would name two different places and no context rule tells them apart."""

    def __init__(self, form: str, first: tuple[str, ...], second: tuple[str, ...], where: str):
        self.form = form
        self.places = (first, second)
        super().__init__(
            f"{where}: the form {form!r} names both {' + '.join(first)!r} and "
            f"{' + '.join(second)!r}; give one of them a context rule (when: …) or drop it"
        )
