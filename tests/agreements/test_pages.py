"""The agreement's pages (SPEC C5) with a history behind them: the document, its history a page at
a time, any two versions side by side, the print view. Each page reads (and records as read)
only what it shows, so it costs the same after two years of weekly changes as after two weeks
(QUALITY P1, P2); nothing of the history becomes unreachable."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.urls import reverse

from trellis.agreements import services, views
from trellis.agreements.models import Agreement, AgreementProposal, ClauseText
from trellis.sharing.models import AuditEvent

WALKS = "We walk together on Sunday mornings."
WALKS_MORE = "We walk together on Sunday mornings and Wednesday evenings."
PHONES = "Our phones charge in the kitchen overnight."
MONEY = "We talk before any purchase over $100."
CHECKIN = "We each do a short check-in every evening, even when there is little to say."
CHECKIN_SHORT = "We each do a short check-in most evenings."
MEETINGS = "Alex goes to his recovery meetings each week and says when he has to miss one."
SLOWER = "Maybe we could slow down on the check-ins for a while?"


def _propose(author, text="", **kw) -> AgreementProposal:
    agreement = services.agreement_for(author)
    assert agreement is not None
    kw.setdefault("kind", "add")
    kw.setdefault("section", "recovery")
    proposal, created = services.proposal_create(
        author=author, agreement=agreement, base_version=agreement.version, text=text, **kw
    )
    assert created
    return proposal


def _accept(user, proposal: AgreementProposal) -> ClauseText | None:
    services.proposal_accept(user=user, proposal=proposal, expected_version=proposal.version)
    return ClauseText.objects.filter(proposal=proposal).first()


@dataclass
class History:
    agreement: Agreement
    walks: ClauseText  # Sam's, changed in version 3 (the wording in force is `walks_more`)
    walks_more: ClauseText
    phones: ClauseText  # Alex's, retired in version 4
    proposals: list[AgreementProposal]  # oldest first


@pytest.fixture
def history(people) -> History:
    """Alex and Sam's agreement after six accepted proposals, one declined and one still open:
    v1 Sam's walks (Alex accepted), v2 Alex's phones, v3 walks reworded, (Alex's money
    declined), v4 phones retired, v5 Sam's check-in, v6 check-in reworded; then Alex's
    meetings, waiting for Sam."""
    alex, sam = people.alex, people.sam
    proposals = []

    def step(author, partner, text="", **kw):
        proposal = _propose(author, text, **kw)
        proposals.append(proposal)
        return _accept(partner, proposal) if partner is not None else None

    walks = step(sam, alex, WALKS)
    phones = step(alex, sam, PHONES, section="digital")
    walks_more = step(alex, sam, WALKS_MORE, kind="change", clause_id=walks.clause_id)
    declined = _propose(alex, MONEY, section="money")
    proposals.append(declined)
    services.proposal_decline(
        user=sam, proposal=declined, expected_version=declined.version, reason="Not yet."
    )
    step(sam, alex, kind="retire", clause_id=phones.clause_id, reason="We do this anyway now.")
    checkin = step(sam, alex, CHECKIN, section="ok")
    step(alex, sam, CHECKIN_SHORT, kind="change", clause_id=checkin.clause_id)
    step(alex, None, MEETINGS)
    agreement = services.agreement_for(alex)
    assert agreement is not None and agreement.version == 6
    return History(agreement, walks, walks_more, phones, proposals)


def _url(name: str, agreement: Agreement) -> str:
    return reverse(f"agreements:{name}", args=[agreement.pk])


def _versions_shown(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"<strong>Version (\d+)</strong>", html)]


def _proposals_shown(html: str) -> int:
    return html.count('class="entry proposal-item')


# --- history ---------------------------------------------------------------------------------


def test_history_shows_a_page_at_a_time_newest_first(people, history, client_for, monkeypatch):
    monkeypatch.setattr(views, "HISTORY_PAGE_SIZE", 3)
    alex = client_for(people.alex)
    url = _url("history", history.agreement)

    first = alex.get(url)
    assert first.status_code == 200
    html = first.content.decode()
    assert _versions_shown(html) == [6, 5, 4]
    assert _proposals_shown(html) == 3
    assert MEETINGS in html  # the newest proposal, still waiting for Sam
    assert "Page 1 of 3" in html
    assert "?page=2" in html and "Older" in html

    second = alex.get(url, {"page": 2})
    assert second.status_code == 200
    html = second.content.decode()
    assert _versions_shown(html) == [3, 2, 1]
    assert _proposals_shown(html) == 3
    assert "Sam declined this for now" in html and "Not yet." in html
    assert "Page 2 of 3" in html and "?page=1" in html and "?page=3" in html

    # Eight proposals but six versions: the last page holds the oldest proposals only.
    third = alex.get(url, {"page": 3})
    html = third.content.decode()
    assert _versions_shown(html) == []
    assert "No older versions: your first one is on an earlier page." in html
    assert _proposals_shown(html) == 2
    assert WALKS in html
    assert "Older</a>" not in html


def test_each_version_in_the_history_links_to_itself_and_to_a_comparison(
    people, history, client_for
):
    html = client_for(people.sam).get(_url("history", history.agreement)).content.decode()
    assert _versions_shown(html) == [6, 5, 4, 3, 2, 1]
    compare = _url("compare", history.agreement)
    detail = _url("detail", history.agreement)
    for n in range(1, 7):
        assert f'href="{detail}?version={n}"' in html
        assert f'href="{compare}?a={n - 1}&amp;b={n}"' in html
    assert "Compare with the start" in html
    # Any two versions, not only neighbours: the comparison page's own picker.
    assert f'href="{compare}"' in html
    # One page: no pager.
    assert 'class="pager"' not in html


def test_a_retired_clause_stays_in_the_history_with_the_version_that_retired_it(
    people, history, client_for
):
    html = client_for(people.sam).get(_url("history", history.agreement)).content.decode()
    retire = html[
        html.index("<strong>Version 4</strong>") : html.index("<strong>Version 3</strong>")
    ]
    assert "A clause retired (Digital boundaries)" in retire
    assert PHONES in retire
    assert reverse("agreements:clause_text", args=[history.phones.pk]) in retire


@pytest.mark.parametrize(
    ("page", "shown", "message"),
    [
        ("abc", [6, 5, 4], "There is no page “abc” in your history. Here is the newest one."),
        ("0", [6, 5, 4], "There is no page “0” in your history. Here is the newest one."),
        ("-2", [6, 5, 4], "There is no page “-2” in your history. Here is the newest one."),
        ("2.5", [6, 5, 4], "There is no page “2.5” in your history. Here is the newest one."),
        ("99", [], "Your history has 3 pages, so there is no page 99. Here is the oldest one."),
        ("9" * 40, [], "Your history has 3 pages, so there is no page"),
    ],
)
def test_a_page_that_does_not_exist_gets_a_clear_answer(
    people, history, client_for, monkeypatch, page, shown, message
):
    monkeypatch.setattr(views, "HISTORY_PAGE_SIZE", 3)
    response = client_for(people.alex).get(_url("history", history.agreement), {"page": page})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html and message in html
    assert _versions_shown(html) == shown
    assert _proposals_shown(html) > 0  # a page of the history, not an error page


def test_a_history_of_one_page_has_no_second(people, history, client_for):
    response = client_for(people.alex).get(_url("history", history.agreement), {"page": 2})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Your history has 1 page, so there is no page 2. Here is the oldest one." in html
    assert _versions_shown(html) == [6, 5, 4, 3, 2, 1]


def test_the_history_records_reads_of_the_page_shown_only(people, history, client_for, monkeypatch):
    """Alex reading the newest page reads Sam's newest proposals, not the older ones."""
    monkeypatch.setattr(views, "HISTORY_PAGE_SIZE", 3)
    AuditEvent.objects.all().delete()
    client_for(people.alex).get(_url("history", history.agreement))
    read = set(
        AuditEvent.objects.filter(actor=people.alex, action="read").values_list(
            "entry_id", flat=True
        )
    )
    newest = sorted(history.proposals, key=lambda p: p.created_at, reverse=True)[:3]
    older = [p for p in history.proposals if p not in newest]
    assert {p.pk for p in newest if p.author_id == people.sam.pk} <= read
    assert not {p.pk for p in older} & read


