"""Deterministic English news prose.

Sentences are composed from small grammars over large word lists rather than
picked from a fixed sentence bank, so two different stories share almost no
word 5-grams (what a near-duplicate detector keys on), while one story's
entities (people, places, organisations) recur through it like real reporting.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

FIRST = ("Amara Tobias Lena Marco Priya Henrik Sofia Dmitri Noor Elena Kofi Ingrid Rafael Yuki "
         "Mateo Clara Farid Aisha Jonas Marta Omar Freya Luca Nadia Pavel Selin Tariq Helga "
         "Ivo Leila Bruno Hana Emil Zara Viktor Rosa Anders Mira Kenji Dalia").split()
LAST = ("Okafor Lindqvist Marchetti Haddad Novak Brennan Castillo Weber Sato Petrov Adeyemi "
        "Kowalski Moreau Fischer Tanaka Rahman Olsen Duarte Keller Varga Nilsen Costa Mendes "
        "Hoffmann Yilmaz Horvat Aziz Janssen Ricci Dubois Lindgren Vasquez Kaur Berg Ozturk "
        "Sorensen Pereira Kim Abara Quinn").split()
ROLES = ("finance minister;transport secretary;mayor;chief executive;union leader;spokeswoman;"
         "spokesman;senior economist;deputy governor;health commissioner;opposition leader;"
         "board chair;city planner;prosecutor;lead researcher;energy regulator;party whip;"
         "council leader;trade envoy;chief negotiator").split(";")
CITIES = ("Harwick Oldport Brindle Castlemere Dunmore Eastvale Fenwick Glenhollow Kingsreach "
          "Larkspur Millbrook Northam Redcliff Saltmarsh Thornbury Westfield Ashgrove Bellhaven "
          "Carrow Drayton").split()
COUNTRIES = ("Norland Veridia Castora Baltrovia Sorenland Ardenia Melisia Korvath Estrava "
             "Pellucia Tarvonia Ostmark").split()
ORGS = ("the regional assembly;the central bank;the port authority;the national rail operator;"
        "the teachers' union;the competition watchdog;the water utility;the health ministry;"
        "the chamber of commerce;the supreme court;the electoral commission;the farmers' "
        "federation;the housing agency;the statistics office;the coast guard;the defence "
        "ministry;the university council;the environment agency;the airport operator;"
        "the pension fund").split(";")

# Topic vocabularies: nouns that give each story its own subject matter.
TOPICS: dict[str, tuple[str, ...]] = {
    "politics": ("coalition talks", "budget vote", "cabinet reshuffle", "ballot reform",
                 "no-confidence motion", "constitutional amendment", "party congress",
                 "ceasefire proposal", "border agreement", "diplomatic mission"),
    "economy": ("inflation figures", "interest rate decision", "trade deficit", "bond auction",
                "wage settlement", "export tariffs", "factory output", "tax overhaul",
                "currency reserves", "retail sales"),
    "energy": ("gas pipeline", "wind farm tender", "grid upgrade", "fuel subsidy",
               "nuclear licence", "solar auction", "power outage", "refinery expansion",
               "heating tariff", "battery plant"),
    "health": ("vaccination drive", "hospital merger", "waiting lists", "nurses' contract",
               "drug shortage", "clinic closures", "screening programme", "ambulance response",
               "mental health funding", "flu season"),
    "transport": ("tram extension", "rail timetable", "bridge repairs", "ferry strike",
                  "airport runway", "bus fares", "motorway tolls", "cycle lanes",
                  "freight corridor", "signalling failure"),
    "climate": ("flood defences", "drought plan", "emissions target", "forest fires",
                "coastal erosion", "heatwave warning", "river pollution", "carbon levy",
                "glacier survey", "storm damage"),
    "technology": ("data breach", "chip factory", "broadband rollout", "app ban",
                   "satellite launch", "cyberattack", "software outage", "robotics lab",
                   "digital identity scheme", "telecom auction"),
    "courts": ("corruption trial", "appeal ruling", "extradition request", "fraud inquiry",
               "class action", "sentencing hearing", "injunction", "witness testimony",
               "plea agreement", "judicial review"),
}
TOPIC_NAMES = tuple(TOPICS)

ADJ = ("contentious sweeping modest delayed long-awaited controversial provisional costly "
       "ambitious fragile preliminary revised emergency disputed unprecedented cautious "
       "partial landmark stalled overdue").split()
V_PAST = ("approved rejected postponed criticised defended unveiled suspended questioned "
          "welcomed blocked revised endorsed challenged scrapped expanded audited "
          "announced reviewed opposed backed").split()
V_PRES = ("warn insist argue expect fear estimate concede acknowledge predict maintain "
          "suggest stress").split()
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
QUANT = ("residents;commuters;small businesses;pensioners;shareholders;farmers;students;"
         "hospital staff;local councils;exporters;tenants;investors;shift workers;families").split(";")
CONSEQ = ("could add months to the schedule;would cost far more than first planned;"
          "leaves several questions unanswered;may face a legal challenge;"
          "is unlikely to pass before the summer recess;would hit rural areas hardest;"
          "was overdue by at least two years;risks deepening the dispute;"
          "might ease pressure on household budgets;could reshape the regional market;"
          "would require fresh borrowing;is being watched closely abroad").split(";")
CONNECT = ("However,;Meanwhile,;At the same time,;Separately,;Earlier this month,;"
           "In a statement,;By contrast,;Last year,;According to officials,;In response,").split(";")
REASONS = ("because of rising costs;after weeks of negotiations;amid protests outside the building;"
           "following an independent review;despite objections from local groups;"
           "after a late-night session;ahead of next year's elections;"
           "under pressure from creditors;after a leaked memo surfaced;"
           "citing safety concerns").split(";")


@dataclass
class Cast:
    """The entities one story keeps returning to."""
    people: list[tuple[str, str]]  # (full name, role)
    city: str
    country: str
    org: str
    org2: str
    topic: str
    subjects: list[str]


def make_cast(rng: random.Random, topic: str | None = None) -> Cast:
    topic = topic or rng.choice(TOPIC_NAMES)
    people = [(f"{rng.choice(FIRST)} {rng.choice(LAST)}", rng.choice(ROLES)) for _ in range(3)]
    org, org2 = rng.sample(ORGS, 2)
    return Cast(people, rng.choice(CITIES), rng.choice(COUNTRIES), org, org2, topic,
                rng.sample(TOPICS[topic], 4))


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _last(name: str) -> str:
    return name.split()[-1]


_PLURAL = {"is": "are", "was": "were", "has": "have", "leaves": "leave", "risks": "risk",
           "divides": "divide"}


def _agree(subj: str, phrase: str) -> str:
    """Subject-verb agreement for plural subjects such as 'export tariffs'."""
    if not subj.endswith("s"):
        return phrase
    head, _, rest = phrase.partition(" ")
    return " ".join(x for x in (_PLURAL.get(head, head), rest) if x)


def _number(rng: random.Random) -> str:
    kind = rng.randrange(3)
    if kind == 0:
        return f"{rng.randrange(2, 95)}.{rng.randrange(10)} percent"
    if kind == 1:
        return f"{rng.randrange(3, 900)} million euros"
    if kind == 2:
        return f"{rng.randrange(120, 9800):,} people"
    if kind == 3:
        return f"{rng.randrange(2, 40)} months"
    return f"{rng.randrange(11, 99)} of the {rng.randrange(100, 200)} seats"


def _clause(rng: random.Random, c: Cast) -> str:
    """One independent clause about the story's subject matter."""
    subj = rng.choice(c.subjects)
    k = rng.randrange(9)
    if k == 0:
        return f"{rng.choice([c.org, c.org2])} {rng.choice(V_PAST)} the {rng.choice(ADJ)} {subj} {rng.choice(REASONS)}, with {_number(rng)} at stake"
    if k == 8:
        return f"{rng.choice(QUANT)} in {c.city} {rng.choice(V_PAST)} the {subj} {rng.choice(REASONS)}"
    if k == 1:
        return f"the {rng.choice(ADJ)} {subj} {_agree(subj, rng.choice(CONSEQ))}"
    if k == 2:
        return f"{rng.choice(QUANT)} in {c.city} {rng.choice(V_PRES)} that the {subj} {_agree(subj, rng.choice(CONSEQ))}"
    if k == 3:
        return f"the {subj} {_agree(subj, 'has')} already affected {rng.randrange(120, 9800):,} people across {c.country}"
    if k == 4:
        p = rng.choice(c.people)
        return f"{_last(p[0])} {rng.choice(V_PAST)} the plan for the {subj} on {rng.choice(DAYS)}"
    if k == 5:
        return f"figures released by {c.org2} put the cost of the {subj} at {rng.randrange(3, 900)} million euros"
    if k == 6:
        return f"officials in {c.city} said the {subj} {_agree(subj, 'was')} {' and '.join(rng.sample(ADJ, 2))}"
    return f"{rng.choice(QUANT)} and {rng.choice(QUANT)} {rng.choice(V_PAST)} the {subj} {rng.choice(REASONS)}"


