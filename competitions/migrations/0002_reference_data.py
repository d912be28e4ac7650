"""The 26 municipalities of the Vidzeme planning region (2009-2021 boundaries) and the five
activity categories of the remigration calls: reference data every database needs."""

from django.db import migrations

MUNICIPALITIES = [
    ("Alūksnes novads", "aluksnes-novads"),
    ("Amatas novads", "amatas-novads"),
    ("Apes novads", "apes-novads"),
    ("Beverīnas novads", "beverinas-novads"),
    ("Burtnieku novads", "burtnieku-novads"),
    ("Cesvaines novads", "cesvaines-novads"),
    ("Cēsu novads", "cesu-novads"),
    ("Ērgļu novads", "erglu-novads"),
    ("Gulbenes novads", "gulbenes-novads"),
    ("Jaunpiebalgas novads", "jaunpiebalgas-novads"),
    ("Kocēnu novads", "kocenu-novads"),
    ("Līgatnes novads", "ligatnes-novads"),
    ("Lubānas novads", "lubanas-novads"),
    ("Madonas novads", "madonas-novads"),
    ("Mazsalacas novads", "mazsalacas-novads"),
    ("Naukšēnu novads", "nauksenu-novads"),
    ("Pārgaujas novads", "pargaujas-novads"),
    ("Priekuļu novads", "priekulu-novads"),
    ("Raunas novads", "raunas-novads"),
    ("Rūjienas novads", "rujienas-novads"),
    ("Smiltenes novads", "smiltenes-novads"),
    ("Strenču novads", "strencu-novads"),
    ("Valkas novads", "valkas-novads"),
    ("Varakļānu novads", "varaklanu-novads"),
    ("Vecpiebalgas novads", "vecpiebalgas-novads"),
    ("Valmieras pilsēta", "valmieras-pilseta"),
]

CATEGORIES = [
    ("informative-material", "Informatīvo materiālu sagatavošana", "Preparing informative material"),
    ("public-relations", "Sabiedriskās attiecības", "Public relations"),
    ("diaspora-visits", "Vizītes pie diasporas", "Visits to the diaspora"),
    ("seminars-training", "Semināri un apmācības", "Seminars and training"),
    ("other", "Citas saistītas aktivitātes", "Other related activities"),
]


def load(apps, schema_editor):
    Municipality = apps.get_model("competitions", "Municipality")
    ActivityCategory = apps.get_model("competitions", "ActivityCategory")
    for name, slug in MUNICIPALITIES:
        Municipality.objects.update_or_create(slug=slug, defaults={"name": name})
    for order, (code, name_lv, name_en) in enumerate(CATEGORIES, start=1):
        ActivityCategory.objects.update_or_create(
            code=code, defaults={"name_lv": name_lv, "name_en": name_en, "order": order}
        )


def unload(apps, schema_editor):
    apps.get_model("competitions", "Municipality").objects.filter(
        slug__in=[slug for _name, slug in MUNICIPALITIES]
    ).delete()
    apps.get_model("competitions", "ActivityCategory").objects.filter(
        code__in=[code for code, _lv, _en in CATEGORIES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("competitions", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