def test_an_empty_history_says_so_calmly(people, agreement, client_for):
    response = client_for(people.alex).get(_url("history", agreement))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing agreed yet." in html and "No proposals yet." in html
    assert 'class="pager"' not in html


# --- the document, and its print -------------------------------------------------------------


def test_the_agreement_shows_every_clause_in_force_and_who_agreed_it(people, history, client_for):
    response = client_for(people.alex).get(_url("detail", history.agreement))
    assert response.status_code == 200
    html = response.content.decode()
    assert WALKS_MORE in html and CHECKIN_SHORT in html
    assert PHONES not in html  # retired
    assert "Proposed by you, accepted by Sam · since version 3" in html
    assert "Proposed by you, accepted by Sam · since version 6" in html
    # Alex's proposal waits for Sam, and a way to change each clause is one tap away.
    assert "Waiting for Sam" in html and MEETINGS in html
    propose = _url("propose", history.agreement)
    walks = history.walks.clause_id
    assert f'href="{propose}?kind=change&amp;clause={walks}"' in html
    assert f'href="{propose}?kind=retire&amp;clause={walks}"' in html


def test_an_earlier_version_shows_its_own_wording(people, history, client_for):
    response = client_for(people.sam).get(_url("detail", history.agreement), {"version": 2})
    html = response.content.decode()
    assert response.status_code == 200
    assert "This is an earlier version" in html
    assert WALKS in html and PHONES in html and WALKS_MORE not in html
    assert "Proposed by you, accepted by Alex · since version 1" in html
    assert "Propose a change" not in html


