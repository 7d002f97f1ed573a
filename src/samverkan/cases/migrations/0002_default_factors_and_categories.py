"""Default risk and protective factors (research domain-sspf.md §1.2) and information categories
per sector (issue 3). Both lists are data, so a municipality can change them."""

from django.db import migrations

RISK = [
    ("high_absence", "Hög frånvaro eller skolproblematik", "High absence or school difficulties"),
    ("norm_breaking", "Normbrytande beteende", "Norm-breaking behaviour"),
    ("suspected_crime", "Misstänkt eller begången brottslighet", "Suspected or committed crime"),
    (
        "substance_use",
        "Bruk eller försäljning av alkohol eller narkotika",
        "Alcohol or drug use or sale",
    ),
    ("destructive_peers", "Destruktiva kamratrelationer", "Destructive peers"),
    (
        "gang_recruitment",
        "Tecken på rekrytering till kriminella nätverk",
        "Signs of gang recruitment",
    ),
    (
        "aggressive_behaviour",
        "Aggressivt eller plötsligt förändrat beteende",
        "Aggressive or suddenly changed behaviour",
    ),
    ("no_leisure", "Saknar positiv fritidssysselsättning", "No positive leisure activity"),
    ("unsafe_environments", "Vistas i olämpliga miljöer", "Spends time in unsuitable environments"),
]
PROTECTIVE = [
    ("school_engagement", "Engagemang i skolan", "Engaged in school"),
    ("supportive_adult", "Stödjande vuxen i närheten", "A supportive adult nearby"),
    ("leisure_activity", "Meningsfull fritidsaktivitet", "Meaningful leisure activity"),
    ("prosocial_peers", "Prosociala kamrater", "Prosocial peers"),
    ("family_cooperation", "Vårdnadshavare som samarbetar", "Guardians who cooperate"),
]
CATEGORIES = [
    ("school", "attendance", "Närvaro", "Attendance"),
    ("school", "support_and_grades", "Stöd och betyg", "Support and grades"),
    ("school", "wellbeing", "Mående", "Wellbeing"),
    ("social_services", "assessment", "Bedömning", "Assessment"),
    ("social_services", "interventions", "Insatser", "Interventions"),
    ("police", "incidents", "Händelser", "Incidents"),
    ("police", "concerns", "Oro", "Concerns"),
    ("leisure", "participation", "Deltagande", "Participation"),
    ("other", "general", "Allmänt", "General"),
]


def seed(apps, schema_editor):
    Factor = apps.get_model("cases", "Factor")
    Category = apps.get_model("cases", "InformationCategory")
    for kind, rows in (("risk", RISK), ("protective", PROTECTIVE)):
        for order, (code, sv, en) in enumerate(rows):
            Factor.objects.get_or_create(
                code=code, defaults={"kind": kind, "label_sv": sv, "label_en": en, "order": order}
            )
    for order, (sector, code, sv, en) in enumerate(CATEGORIES):
        Category.objects.get_or_create(
            sector=sector, code=code, defaults={"label_sv": sv, "label_en": en, "order": order}
        )
    # Every sector can also write general notes.
    for sector in ("school", "social_services", "police", "leisure"):
        Category.objects.get_or_create(
            sector=sector,
            code="general",
            defaults={"label_sv": "Allmänt", "label_en": "General", "order": 99},
        )


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
