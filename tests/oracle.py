"""A pure-Python oracle of who may read an entry, written from the rules, not from the code.

It deliberately does NOT import trellis.sharing.policy. It reads the world (people, couple
memberships, therapist links, consents) into plain Python values and decides with plain Python,
so a mistake in the policy's SQL cannot be copied into the test that checks it.

The rules (SPEC principle 1 and C2, restated from the policy's docstring):

- nobody who is not signed in, and no deactivated account, reads anything;
- the author always reads their own entry;
- audience "partner" or "partner_therapist": a person who is, right now, a member of the couple
  space the entry was shared into (the author's space when they last chose the audience), while
  the author is also still a member of it; never the author's former partner, never another
  couple, whatever their role;
- audience "partner_therapist" or "therapist": a therapist holding a consent from the author
  that is not withdrawn, not expired, whose therapist link has not ended and belongs to that
  same therapist and to the couple space the entry was shared into, whose grantor (the author)
  is still a member of that couple, and whose scopes include this entry type; "therapist" ("my therapist only") additionally needs a
  therapist whose policy accepts individual confidences;
- audience "me": nobody but the author;
- an entry type may add a gate that every reader other than the author must also pass: a weekly
  meeting's answers ("nobody goes first") are read by nobody but their author until the meeting
  is revealed (both partners have submitted);
- everything that changes an entry (edit, delete, audience) and the author's own pages about it
  ("who has seen this", the edit form) belong to the author alone;
- responding to an entry (acknowledging a trust moment, confirming a reflection: "did I get that
  right?", accepting, declining or answering an agreement proposal) is for a reader who is a
  current member of the couple space the entry was shared into, never a therapist, never the
  author — in practice the author's current partner; only a reflection can be confirmed;
- an agreement belongs to its couple (SPEC C5, two-party consent): a proposal is answered only
  by a current member of the couple whose agreement it is (so, with the rule above, only by
  the author's partner in that couple), and its author withdraws or revises it only while still
  a member of that couple — after leaving, that agreement is no longer theirs to change, though
  what they wrote is still theirs to read and export;
- a couple-scoped object (a weekly meeting, a couple's agreement) is used by its couple's
  current members only: not a former member, not a therapist, not anyone else;
- recovery (SPEC C7): logging a lapse on a track, ending it, changing its goal or who sees it
  are changes to the track, its author's alone; the answer to an "I'm struggling" message is
  a response (the author's current partner, never a therapist, never the author).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

PARTNER_SEES = frozenset({"partner", "partner_therapist"})
THERAPIST_SEES_WITH_CONSENT = frozenset({"partner_therapist"})
THERAPIST_SEES_AS_CONFIDENCE = frozenset({"therapist"})


@dataclass(frozen=True)
class Person:
    id: Any
    role: str
    is_active: bool
    accepts_confidences: bool


@dataclass(frozen=True)
class Entry:
    """What the oracle needs to know about an entry (any entry type)."""

    id: Any
    author_id: Any
    audience: str
    couple_id: Any  # the author's couple space when the audience was last chosen
    entry_type: str
    meeting_id: Any = None  # meeting answers and notes: the meeting they belong to
    kind: str = ""  # meeting notes: note / i_statement / reflection / next_step
    agreement_id: Any = None  # agreement proposals: the agreement they propose to change

    @classmethod
    def of(cls, entry: Any) -> Entry:
        return cls(
            id=entry.pk,
            author_id=entry.author_id,
            audience=str(entry.audience),
            couple_id=entry.couple_id,
            entry_type=type(entry).entry_type_label,
            meeting_id=getattr(entry, "meeting_id", None),
            kind=str(getattr(entry, "kind", "") or ""),
            agreement_id=getattr(entry, "agreement_id", None),
        )


@dataclass(frozen=True)
class CoupleObject:
    """A couple-scoped object that is not an entry (a weekly meeting, an agreement): it belongs
    to a couple space, not to an author, and holds nobody's words."""

    id: Any
    couple_id: Any
    kind: str  # "meeting", "agreement"

    @classmethod
    def of(cls, obj: Any, kind: str) -> CoupleObject:
        return cls(id=obj.pk, couple_id=obj.couple_id, kind=kind)