def sentence(rng: random.Random, c: Cast) -> str:
    k = rng.randrange(6)
    if k == 0:
        name, role = rng.choice(c.people)
        s = f"{name}, the {role}, said on {rng.choice(DAYS)} that {_clause(rng, c)}"
    elif k == 1:
        s = f"{rng.choice(CONNECT)} {_clause(rng, c)}"
    elif k == 2:
        s = f"{_cap(_clause(rng, c))}, while {_clause(rng, c)}"
    elif k == 3:
        s = f"{_cap(_clause(rng, c))}, according to {rng.choice([c.org, c.org2])}"
    else:
        s = _cap(_clause(rng, c))
    return _cap(s) + "."


def quote_paragraph(rng: random.Random, c: Cast) -> str:
    name, role = rng.choice(c.people)
    a, b = _clause(rng, c), _clause(rng, c)
    return f"\u201c{_cap(a)},\u201d {name} said. \u201c{_cap(b)}.\u201d"


def paragraph(rng: random.Random, c: Cast, n_sent: int | None = None) -> str:
    return " ".join(sentence(rng, c) for _ in range(n_sent or rng.randrange(2, 5)))


def body(rng: random.Random, c: Cast, words: int) -> list[str]:
    """Paragraphs totalling roughly `words` words; every fourth or so is a quote."""
    out: list[str] = []
    total = 0
    while total < words:
        p = quote_paragraph(rng, c) if out and rng.random() < 0.22 else paragraph(rng, c)
        out.append(p)
        total += len(p.split())
    return out


