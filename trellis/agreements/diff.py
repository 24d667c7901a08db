"""The difference between two versions of an agreement, and its inverse.

Pure functions over plain values, so the property test can check the one promise that matters:
`apply(earlier, diff(earlier, later)) == later` for any two versions. Clauses are matched by
their identity (a clause keeps its id across wordings), then changed wordings are compared word
by word; whitespace is kept, so a reconstruction is exact to the character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

TOKEN = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class DocClause:
    clause_id: str
    section: str
    text: str


# A word-level edit of a wording: ("equal", i1, i2) keeps old tokens i1:i2; ("delete", i1, i2)
# drops them; ("insert", tokens) adds new ones; ("replace", i1, i2, tokens) does both.
WordOp = tuple


@dataclass(frozen=True)
class ClauseDiff:
    op: Literal["same", "added", "removed", "changed"]
    clause_id: str
    old: DocClause | None
    new: DocClause | None
    words: tuple[WordOp, ...] = ()

    def old_parts(self) -> list[tuple[str, str]]:
        """(kind, text) runs of the earlier wording for display: kind "" or "del"."""
        if self.old is None:
            return []
        if self.op != "changed":
            return [("", self.old.text)]
        tokens = tokenize(self.old.text)
        parts: list[tuple[str, str]] = []
        for w in self.words:
            if w[0] == "equal":
                parts.append(("", "".join(tokens[w[1] : w[2]])))
            elif w[0] in ("delete", "replace"):
                parts.append(("del", "".join(tokens[w[1] : w[2]])))
        return parts

    def new_parts(self) -> list[tuple[str, str]]:
        """(kind, text) runs of the later wording for display: kind "" or "ins"."""
        if self.new is None:
            return []
        if self.op != "changed":
            return [("", self.new.text)]
        tokens = tokenize(self.old.text if self.old else "")
        parts: list[tuple[str, str]] = []
        for w in self.words:
            if w[0] == "equal":
                parts.append(("", "".join(tokens[w[1] : w[2]])))
            elif w[0] == "insert":
                parts.append(("ins", "".join(w[1])))
            elif w[0] == "replace":
                parts.append(("ins", "".join(w[3])))
        return parts


def tokenize(text: str) -> list[str]:
    return TOKEN.findall(text)


def _word_ops(old: str, new: str) -> tuple[WordOp, ...]:
    a, b = tokenize(old), tokenize(new)
    ops: list[WordOp] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            ops.append(("equal", i1, i2))
        elif tag == "delete":
            ops.append(("delete", i1, i2))
        elif tag == "insert":
            ops.append(("insert", tuple(b[j1:j2])))
        else:
            ops.append(("replace", i1, i2, tuple(b[j1:j2])))
    return tuple(ops)


def diff(earlier: list[DocClause], later: list[DocClause]) -> list[ClauseDiff]:
    """Clause by clause, in reading order, with retired clauses where they used to be."""
    old_ids = [c.clause_id for c in earlier]
    new_ids = [c.clause_id for c in later]
    out: list[ClauseDiff] = []
    matcher = SequenceMatcher(None, old_ids, new_ids, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for old, new in zip(earlier[i1:i2], later[j1:j2], strict=True):
                if old == new:
                    out.append(ClauseDiff("same", old.clause_id, old, new))
                else:
                    out.append(
                        ClauseDiff(
                            "changed", old.clause_id, old, new, _word_ops(old.text, new.text)
                        )
                    )
            continue
        if tag in ("delete", "replace"):
            out.extend(ClauseDiff("removed", c.clause_id, c, None) for c in earlier[i1:i2])
        if tag in ("insert", "replace"):
            out.extend(ClauseDiff("added", c.clause_id, None, c) for c in later[j1:j2])
    return out


def apply(earlier: list[DocClause], changes: list[ClauseDiff]) -> list[DocClause]:
    """Rebuild the later version from the earlier one and the diff. Raises ValueError when the
    diff does not fit the earlier version."""
    by_id = {c.clause_id: c for c in earlier}
    consumed: list[str] = []
    out: list[DocClause] = []
    for change in changes:
        if change.op == "added":
            if change.new is None:
                raise ValueError("an added clause without its wording")
            out.append(change.new)
            continue
        old = by_id.get(change.clause_id)
        if old is None or old != change.old:
            raise ValueError(f"clause {change.clause_id} is not in the earlier version as given")
        consumed.append(change.clause_id)
        if change.op == "same":
            out.append(old)
        elif change.op == "changed":
            if change.new is None:
                raise ValueError("a changed clause without its new section")
            tokens = tokenize(old.text)
            words: list[str] = []
            for w in change.words:
                if w[0] == "equal":
                    words.extend(tokens[w[1] : w[2]])
                elif w[0] == "insert":
                    words.extend(w[1])
                elif w[0] == "replace":
                    words.extend(w[3])
            out.append(DocClause(old.clause_id, change.new.section, "".join(words)))
    # In order, once each: a diff made against [a, b] does not fit [b, a] (nor a list that
    # names a clause twice), even though it would rebuild the same later version.
    if consumed != [c.clause_id for c in earlier]:
        raise ValueError("the diff does not account for every clause of the earlier version")
    return out


def summary(changes: list[ClauseDiff]) -> dict[str, int]:
    counts = {"added": 0, "removed": 0, "changed": 0, "same": 0}
    for c in changes:
        counts[c.op] += 1
    return counts
