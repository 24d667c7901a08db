"""SPEC C5, "full history with side-by-side diff between any two versions": the one promise the
diff makes is `apply(earlier, diff(earlier, later)) == later`, to the character, for any two
documents; and for any two versions the services really made."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from trellis.agreements import diff, selectors, services
from trellis.agreements.diff import DocClause
from trellis.agreements.models import SECTION_ORDER, AgreementProposal, Clause, Section

IDS = [f"clause-{i}" for i in range(8)]
SPACES = ["", " ", "  ", "\n", "\n\n", "\t", " \n ", "\r\n", "\u00a0", "\u2003", "\u3000"]
COMMON = ["we", "We", "call", "each", "other", "before", "after", "ten", "no", "no.", "é", "—"]

word = st.one_of(
    st.sampled_from(COMMON),  # repeated words, so word-level matching has work to do
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8).filter(
        lambda w: not any(ch.isspace() for ch in w)
    ),
)
spaced = st.lists(st.tuples(word, st.sampled_from(SPACES)), max_size=12).map(
    lambda parts: "".join(w + s for w, s in parts)
)
texts = st.one_of(spaced, st.text(max_size=40), st.sampled_from(["", " ", "\n", "we we we"]))
sections = st.sampled_from(Section.values)


def clause_with(clause_id: str):
    return st.builds(DocClause, st.just(clause_id), sections, texts)


documents = st.lists(st.sampled_from(IDS), unique=True, max_size=len(IDS)).flatmap(
    lambda ids: st.tuples(*(clause_with(i) for i in ids)).map(list)
)


@st.composite
def later_of(draw, earlier: list[DocClause]) -> list[DocClause]:
    """A later version close to `earlier`: each clause kept, reworded (a word or two changed),
    moved to another section, or dropped; new clauses added; sometimes reordered."""
    out: list[DocClause] = []
    for clause in earlier:
        what = draw(st.sampled_from(["keep", "keep", "reword", "edit", "section", "drop"]))
        if what == "keep":
            out.append(clause)
        elif what == "reword":
            out.append(DocClause(clause.clause_id, clause.section, draw(texts)))
        elif what == "edit":
            tokens = diff.tokenize(clause.text)
            at = draw(st.integers(0, len(tokens)))
            cut = draw(st.integers(0, 2))
            tokens[at : at + cut] = draw(
                st.lists(st.one_of(word, st.sampled_from(SPACES)), max_size=3)
            )
            out.append(DocClause(clause.clause_id, clause.section, "".join(tokens)))
        elif what == "section":
            out.append(DocClause(clause.clause_id, draw(sections), clause.text))
    unused = [i for i in IDS if i not in {c.clause_id for c in earlier}]
    for clause_id in draw(st.lists(st.sampled_from(unused), unique=True)) if unused else []:
        out.insert(draw(st.integers(0, len(out))), draw(clause_with(clause_id)))
    if draw(st.booleans()) and len(out) > 1:
        out = draw(st.permutations(out))
    return list(out)


pairs = st.one_of(
    st.tuples(documents, documents),  # unrelated documents over a shared pool of clause ids
    documents.flatmap(lambda earlier: st.tuples(st.just(earlier), later_of(earlier))),
)


def check_parts(changes: list[diff.ClauseDiff]) -> None:
    for change in changes:
        old, new = change.old_parts(), change.new_parts()
        if change.old is None:
            assert old == []
        else:
            assert "".join(text for _, text in old) == change.old.text
        if change.new is None:
            assert new == []
        else:
            assert "".join(text for _, text in new) == change.new.text
        assert {kind for kind, _ in old} <= {"", "del"}
        assert {kind for kind, _ in new} <= {"", "ins"}
        if change.op == "same":
            assert change.old == change.new
            assert (old, new) == ([("", change.old.text)], [("", change.new.text)])
        elif change.op == "changed":
            assert change.old != change.new and change.old.clause_id == change.new.clause_id


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs)
@example(([], []))
@example(([DocClause("a", "ok", "we  we\n")], [DocClause("a", "ok", "we\nwe  ")]))
@example(([DocClause("a", "ok", "")], [DocClause("a", "money", "")]))
def test_the_diff_rebuilds_the_later_document_from_the_earlier(pair):
    earlier, later = pair
    changes = diff.diff(earlier, later)
    assert diff.apply(earlier, changes) == later
    # Every clause of either document is accounted for exactly once.
    assert sorted(c.clause_id for c in changes if c.op != "added") == sorted(
        c.clause_id for c in earlier
    )
    assert sorted(c.clause_id for c in changes if c.op != "removed") == sorted(
        c.clause_id for c in later
    )
    assert sum(diff.summary(changes).values()) == len(changes)
    check_parts(changes)


@st.composite
def other_than(draw, earlier: list[DocClause]) -> list[DocClause]:
    """A document that is not `earlier`, often only just: reordered, one clause dropped, added,
    reworded or moved to another section; or an unrelated one."""
    other = list(earlier)
    how = draw(st.sampled_from(["reorder", "drop", "add", "reword", "section", "twice", "any"]))
    if how == "reorder" and len(other) > 1:
        other = list(draw(st.permutations(other)))
    elif how == "drop" and other:
        del other[draw(st.integers(0, len(other) - 1))]
    elif how == "add" and len(other) < len(IDS):
        unused = [i for i in IDS if i not in {c.clause_id for c in other}]
        other.insert(
            draw(st.integers(0, len(other))), draw(clause_with(draw(st.sampled_from(unused))))
        )
    elif how == "reword" and other:
        at = draw(st.integers(0, len(other) - 1))
        other[at] = DocClause(other[at].clause_id, other[at].section, draw(texts))
    elif how == "section" and other:
        at = draw(st.integers(0, len(other) - 1))
        other[at] = DocClause(other[at].clause_id, draw(sections), other[at].text)
    elif how == "twice" and other:
        other.insert(draw(st.integers(0, len(other))), draw(st.sampled_from(other)))
    else:
        other = draw(documents)
    assume(other != earlier)
    return other


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_a_diff_does_not_apply_to_another_earlier_document(data):
    earlier, later = data.draw(pairs, label="earlier, later")
    other = data.draw(other_than(earlier), label="applied to")
    with pytest.raises(ValueError):
        diff.apply(other, diff.diff(earlier, later))


def test_a_diff_made_against_one_order_does_not_fit_another():
    a, b = DocClause("a", "ok", "x"), DocClause("b", "ok", "y")
    changes = diff.diff([a, b], [a, b])
    assert diff.apply([a, b], changes) == [a, b]
    for wrong in ([b, a], [a, b, a], [a], [a, b, DocClause("c", "ok", "")]):
        with pytest.raises(ValueError):
            diff.apply(wrong, changes)


def test_a_word_change_shows_as_a_word_change():
    old = DocClause("a", "ok", "We call each other before ten.")
    new = DocClause("a", "ok", "We text each other before eleven.")
    (change,) = diff.diff([old], [new])
    assert change.op == "changed"
    assert change.old_parts() == [
        ("", "We "),
        ("del", "call"),
        ("", " each other before "),
        ("del", "ten."),
    ]
    assert change.new_parts() == [
        ("", "We "),
        ("ins", "text"),
        ("", " each other before "),
        ("ins", "eleven."),
    ]


# --- through the real services ------------------------------------------------------------------

WORDS = ["we", "call", "text", "before", "after", "ten", "nine", "each", "other", "every", "day"]
GAPS = [" ", " ", " ", "  ", "\n", "\n\n", "\t"]


def _wording(rng: random.Random) -> str:
    parts = [rng.choice(WORDS) + rng.choice(GAPS) for _ in range(rng.randint(1, 8))]
    return "".join(parts).strip() + rng.choice(["", ".", "!"])


def _run(people, agreement, rng: random.Random, steps: int) -> dict[int, dict[str, tuple]]:
    """`steps` proposals by alternating partners, each accepted by the other (now and then
    after a counter-proposal). Returns what each version must hold: number -> clause id ->
    (section, wording), built independently of the services."""
    model: dict[str, tuple[str, str, int]] = {}  # clause id -> (section, wording, created step)
    expected: dict[int, dict[str, tuple]] = {0: {}}
    for step in range(steps):
        author, other = (people.alex, people.sam) if step % 2 == 0 else (people.sam, people.alex)
        kind = rng.choice(["add", "add", "change", "change", "retire"]) if model else "add"
        agreement.refresh_from_db()
        kw: dict = {}
        if kind == "add":
            kw = {"section": rng.choice(Section.values), "text": _wording(rng)}
        else:
            kw = {"clause_id": rng.choice(sorted(model))}
            if kind == "change":
                kw["text"] = _wording(rng)
                if kw["text"] == model[kw["clause_id"]][1]:
                    kw["text"] += " again"
            else:
                kw["reason"] = "We do not need it any more."
        proposal, _ = services.proposal_create(
            author=author, agreement=agreement, kind=kind, base_version=agreement.version, **kw
        )
        if kind != "retire" and rng.random() < 0.25:
            proposal = services.proposal_counter(
                user=other,
                proposal=proposal,
                expected_version=proposal.version,
                text=kw["text"] + " (with care)",
            )
            author, other = other, author
            kw["text"] = proposal.text
        version = services.proposal_accept(
            user=other, proposal=proposal, expected_version=proposal.version
        )
        clause_id = str(version.clause_id)
        if kind == "retire":
            del model[clause_id]
        else:
            section = kw.get("section") or model[clause_id][0]
            created = model[clause_id][2] if clause_id in model else step
            model[clause_id] = (section, kw["text"], created)
        order = sorted(model, key=lambda c: (SECTION_ORDER[model[c][0]], model[c][2]))
        expected[version.number] = {c: model[c][:2] for c in order}
    return expected


@pytest.mark.parametrize("seed", [7, 42, 2026, 31337, 90210])
def test_any_two_versions_the_services_made_diff_and_rebuild(people, agreement, seed):
    rng = random.Random(seed)
    expected = _run(people, agreement, rng, steps=20)
    agreement.refresh_from_db()
    assert agreement.version == 20 == max(expected)

    docs: dict[int, list[DocClause]] = {}
    for number in range(agreement.version + 1):
        version = selectors.version_of(agreement, number)
        assert (version is None) == (number == 0)
        lines = selectors.lines_of(people.alex, agreement, version, channel="page")
        docs[number] = selectors.doc_of(lines)
        # Each version holds exactly what was agreed by then, in reading order.
        assert [(c.clause_id, (c.section, c.text)) for c in docs[number]] == list(
            expected[number].items()
        ), f"seed {seed}, version {number}"

    kinds = set(AgreementProposal.objects.values_list("kind", flat=True))
    assert kinds == {"add", "change", "retire"}, f"seed {seed} did not exercise every kind"
    assert Clause.objects.filter(retired_at__isnull=False).exists()

    for i in range(len(docs)):
        for j in range(i + 1, len(docs)):
            changes = diff.diff(docs[i], docs[j])
            assert diff.apply(docs[i], changes) == docs[j], f"seed {seed}: {i} -> {j}"
            check_parts(changes)
            if i + 1 == j:
                # One accepted proposal is one clause added, changed or removed.
                counts = diff.summary(changes)
                assert counts["added"] + counts["changed"] + counts["removed"] == 1