@dataclass(frozen=True)
class Consent:
    grantor_id: Any
    therapist_id: Any
    link_id: Any
    expires_at: datetime
    withdrawn_at: datetime | None
    scopes: frozenset[str]


@dataclass
class World:
    now: datetime
    people: dict[Any, Person] = field(default_factory=dict)
    # couple id -> ids of the people whose membership has not ended
    current_members: dict[Any, set[Any]] = field(default_factory=dict)
    # link id -> (couple id, therapist id, ended?)
    links: dict[Any, tuple[Any, Any, bool]] = field(default_factory=dict)
    consents: list[Consent] = field(default_factory=list)
    # meeting id -> (couple id, revealed?)
    meetings: dict[Any, tuple[Any, bool]] = field(default_factory=dict)
    # agreement id -> couple id
    agreements: dict[Any, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, now: datetime | None = None) -> World:
        """Read the state of the world from the database, with no policy code involved."""
        from trellis.accounts.models import User
        from trellis.agreements.models import Agreement
        from trellis.couples.models import Consent as ConsentRow
        from trellis.couples.models import ConsentScope, Membership, TherapistLink
        from trellis.meetings.models import Meeting

        world = cls(now=now or timezone.now())
        for u in User.objects.all():
            world.people[u.pk] = Person(u.pk, u.role, u.is_active, u.accepts_confidences)
        for m in Membership.objects.all():
            if m.left_at is None:
                world.current_members.setdefault(m.couple_id, set()).add(m.user_id)
        for link in TherapistLink.objects.all():
            world.links[link.pk] = (link.couple_id, link.therapist_id, link.ended_at is not None)
        scopes: dict[Any, set[str]] = {}
        for s in ConsentScope.objects.all():
            scopes.setdefault(s.consent_id, set()).add(s.entry_type)
        for c in ConsentRow.objects.all():
            world.consents.append(
                Consent(
                    grantor_id=c.grantor_id,
                    therapist_id=c.therapist_id,
                    link_id=c.link_id,
                    expires_at=c.expires_at,
                    withdrawn_at=c.withdrawn_at,
                    scopes=frozenset(scopes.get(c.pk, set())),
                )
            )
        for meeting_id, couple_id, revealed_at in Meeting.objects.values_list(
            "id", "couple_id", "revealed_at"
        ):
            world.meetings[meeting_id] = (couple_id, revealed_at is not None)
        world.agreements = dict(Agreement.objects.values_list("id", "couple_id"))
        return world

    # --- the rules ---------------------------------------------------------------------------

    def _is_current_member(self, person_id: Any, couple_id: Any) -> bool:
        return couple_id is not None and person_id in self.current_members.get(couple_id, set())

    def _is_current_partner(self, reader: Person, entry: Entry) -> bool:
        return (
            reader.id != entry.author_id
            and self._is_current_member(reader.id, entry.couple_id)
            and self._is_current_member(entry.author_id, entry.couple_id)
        )

    def _consent_in_force(self, therapist: Person, entry: Entry) -> bool:
        for c in self.consents:
            if c.grantor_id != entry.author_id or c.therapist_id != therapist.id:
                continue
            if c.withdrawn_at is not None or not (c.expires_at > self.now):
                continue
            if entry.entry_type not in c.scopes:
                continue
            link = self.links.get(c.link_id)
            if link is None:
                continue
            link_couple, link_therapist, link_ended = link
            if link_ended or link_therapist != therapist.id:
                continue
            if link_couple != entry.couple_id:
                continue
            if not self._is_current_member(c.grantor_id, link_couple):
                continue
            return True
        return False

    def _meeting_revealed(self, entry: Entry) -> bool:
        meeting = self.meetings.get(entry.meeting_id)
        return meeting is not None and meeting[1]

    def gate_open(self, entry: Entry) -> bool:
        """The entry type's own condition for readers other than the author."""
        gate = READ_GATES.get(entry.entry_type)
        return True if gate is None else gate(self, entry)

    def may_read(self, actor_id: Any, entry: Entry) -> bool:
        if actor_id is None:
            return False
        reader = self.people.get(actor_id)
        if reader is None or not reader.is_active:
            return False
        if reader.id == entry.author_id:
            return True
        if not self.gate_open(entry):
            return False
        if entry.audience in PARTNER_SEES and self._is_current_partner(reader, entry):
            return True
        if reader.role != "therapist":
            return False
        if entry.audience in THERAPIST_SEES_WITH_CONSENT:
            return self._consent_in_force(reader, entry)
        if entry.audience in THERAPIST_SEES_AS_CONFIDENCE:
            return reader.accepts_confidences and self._consent_in_force(reader, entry)
        return False

    def may_respond(self, actor_id: Any, entry: Entry) -> bool:
        """Acknowledge a trust moment, confirm a reflection, answer a proposal: a current member
        of the entry's couple who reads it and did not write it (the author's current partner);
        never a therapist."""
        if not self.may_read(actor_id, entry):
            return False
        person = self.people[actor_id]
        if person.role != "member" or person.id == entry.author_id:
            return False
        if not self._is_current_member(person.id, entry.couple_id):
            return False
        rule = RESPOND_RULES.get(entry.entry_type)
        return True if rule is None else rule(self, person.id, entry)

    def _agreement_member(self, person_id: Any, entry: Entry) -> bool:
        """A current member of the couple whose agreement the entry is part of."""
        return self._is_current_member(person_id, self.agreements.get(entry.agreement_id))

    def may_use_couple_object(self, actor_id: Any, obj: Any) -> bool:
        """A meeting: its couple's current members only."""
        if actor_id is None:
            return False
        person = self.people.get(actor_id)
        if person is None or not person.is_active:
            return False
        return self._is_current_member(person.id, obj.couple_id)

    def _is_author(self, actor_id: Any, entry: Entry) -> bool:
        if actor_id is None:
            return False
        person = self.people.get(actor_id)
        return person is not None and person.is_active and person.id == entry.author_id

    def may_change(self, actor_id: Any, entry: Entry) -> bool:
        """Edit, delete, choose the audience, see who has read it, withdraw or revise a
        proposal: the author alone (and for a proposal, only while a member of its couple)."""
        if not self._is_author(actor_id, entry):
            return False
        rule = AUTHOR_RULES.get(entry.entry_type)
        return True if rule is None else rule(self, actor_id, entry)

    def may_export(self, actor_id: Any, entry: Entry) -> bool:
        """An export holds what the person wrote, nothing anyone else wrote (C16, R39)."""
        return self._is_author(actor_id, entry)

    def decide(self, actor_id: Any, entry: Any, op: str) -> bool:
        if op in {"read", "list", "search"}:
            return self.may_read(actor_id, entry)
        if op == "export":
            return self.may_export(actor_id, entry)
        if op == "author":
            return self.may_change(actor_id, entry)
        if op == "respond":
            return self.may_respond(actor_id, entry)
        if op == "couple":
            return self.may_use_couple_object(actor_id, entry)
        raise ValueError(f"The oracle knows no operation {op!r}.")

    def visible_ids(self, actor_id: Any, entries: list[Entry]) -> set[Any]:
        return {e.id for e in entries if self.may_read(actor_id, e)}


# Per entry type: the gate every reader but the author must pass (written from the rules, not
# from the models' sharing_gate()). Nobody goes first: a meeting answer is hidden from everyone
# but its author until the meeting is revealed.
READ_GATES: dict[str, Any] = {
    "meeting_answer": World._meeting_revealed,
}

# Per entry type: what else responding needs, as f(world, responder id, entry). Only a
# reflection asks "did I get that right?"; a proposal is answered by a member of the couple
# whose agreement it would change.
RESPOND_RULES: dict[str, Any] = {
    "meeting_note": lambda world, person_id, entry: entry.kind == "reflection",
    "agreement_proposal": World._agreement_member,
}

# Per entry type: what else its author needs to change it, as f(world, author id, entry). A
# proposal is part of its couple's agreement: withdrawn or revised only by a current member.
AUTHOR_RULES: dict[str, Any] = {
    "agreement_proposal": World._agreement_member,
}
