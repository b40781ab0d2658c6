"""Generated activities for benchmarks, tests and the demo: seeded, deterministic and
clearly artificial, with planted near-duplicates whose ids are returned.

Texts come from templates per institution type (verbs, units, topics, framing
sentences) in English, with a share in French and Spanish, and optionally from real
titles and descriptions that callers pass in (the benchmark reads them from IATI
files). A planted duplicate copies an activity to another owner, shifts its period by a
few months and rewrites its text: synonyms from a paraphrase table written separately
from the lexicon (some words are in both, as in real paraphrase), sentences reordered,
dropped or added.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from ssaplan.coordination.engine.records import Activity

AGENCIES = ("DOD", "STATE", "DOJ", "DHS", "USAID", "TREASURY")
DONORS = ("GB-GOV-1", "DE-1", "FR-3", "XI-IATI-EC", "NL-1", "SE-6", "JP-8", "CA-3", "AU-5", "NO-1")

UNITS = {
    "police": [
        "national police",
        "criminal investigation department",
        "community police units",
        "police academy",
        "riot control units",
        "traffic police",
    ],
    "armed_forces": [
        "armed forces",
        "army engineers",
        "special operations forces",
        "navy",
        "air force maintenance crews",
        "infantry battalions",
    ],
    "border_management": [
        "border guards",
        "coast guard",
        "immigration service",
        "border police",
        "maritime border units",
    ],
    "customs": [
        "customs administration",
        "customs officers at ports of entry",
        "customs laboratory",
    ],
    "justice": [
        "courts",
        "public prosecutors",
        "prison service",
        "legal aid offices",
        "judicial training institute",
    ],
    "oversight": [
        "ministry of defense",
        "parliamentary defense committee",
        "inspectorate general",
        "ombudsman office",
        "ministry of interior",
    ],
    "civil_society": [
        "civil society organizations",
        "local media",
        "women's associations",
        "human rights defenders",
    ],
    "civil_emergency": [
        "civil protection directorate",
        "fire and rescue services",
        "disaster management agency",
    ],
    "non_state": ["customary courts", "community security committees", "traditional leaders"],
}
DAC = {
    "police": "15132",
    "justice": "15130",
    "border_management": "15136",
    "customs": "33120",
    "armed_forces": "15210",
    "oversight": "15210",
    "civil_society": "15150",
    "civil_emergency": "74020",
    "non_state": "15220",
}
ACTIONS = [
    ("Train", "training courses for {unit} on {topic}"),
    ("Equip", "delivery of vehicles, radios and equipment to {unit} for {topic}"),
    ("Advise", "embedded advisers supporting {unit} in {topic}"),
    ("Build facilities for", "construction of a training centre for {unit} working on {topic}"),
    ("Reform", "support to restructure {unit} and improve {topic}"),
    ("Mentor", "mentoring of senior staff of {unit} on {topic}"),
]
# Where in the country and for whom: real descriptions are specific, and without this
# every template would collide with itself many times in a big partner.
PLACES = [
    "in the capital",
    "in the northern provinces",
    "in the southern districts",
    "along the eastern border",
    "in the western highlands",
    "in the coastal region",
    "in the border towns",
    "in the main port",
    "at the national academy",
    "in three pilot districts",
    "in the refugee-hosting areas",
    "in the conflict-affected north-east",
    "in the delta region",
    "in the mining areas",
    "at the international airport",
    "in the lake region",
    "in the second city",
    "in rural counties",
    "at regional headquarters",
    "in five border crossings",
]
DETAILS = [
    "for junior officers",
    "for senior commanders",
    "for women officers",
    "for instructors",
    "through a train-the-trainer model",
    "with a mobile training team",
    "with a university partner",
    "with a regional centre of excellence",
    "under a memorandum of understanding",
    "with a twinning arrangement",
    "in two phases",
    "with a pilot and a national rollout",
    "with an annual review",
    "with a baseline survey",
    "with new standard operating procedures",
    "with a maintenance contract",
    "with a legal framework review",
    "with community outreach",
]
TOPICS = [
    "intelligence-led policing",
    "forensic science",
    "port security",
    "airport security",
    "prison health",
    "juvenile justice",
    "witness protection",
    "election security",
    "wildlife trafficking",
    "illegal fishing",
    "money laundering",
    "arms stockpile management",
    "cyber security",
    "military medicine",
    "defence budgeting",
    "procurement integrity",
    "civil-military relations",
    "search and rescue",
    "disaster response",
    "riot control",
    "counterterrorism",
    "counternarcotics",
    "maritime security",
    "human rights",
    "anti-corruption",
    "investigations",
    "border control",
    "cybercrime",
    "peacekeeping readiness",
    "explosive ordnance disposal",
    "gender-based violence",
    "trafficking in persons",
    "public order management",
    "logistics",
    "crisis response",
    "detention standards",
    "case management",
    "strategic planning",
    "budgeting",
    "small arms control",
]
FRAMING = [
    "The project runs for {years} years with the {ministry}.",
    "Activities include workshops, exchanges and a final evaluation.",
    "It builds on a previous phase and the partner's national security strategy.",
    "Delivery is coordinated with other donors through the sector working group.",
    "A sustainment plan covers maintenance and recurrent costs.",
    "Implementation is by a contracted implementing partner under agency oversight.",
    "Results are monitored with indicators agreed with the partner.",
    "The partner contributes facilities and personnel.",
]
MINISTRIES = [
    "ministry of interior",
    "ministry of defense",
    "ministry of justice",
    "national security council",
    "office of the prime minister",
]
FRENCH = [
    (
        "Formation des {unit}",
        "Formation des {unit} en matière de {topic}, avec des ateliers et un suivi.",
    ),
    (
        "Équipement des {unit}",
        "Fourniture de véhicules et d'équipements aux {unit} pour la {topic}.",
    ),
    (
        "Appui institutionnel aux {unit}",
        "Conseillers techniques auprès des {unit} pour la {topic}.",
    ),
]
FRENCH_UNITS = [
    "forces de police",
    "gendarmerie",
    "garde-côtes",
    "services des douanes",
    "tribunaux",
    "forces armées",
    "services pénitentiaires",
]
FRENCH_TOPICS = [
    "lutte contre le terrorisme",
    "sécurité maritime",
    "protection des droits de l'homme",
    "gestion des frontières",
    "lutte contre la corruption",
]
SPANISH = [
    (
        "Capacitación de la {unit}",
        "Capacitación de la {unit} en {topic}, con talleres y seguimiento.",
    ),
    ("Equipamiento para la {unit}", "Entrega de vehículos y equipos a la {unit} para {topic}."),
]
SPANISH_UNITS = ["policía nacional", "guardia costera", "fiscalía", "fuerzas armadas", "aduana"]
SPANISH_TOPICS = [
    "la lucha contra el narcotráfico",
    "la seguridad marítima",
    "los derechos humanos",
    "el control fronterizo",
]

# Paraphrase table, written independently of data/lexicon.csv.
PARAPHRASES = {
    "Train": "Provide instruction to",
    "training courses": "instruction programmes",
    "Equip": "Provide equipment to",
    "delivery of": "provision of",
    "vehicles": "trucks",
    "Advise": "Provide technical advice to",
    "embedded advisers": "resident experts",
    "supporting": "assisting",
    "Mentor": "Coach",
    "mentoring": "coaching",
    "Reform": "Restructure",
    "support to restructure": "assistance to reorganise",
    "construction of": "building of",
    "training centre": "school",
    "national police": "police service",
    "border guards": "border security personnel",
    "coast guard": "maritime security forces",
    "armed forces": "military",
    "courts": "judiciary",
    "public prosecutors": "prosecution service",
    "counterterrorism": "countering terrorism",
    "human rights": "human rights standards",
    "investigations": "criminal investigations",
    "improve": "strengthen",
    "workshops": "seminars",
    "project": "programme",
    "equipment": "materiel",
}


@dataclass(frozen=True)
class World:
    """Generated activities, the planted duplicate pairs (original id, copy id), the
    country → regions mapping used, and each activity's template (institution type,
    unit, action, topic, language; ``None`` for real texts): two activities of one
    template in one country at one time are the same effort in this world, the truth
    the threshold is calibrated against."""

    activities: tuple[Activity, ...]
    planted: tuple[tuple[str, str], ...]
    regions_of: Mapping[str, tuple[str, ...]]
    templates: Mapping[str, tuple[str, ...] | None]


def _zipf(n: int, exponent: float) -> list[float]:
    return [1.0 / (k + 1) ** exponent for k in range(n)]


def _paraphrase(text: str, rng: random.Random) -> str:
    sentences = [s.strip() for s in text.split(". ") if s.strip()]
    out = []
    for sentence in sentences:
        for old, new in PARAPHRASES.items():
            if old in sentence and rng.random() < 0.7:
                sentence = sentence.replace(old, new)
        out.append(sentence.rstrip("."))
    if len(out) > 2 and rng.random() < 0.5:
        out.pop(rng.randrange(1, len(out)))
    if rng.random() < 0.5:
        rng.shuffle(out)
    if rng.random() < 0.4:
        out.append(
            rng.choice(FRAMING)
            .format(years=rng.randint(2, 5), ministry=rng.choice(MINISTRIES))
            .rstrip(".")
        )
    return ". ".join(out) + "."


def generate(
    n: int,
    *,
    partners: Sequence[str],
    regions_of: Mapping[str, Sequence[str]] | None = None,
    seed: int = 2013,
    duplicate_share: float = 0.02,
    real_texts: Sequence[tuple[str, str]] = (),
    real_share: float = 0.1,
    exponent: float = 0.8,
) -> World:
    """``n`` activities over ``partners`` (weights falling as ``rank ** -exponent``), of
    which about ``duplicate_share`` are planted duplicates of others."""
    rng = random.Random(seed)  # noqa: S311  (seeded on purpose: the world must be reproducible)
    weights = _zipf(len(partners), exponent)
    regions = {c: tuple(r) for c, r in (regions_of or {}).items()}
    region_codes = sorted({r for rs in regions.values() for r in rs})
    n_dup = int(n * duplicate_share)
    acts: list[Activity] = []
    templates: dict[str, tuple[str, ...] | None] = {}
    for k in range(n - n_dup):
        act, template = _one(k, rng, partners, weights, region_codes, real_texts, real_share)
        acts.append(act)
        templates[act.id] = template
    planted: list[tuple[str, str]] = []
    for d in range(n_dup):
        original = acts[rng.randrange(len(acts))]
        if not original.countries or not original.description:
            original = acts[rng.randrange(len(acts))]
        source = "donor" if original.source == "program" else "program"
        pool = DONORS if source == "donor" else AGENCIES
        owner = rng.choice([o for o in pool if o != original.agency_or_donor])
        shift = timedelta(days=rng.randint(-120, 120))
        copy = replace(
            original,
            id=f"DUP-{d:06d}",
            source=source,
            agency_or_donor=owner,
            start=original.start + shift if original.start else None,
            end=original.end + shift if original.end else None,
            title=_paraphrase(original.title, rng).rstrip("."),
            description=_paraphrase(original.description, rng) if original.description else "",
            institution_type=original.institution_type
            if source == "program" or rng.random() < 0.5
            else None,
        )
        acts.append(copy)
        templates[copy.id] = templates[original.id]
        planted.append((original.id, copy.id))
    return World(tuple(acts), tuple(planted), regions, templates)


def _one(
    k: int,
    rng: random.Random,
    partners: Sequence[str],
    weights: Sequence[float],
    region_codes: Sequence[str],
    real_texts: Sequence[tuple[str, str]],
    real_share: float,
) -> tuple[Activity, tuple[str, ...] | None]:
    source = "program" if rng.random() < 0.3 else "donor"
    owner = rng.choice(AGENCIES if source == "program" else DONORS)
    inst = rng.choice(sorted(UNITS))
    unit = rng.choice(UNITS[inst])
    topic = rng.choice(TOPICS)
    verb, phrase = rng.choice(ACTIONS)
    language = "en"
    template: tuple[str, ...] | None = None
    roll = rng.random()
    if source == "donor" and roll < 0.05:
        language = "fr"
        t, d = rng.choice(FRENCH)
        fu, ft = rng.choice(FRENCH_UNITS), rng.choice(FRENCH_TOPICS)
        title, description = t.format(unit=fu), d.format(unit=fu, topic=ft)
        template = ("fr", t, fu, ft)
    elif source == "donor" and roll < 0.08:
        language = "es"
        t, d = rng.choice(SPANISH)
        su, st = rng.choice(SPANISH_UNITS), rng.choice(SPANISH_TOPICS)
        title, description = t.format(unit=su), d.format(unit=su, topic=st)
        template = ("es", t, su, st)
    elif source == "donor" and real_texts and roll < 0.08 + real_share:
        title, description = real_texts[rng.randrange(len(real_texts))]
    else:
        template = ("en", inst, unit, verb, topic)
        title = f"{verb} {unit}" + (f" in {topic}" if rng.random() < 0.5 else "")
        sentences = [
            phrase.format(unit=unit, topic=topic).capitalize()
            + f" {rng.choice(PLACES)} {rng.choice(DETAILS)}."
        ]
        for _ in range(rng.randint(1, 3)):
            sentences.append(
                rng.choice(FRAMING).format(years=rng.randint(2, 5), ministry=rng.choice(MINISTRIES))
            )
        description = " ".join(sentences)
    if rng.random() < 0.05:
        description = ""
    countries: tuple[str, ...] = (rng.choices(partners, weights)[0],)
    if rng.random() < 0.08:
        countries = tuple(sorted(set(countries) | set(rng.choices(partners, weights, k=2))))
    regions: tuple[str, ...] = ()
    if region_codes and rng.random() < 0.02:
        countries, regions = (), (rng.choice(region_codes),)
    start: date | None = date(2018, 1, 1) + timedelta(days=rng.randint(0, 8 * 365))
    end: date | None = start + timedelta(days=rng.randint(180, 5 * 365)) if start else None
    if rng.random() < 0.03:
        start = end = None
    purpose = rng.choice(("build_capacity", "build_capacity", "engage", "enable"))
    act = Activity(
        id=f"{'PRG' if source == 'program' else 'DON'}-{k:06d}",
        source=source,
        agency_or_donor=owner,
        countries=countries,
        regions=regions,
        start=start,
        end=end,
        institution_type=inst if source == "program" or rng.random() < 0.4 else None,
        purpose=purpose if source == "program" else None,
        dac_code=DAC[inst] if source == "donor" or rng.random() < 0.5 else None,
        title=title,
        description=description,
        language=language if source == "donor" else None,
    )
    return act, template