@pytest.mark.parametrize("version", ["99", "x", "-1"])
def test_a_version_that_does_not_exist_shows_the_one_in_force_and_says_so(
    people, history, client_for, version
):
    response = client_for(people.sam).get(_url("detail", history.agreement), {"version": version})
    assert response.status_code == 400
    html = response.content.decode()
    assert f"Your agreement has no version “{version}”. Here is the version in force." in html
    assert WALKS_MORE in html and "This is an earlier version" not in html


def test_print_holds_the_whole_agreement_in_force_with_names(people, history, client_for):
    response = client_for(people.alex).get(_url("print", history.agreement))
    assert response.status_code == 200
    html = response.content.decode()
    assert WALKS_MORE in html and CHECKIN_SHORT in html and PHONES not in html
    # On paper everyone is named, the reader too.
    assert "Proposed by Alex, accepted by Sam on" in html
    doc = html[html.index('class="print-doc"') : html.index("</article>")]
    assert "Proposed by you" not in doc and "accepted by you" not in doc
    assert "Version 6" in html


# --- comparing two versions ------------------------------------------------------------------


def test_comparing_shows_what_differs_and_counts_the_rest(people, history, client_for):
    response = client_for(people.sam).get(_url("compare", history.agreement))  # 5 and 6
    assert response.status_code == 200
    html = response.content.decode()
    assert "Reworded" in html
    assert "1 reworded, 1 unchanged" in html
    assert "1 other clause reads the same in both versions." in html
    assert WALKS_MORE not in html  # the same in both: counted, not shown again
    assert f'href="{_url("detail", history.agreement)}"' in html


def test_any_two_versions_can_be_compared(people, history, client_for):
    client = client_for(people.sam)
    url = _url("compare", history.agreement)
    html = client.get(url, {"a": 1, "b": 6}).content.decode()
    assert "1 added, 1 reworded" in html
    assert "<del>" in html and "<ins>" in html
    html = client.get(url, {"a": 0, "b": 2}).content.decode()
    assert html.count("New in version 2") == 2
    html = client.get(url, {"a": 3, "b": 3}).content.decode()
    assert "All 2 clauses read the same in both versions." in html
    assert f'href="{_url("detail", history.agreement)}?version=3"' in html
    # The pickers offer every version, the chosen ones selected.
    assert '<option value="3" selected>Version 3</option>' in html
    for n in range(1, 7):
        assert f'<option value="{n}"' in html
    assert '<option value="0">Before anything was agreed</option>' in html


