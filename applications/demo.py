"""The source case as demo data: Vidzeme Planning Region's call "Remigrācijas sekmēšanas
pakalpojumi pašvaldībās" (2019), its five applications, two reviewers' scores and the award.

From the news release: the pool (40 000), the cap (10 000), who applied, what each planned,
and the awards 10 000 / 10 000 / 9 800 / 6 200 / 4 000. Not in it, and so illustrative: the
exact dates, Cēsis's request, every activity's cost and period, the scores, the criteria, the
names of people.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from competitions.models import ScoringCriterion

RIGA = ZoneInfo("Europe/Riga")

CALL_SLUG = "remigration-2019"
OPEN_CALL_SLUG = "remigration-open"


def riga(*args) -> datetime:
    return datetime(*args, tzinfo=RIGA)


CALL = {
    "title_lv": "Remigrācijas sekmēšanas pakalpojumi pašvaldībās",
    "title_en": "Remigration promotion services in municipalities",
    "description_lv": (
        "Vides aizsardzības un reģionālās attīstības ministrija (VARAM) sadarbībā ar Vidzemes "
        "plānošanas reģionu aicina pašvaldības plānot remigrācijas sekmēšanas pakalpojumus: "
        "informatīvu materiālu sagatavošanu, sabiedriskās attiecības, vizītes pie diasporas, "
        "seminārus un apmācības, kā arī citas saistītas aktivitātes. Kopējais pieejamais "
        "finansējums ir 40 000 EUR, un saskaņā ar konkursa nolikumu piešķirtais finansējums "
        "vienai pašvaldībai nedrīkst pārsniegt 10 000 EUR.\n\n"
        "Demonstrācijas dati: kopējā summa, maksimālā summa, pašvaldības, to plānotās "
        "aktivitātes un piešķirtās summas atbilst 2019. gada preses relīzei. Precīzi datumi, "
        "Cēsu novada pieprasītā summa, aktivitāšu izmaksas un laiki, vērtēšanas kritēriji, "
        "punkti, personu vārdi un vēstuļu galvenes rekvizīti ir ilustratīvi."
    ),
    "description_en": (
        "The Ministry of Environmental Protection and Regional Development (VARAM) together with "
        "Vidzeme Planning Region invites municipalities to plan remigration promotion services: "
        "preparing informative material, public relations, visits to the diaspora, seminars and "
        "training, and other related activities. The pool is EUR 40 000; by the call's "
        "regulations no municipality may be granted more than EUR 10 000.\n\n"
        "Demo data: the pool, the cap, the municipalities, their planned activities and the "
        "amounts awarded follow the 2019 press release. The exact dates, Cēsis's request, the "
        "activities' costs and periods, the criteria, the scores, people's names and the "
        "details in the letterhead are illustrative."
    ),
    "organiser_lv": "Vidzemes plānošanas reģions",
    "organiser_en": "Vidzeme Planning Region",
    "organiser_details": (
        "Jāņa Poruka iela 8-108, Cēsis, LV-4101 · vidzeme@vidzeme.lv · www.vidzeme.lv"
    ),
    "opens_at": riga(2019, 8, 5, 9, 0),
    "closes_at": riga(2019, 8, 30, 17, 0),
    "results_expected_on": date(2019, 9, 20),
    "pool_amount": Decimal("40000.00"),
    "max_award_amount": Decimal("10000.00"),
    "partial_awards_allowed": True,
    "signatory_name": "Anda Kalniņa",
    "signatory_position": "Vidzemes plānošanas reģiona administrācijas vadītāja",
    "implementation_ends_on": date(2020, 8, 31),
    "interim_report_due_on": date(2020, 2, 28),
    "report_due_on": date(2020, 9, 30),
    "advance_share": Decimal("50.00"),
    "cost_tolerance": Decimal("10.00"),
}

CRITERIA = [
    # name (lv), name (en), description (lv), description (en), max points, weight
    (
        "Aktivitāšu atbilstība remigrācijas sekmēšanas mērķiem",
        "Relevance of the activities to promoting remigration",
        "Cik tieši aktivitātes palīdz cilvēkiem atgriezties un iedzīvoties pašvaldībā.",
        "How directly the activities help people return and settle in the municipality.",
        10,
        Decimal("0.50"),
    ),
    (
        "Izmaksu pamatotība",
        "Justification of costs",
        "Vai izmaksas ir samērīgas ar plānotajiem rezultātiem.",
        "Whether the costs are in proportion to the planned results.",
        10,
        Decimal("0.30"),
    ),
    (
        "Ilgtspēja un sadarbība",
        "Sustainability and cooperation",
        "Vai rezultāti būs izmantojami arī pēc projekta un vai tajā iesaistīti partneri.",
        "Whether the results will serve after the project and partners take part in it.",
        5,
        Decimal("0.20"),
    ),
]


def criteria(call) -> list[ScoringCriterion]:
    """The demo's scoring criteria for ``call``, in their order, not saved yet."""
    fields = ("name_lv", "name_en", "description_lv", "description_en", "max_points", "weight")
    return [
        ScoringCriterion(competition=call, order=order, **dict(zip(fields, row, strict=True)))
        for order, row in enumerate(CRITERIA, start=1)
    ]


