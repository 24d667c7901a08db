"""Newest-first pages read from the recent past when it holds them (QUALITY P2).

The policy's "mine, or shared with me" is an OR, so the database cannot walk one index in date
order: it gathers every entry the reader may see, sorts them all, then keeps a page. With two
years of history that sort is most of a list page's SQL. Bounded to the last few weeks, both
sides of the OR become index ranges (the (author, date) indexes: the reader's own, and the
couple's members' for what they shared) and the sort is over a few weeks of rows.

A page needs the count of the whole list anyway ("Page 1 of 73"), so the same query also
counts the rows on or after the bound. Every such row comes before every older one in a
newest-first order; when they are at least as many as the page's end, the page lies within
the bound and is read there, otherwise from the whole history, as before. Either way: one count
and one page query, whatever the history. The queryset stays the policy's; the bound only
narrows it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Generic, TypeVar, overload

from django.db.models import Count, Model, Q, QuerySet

T = TypeVar("T", bound=Model)


class RecentFirst(Generic[T]):
    """A policy queryset ordered by `field` descending (then anything), for Django's Paginator
    or an API page: `count()` is the whole list's; a slice is read within `field >= since`
    when that holds it."""

    ordered = True  # the queryset's own order (the Paginator checks for one)

    def __init__(self, qs: QuerySet[T], *, field: str, since: date | datetime) -> None:
        self.qs, self.field, self.since = qs, field, since
        self._counts: tuple[int, int] | None = None

    def counts(self) -> tuple[int, int]:
        """(all rows, rows on or after `since`), in one query."""
        if self._counts is None:
            recent = Q(**{f"{self.field}__gte": self.since})
            found = self.qs.order_by().aggregate(
                every=Count("pk"), recent=Count("pk", filter=recent)
            )
            self._counts = (found["every"], found["recent"])
        return self._counts

    def count(self) -> int:
        return self.counts()[0]

    def __len__(self) -> int:
        return self.count()

    def __iter__(self) -> Iterator[T]:
        return iter(self.qs)

    @overload
    def __getitem__(self, key: int) -> T: ...
    @overload
    def __getitem__(self, key: slice) -> list[T]: ...
    def __getitem__(self, key: int | slice) -> T | list[T]:
        if isinstance(key, int):
            if key < 0:
                raise IndexError("RecentFirst takes no negative index.")
            return self[key : key + 1][0]
        if key.step not in (None, 1):
            raise TypeError("RecentFirst takes no slice step.")
        every, recent = self.counts()
        start = key.start or 0
        stop = every if key.stop is None else min(key.stop, every)
        if stop <= start:
            return []  # past the end: nothing to read
        qs = self.qs.filter(**{f"{self.field}__gte": self.since}) if stop <= recent else self.qs
        return list(qs[start:stop])