def test_comparing_a_version_that_does_not_exist_says_which(people, history, client_for):
    response = client_for(people.sam).get(_url("compare", history.agreement), {"a": 9, "b": "x"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "There is no version “9” to compare (earlier)" in html
    assert "There is no version “x” to compare (later)" in html


# --- who may see them ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["detail", "history", "compare", "print", "review", "propose"])
def test_outsiders_get_404_and_other_methods_405(people, history, client_for, name):
    url = _url(name, history.agreement)
    for outsider in (people.casey, people.pat, people.lee):
        assert client_for(outsider).get(url).status_code == 404
    assert client_for(None).get(url).status_code == 302  # to sign in
    if name not in ("review", "propose"):
        assert client_for(people.alex).post(url).status_code == 405


# --- a review, and what people wrote shown safely ----------------------------------------------


def test_a_review_shows_who_has_kept_each_clause(people, history, client_for):
    alex, sam = people.alex, people.sam
    services.review_call(user=alex, agreement=history.agreement)
    services.review_keep(user=sam, agreement=history.agreement, clause_id=history.walks.clause_id)
    html = client_for(alex).get(_url("review", history.agreement)).content.decode()
    walks = html[html.index(WALKS_MORE) :]
    walks = walks[: walks.index("</li>")]
    assert "Sam has kept this clause." in walks
    assert "This still works for me" in walks
    assert 'name="csrfmiddlewaretoken"' in walks
    services.review_keep(user=alex, agreement=history.agreement, clause_id=history.walks.clause_id)
    html = client_for(alex).get(_url("review", history.agreement)).content.decode()
    walks = html[html.index(WALKS_MORE) :]
    walks = walks[: walks.index("</li>")]
    assert "You have both kept this clause in this review." in walks
    assert "This still works for me" not in walks
    checkin = html[html.index(CHECKIN_SHORT) :]
    assert "Not looked at yet in this review." in checkin[: checkin.index("</li>")]


def test_what_people_wrote_is_escaped_on_every_page(people, agreement, client_for):
    alex, sam = people.alex, people.sam
    words = 'We say <script>alert("hi")</script> & mean it.\nSecond line.'
    why = "<b>because</b>"
    proposal = _propose(sam, words, rationale=why)
    _accept(alex, proposal)
    services.review_call(user=alex, agreement=agreement)
    client = client_for(alex)
    for name in ("detail", "print", "review", "history", "compare"):
        html = client.get(_url(name, agreement)).content.decode()
        assert "<script>alert" not in html and "<b>because</b>" not in html, name
        assert "&lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt; &amp; mean it." in html, name
    html = client.get(_url("detail", agreement)).content.decode()
    assert "mean it.<br>Second line." in html
    assert "&lt;b&gt;because&lt;/b&gt;" in html


def test_before_a_partner_joins_the_page_says_so_and_names_nobody(db, client_for):
    from tests.personas import make_couple, make_user

    robin = make_user("robin@example.com", "Robin")
    make_couple(robin)
    agreement = services.agreement_for(robin)
    assert agreement is not None
    _propose(robin, WALKS)
    html = client_for(robin).get(_url("detail", agreement)).content.decode()
    assert "Your partner has not joined your couple space yet." in html
    assert "Waiting for your partner" in html
    html = client_for(robin).get(_url("propose", agreement)).content.decode()
    assert "Send to your partner" in html


def test_a_wording_the_reader_may_not_read_keeps_its_place_without_its_words(
    people, history, client_for
):
    """A wording its author kept to themself (as a former partner's would be once they left):
    the clause is still in the document, in its place, and every page says so calmly."""
    from tests.security.entries import agree_clause

    secret = "Words about the meetings that Alex keeps for himself only."
    wording = agree_clause(
        history.agreement,
        people.alex,
        "me",
        secret,
        couple_id=people.couple.pk,
        section="recovery",
    )
    sam = client_for(people.sam)
    for name in ("detail", "print", "review"):
        html = sam.get(_url(name, history.agreement)).content.decode()
        assert secret not in html, name
        assert "Not shared with you" in html, name
        assert WALKS_MORE in html, name
    html = sam.get(_url("detail", history.agreement)).content.decode()
    assert f'id="c-{wording.clause_id}"' in html
    compared = sam.get(_url("compare", history.agreement)).content.decode()
    assert secret not in compared and "Not shared with you" in compared
    assert not AuditEvent.objects.filter(actor=people.sam, entry_id=wording.pk).exists()
    # Alex reads his own words.
    assert secret in client_for(people.alex).get(_url("detail", history.agreement)).content.decode()