def short_body(rng: random.Random, c: Cast) -> list[str]:
    """1-2 short paragraphs, about 40-80 words in all."""
    while True:
        paras = [paragraph(rng, c, 2)] + ([paragraph(rng, c, 1)] if rng.random() < 0.5 else [])
        n = sum(len(p.split()) for p in paras)
        if 40 <= n <= 80:
            return paras


def headline(rng: random.Random, c: Cast) -> str:
    subj = rng.choice(c.subjects)
    k = rng.randrange(5)
    if k == 0:
        return f"{c.city} {rng.choice(V_PAST)} {rng.choice(ADJ)} {subj}"
    if k == 1:
        return f"{_cap(subj)} {_agree(subj, rng.choice(CONSEQ))}, {rng.choice(c.people)[1]} warns"
    if k == 2:
        return f"{_last(rng.choice(c.people)[0])} {rng.choice(V_PAST)} {subj} as {rng.choice(QUANT)} protest"
    if k == 3:
        return f"{c.country}: {_cap(rng.choice(ADJ))} {subj} {rng.choice(REASONS)}"
    return f"{_cap(rng.choice(ADJ))} {subj} {_agree(subj, 'divides')} {c.city}"


def summary(rng: random.Random, c: Cast) -> str:
    """A two-sentence standfirst used in teasers and feeds (never in the body)."""
    return paragraph(rng, c, 2)


def teaser_block(rng: random.Random, words: int) -> list[str]:
    """A long 'Editor's choice' teaser (several paragraphs) about an unrelated story."""
    return body(rng, make_cast(rng), words)


def slugify(title: str) -> str:
    out, dash = [], False
    for ch in title.lower():
        if ch.isalnum() and ch.isascii():
            out.append(ch)
            dash = False
        elif not dash:
            out.append("-")
            dash = True
    return "".join(out).strip("-")[:70].rstrip("-")


def light_edit(rng: random.Random, paras: list[str]) -> list[str]:
    """Syndication edit: swap a few words, maybe drop or split a paragraph."""
    swaps = {"said": "stated", "However,": "But", "residents": "locals", "officials": "authorities",
             "criticised": "condemned", "announced": "declared", "Meanwhile,": "In the meantime,"}
    out = []
    for p in paras:
        for a, b in swaps.items():
            if a in p and rng.random() < 0.35:
                p = p.replace(a, b, 1)
        out.append(p)
    r = rng.random()
    if r < 0.3 and len(out) > 3:
        del out[rng.randrange(1, len(out))]
    elif r < 0.6:
        i = max(range(len(out)), key=lambda j: len(out[j]))
        parts = out[i].split(". ")
        if len(parts) > 2:
            half = len(parts) // 2
            out[i:i + 1] = [". ".join(parts[:half]) + ".", ". ".join(parts[half:])]
    return out