@dataclass(frozen=True)
class DemoActivity:
    category: str
    title: str
    description: str
    starts_on: date
    ends_on: date
    target_group: str
    expected_result: str
    cost: Decimal


@dataclass(frozen=True)
class DemoApplication:
    municipality: str  # slug
    username: str
    contact_name: str
    goals: str
    target_groups: str
    summary: str
    submitted_at: datetime
    activities: list[DemoActivity]
    points: list[tuple[int, int, int]]  # per reviewer, per criterion

    @property
    def requested(self) -> Decimal:
        return sum((activity.cost for activity in self.activities), Decimal("0.00"))


def _activity(category, title, description, start, end, target, result, cost):
    return DemoActivity(
        category=category,
        title=title,
        description=description,
        starts_on=date(*start),
        ends_on=date(*end),
        target_group=target,
        expected_result=result,
        cost=Decimal(cost),
    )


APPLICATIONS = [
    DemoApplication(
        municipality="smiltenes-novads",
        username="smiltene",
        contact_name="Ilze Bērziņa",
        goals=(
            "Turpināt pagājušajā gadā sākto darbu: parādīt citu remigrantu pieredzi, palīdzēt "
            "remigrantu ģimeņu bērniem apgūt latviešu valodu un aicināt tautiešus mājās uz "
            "Smiltenes 100 gadu jubileju."
        ),
        target_groups="Tautieši ārzemēs, remigrantu ģimenes un bērni, Smiltenes novada izglītības iestādes.",
        summary="Video stāsti, mācību materiāli valodas apguvei, tīklošanās pasākums un uzruna tautiešiem jubilejas gadā.",
        submitted_at=riga(2019, 8, 26, 11, 42),
        activities=[
            _activity(
                "informative-material",
                "Informatīvā brošūra remigrantiem",
                "Brošūra par dzīvi Smiltenes novadā: mājokļi, skolas, bērnudārzi, atbalsts uzņēmējdarbībai.",
                (2019, 10, 1),
                (2020, 2, 28),
                "Remigranti un tautieši ārzemēs",
                "Brošūra latviešu un angļu valodā, 1 000 eksemplāru un elektroniska versija",
                "1800.00",
            ),
            _activity(
                "public-relations",
                "Video stāsti par remigrantu pieredzi",
                "Pieci īsi video stāsti par cilvēkiem, kuri atgriezušies Smiltenē.",
                (2019, 10, 1),
                (2020, 5, 31),
                "Tautieši ārzemēs",
                "Pieci video stāsti sociālajos tīklos un pašvaldības vietnē",
                "3200.00",
            ),
            _activity(
                "other",
                "Mācību materiāli latviešu valodas apguvei remigrantu bērniem",
                "Mācību materiālu iegāde un izstrāde Smiltenes novada izglītības iestādēm.",
                (2019, 9, 16),
                (2020, 6, 30),
                "Remigrantu ģimeņu bērni",
                "Mācību materiālu komplekti piecām izglītības iestādēm",
                "2500.00",
            ),
            _activity(
                "other",
                "Tīklošanās pasākums remigrantiem",
                "Pasākums, kurā remigranti satiekas savā starpā un ar pašvaldības speciālistiem.",
                (2020, 3, 1),
                (2020, 3, 31),
                "Remigranti un pašvaldības speciālisti",
                "Viens pasākums ar vismaz 40 dalībniekiem",
                "1000.00",
            ),
            _activity(
                "public-relations",
                "Uzruna tautiešiem Smiltenes 100 gadu jubilejā",
                "Uzruna dažādās platformās, aicinot tautiešus atgriezties pie ģimenēm un kopā svinēt pilsētas simtgadi.",
                (2020, 1, 1),
                (2020, 8, 31),
                "Tautieši ārzemēs un viņu ģimenes",
                "Kampaņa trijās platformās",
                "1500.00",
            ),
        ],
        points=[(10, 9, 5), (9, 9, 5)],
    ),
    DemoApplication(
        municipality="valkas-novads",
        username="valka",
        contact_name="Jānis Ozols",
        goals=(
            "Palīdzēt remigrantu ģimenēm iedzīvoties: latviešu valoda dzīvesbiedriem ārzemniekiem, "
            "kontakti ar pašvaldību un kopīga nometne bērniem."
        ),
        target_groups="Remigranti, viņu dzīvesbiedri ārzemnieki, diasporas un vietējie bērni un jaunieši.",
        summary="Valodas mentori, divi pieredzes pasākumi un nometne diasporas, remigrantu un vietējiem bērniem.",
        submitted_at=riga(2019, 8, 28, 15, 5),
        activities=[
            _activity(
                "informative-material",
                "Informatīvā brošūra par dzīvi Valkas novadā",
                "Atbildes uz remigrantu biežākajiem jautājumiem par dzīvošanu, skolām un darbu.",
                (2019, 10, 1),
                (2020, 1, 31),
                "Remigranti",
                "Brošūra 800 eksemplāros un elektroniski",
                "1600.00",
            ),
            _activity(
                "seminars-training",
                "Latviešu valodas mentori remigrantu dzīvesbiedriem",
                "Mentori, kas māca latviešu valodu latviešu remigrantu dzīvesbiedriem ārzemniekiem.",
                (2019, 10, 1),
                (2020, 6, 30),
                "Remigrantu dzīvesbiedri ārzemnieki",
                "Vismaz 10 dalībnieki apgūst valodu sarunvalodas līmenī",
                "3400.00",
            ),
            _activity(
                "other",
                "Divi pieredzes pasākumi remigrantiem",
                "Pasākumi, kuros remigranti dalās pieredzē un veido kontaktus ar pašvaldības cilvēkiem.",
                (2019, 11, 1),
                (2020, 5, 31),
                "Remigranti un pašvaldības darbinieki",
                "Divi pasākumi ar vismaz 30 dalībniekiem katrā",
                "1800.00",
            ),
            _activity(
                "other",
                "Nometne diasporas, remigrantu un vietējiem bērniem",
                "Vasaras nometne diasporas un remigrantu bērniem kopā ar Valkas novada vienaudžiem.",
                (2020, 7, 1),
                (2020, 7, 31),
                "Bērni un jaunieši",
                "Nometne 40 dalībniekiem",
                "3200.00",
            ),
        ],
        points=[(9, 9, 4), (9, 8, 5)],
    ),
    DemoApplication(
        municipality="valmieras-pilseta",
        username="valmiera",
        contact_name="Līga Kalniņa",
        goals=(
            "Nomainīt novecojušo priekšstatu par Valmieru: rādīt pilsētu šodien un celt "
            "pašvaldības speciālistu kompetenci remigrācijas jautājumos."
        ),
        target_groups="Latvieši ārzemēs, pašvaldības speciālisti.",
        summary="Īsi video sociālajiem tīkliem, divi semināri speciālistiem, vizītes pie diasporas un brošūra.",
        submitted_at=riga(2019, 8, 29, 9, 30),
        activities=[
            _activity(
                "public-relations",
                "Īsi video par Valmieru šodien",
                "Sociālo tīklu formātam piemēroti video par pilsētvidi, infrastruktūru, izglītību, dzīvojamo fondu, darbu un kultūru.",
                (2019, 10, 1),
                (2020, 6, 30),
                "Latvieši ārzemēs",
                "Desmit īsi video sociālajos tīklos",
                "4300.00",
            ),
            _activity(
                "seminars-training",
                "Divi semināri pašvaldības speciālistiem",
                "Semināri par remigrācijas jautājumiem, arī iekļaujošo izglītību.",
                (2019, 11, 1),
                (2020, 4, 30),
                "Pašvaldības speciālisti",
                "Divi semināri, vismaz 25 dalībnieki katrā",
                "2200.00",
            ),
            _activity(
                "diaspora-visits",
                "Vizītes pie diasporas",
                "Tikšanās ar latviešiem ārzemēs, stāstot par Valmieru šodien.",
                (2019, 11, 1),
                (2020, 5, 31),
                "Diaspora",
                "Divas vizītes",
                "2100.00",
            ),
            _activity(
                "informative-material",
                "Informatīvā brošūra remigrantiem",
                "Brošūra ar atbildēm uz biežākajiem jautājumiem, atgriežoties Valmierā.",
                (2019, 10, 1),
                (2020, 2, 29),
                "Remigranti",
                "Brošūra elektroniski un 500 eksemplāros",
                "1200.00",
            ),
        ],
        points=[(8, 8, 4), (9, 7, 4)],
    ),
    DemoApplication(
        municipality="gulbenes-novads",
        username="gulbene",
        contact_name="Māris Liepiņš",
        goals="Veicināt izpratni par remigrantu dzīvi reģionos, stāstot spilgtākos stāstus.",
        target_groups="Remigranti, tautieši ārzemēs, speciālisti un skolotāji.",
        summary="Remigrantu stāstu sērija, video stāsti un podkāsti, apmācības un vizīte pie diasporas.",
        submitted_at=riga(2019, 8, 27, 13, 15),
        activities=[
            _activity(
                "public-relations",
                "Spilgtāko remigrantu stāstu sērija",
                "Stāsti drukātā un video formātā par izaicinājumiem, iespējām, problēmām un risinājumiem.",
                (2019, 10, 1),
                (2020, 6, 30),
                "Tautieši ārzemēs",
                "Sešu stāstu sērija drukātā un video formātā",
                "2400.00",
            ),
            _activity(
                "public-relations",
                "Video stāsti un podkāsti: Gulbenes novads Eiropas brīvprātīgo acīm",
                "Īsi video stāsti vai podkāsti, ko veido Eiropas brīvprātīgie.",
                (2019, 11, 1),
                (2020, 5, 31),
                "Tautieši ārzemēs",
                "Četri video vai podkāsti",
                "1300.00",
            ),
            _activity(
                "seminars-training",
                "Apmācības speciālistiem un skolotājiem",
                "Apmācības par darbu ar remigrantu ģimenēm un bērniem.",
                (2020, 1, 1),
                (2020, 4, 30),
                "Pašvaldības speciālisti un skolotāji",
                "Divas apmācību dienas, 30 dalībnieki",
                "1000.00",
            ),
            _activity(
                "diaspora-visits",
                "Vizīte pie diasporas",
                "Tikšanās ar tautiešiem ārzemēs.",
                (2019, 11, 1),
                (2020, 3, 31),
                "Diaspora",
                "Viena vizīte",
                "1500.00",
            ),
        ],
        points=[(7, 7, 4), (8, 6, 3)],
    ),
    DemoApplication(
        municipality="cesu-novads",
        username="cesis",
        contact_name="Dace Zariņa",
        goals="Uzrunāt tautiešus ārzemēs tieši un dot viņiem praktisku informāciju par atgriešanos Cēsīs.",
        target_groups="Diaspora un remigranti.",
        summary="Vizītes pie diasporas un informatīvā brošūra.",
        submitted_at=riga(2019, 8, 30, 10, 20),
        activities=[
            _activity(
                "diaspora-visits",
                "Vizītes pie diasporas",
                "Pašvaldības pārstāvju vizītes pie latviešu kopienām ārzemēs.",
                (2019, 10, 1),
                (2020, 5, 31),
                "Diaspora",
                "Trīs vizītes",
                "4500.00",
            ),
            _activity(
                "informative-material",
                "Informatīvā brošūra remigrantiem",
                "Brošūra par dzīvi Cēsu novadā.",
                (2019, 10, 1),
                (2020, 2, 29),
                "Remigranti",
                "Brošūra 1 000 eksemplāros",
                "3000.00",
            ),
        ],
        points=[(6, 6, 3), (5, 7, 3)],
    ),
]

#: The awards of the press release, in the order of the ranking.
AWARDS = {
    "smiltenes-novads": Decimal("10000.00"),
    "valkas-novads": Decimal("10000.00"),
    "valmieras-pilseta": Decimal("9800.00"),
    "gulbenes-novads": Decimal("6200.00"),
    "cesu-novads": Decimal("4000.00"),
}

REVIEWED_AT = riga(2019, 9, 9, 14, 0)
ALLOCATED_AT = riga(2019, 9, 16, 10, 0)
DECIDED_AT = riga(2019, 9, 19, 11, 0)
LETTERS_AT = riga(2019, 9, 20, 9, 0)
