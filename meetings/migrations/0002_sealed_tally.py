"""Secret tallies: clear per-option counts (SecretTally) become one sealed row per vote (SealedTally).

The clear rows' old versions showed what each ballot's transaction added; see
meetings/sealing.py. Votes not yet closed get their counts sealed under the SECRET_KEY
this runs with (so run it with the deployment's key); closed votes carry their counts
in `Vote.result` and need no tally. Reversible: going back unseals into clear rows.
"""

import django.db.models.deletion
from django.db import migrations, models

from meetings import sealing


def _option_keys(VoteOption, db: str, vote_id: int) -> list[str]:
    # The order the sealed counts are packed in, as meetings/actions.py reads them.
    options = VoteOption.objects.using(db).filter(vote_id=vote_id).order_by("position")
    return list(options.values_list("key", flat=True))


def seal_open_tallies(apps, schema_editor) -> None:
    db = schema_editor.connection.alias
    Vote = apps.get_model("meetings", "Vote")
    VoteOption = apps.get_model("meetings", "VoteOption")
    SecretTally = apps.get_model("meetings", "SecretTally")
    SealedTally = apps.get_model("meetings", "SealedTally")
    for vote_id in Vote.objects.using(db).filter(secret=True).exclude(status="closed").values_list("pk", flat=True):
        keys = _option_keys(VoteOption, db, vote_id)
        counts = dict(SecretTally.objects.using(db).filter(vote_id=vote_id).values_list("key", "count"))
        SealedTally.objects.using(db).create(vote_id=vote_id, sealed=sealing.seal_counts(vote_id, keys, counts))


def unseal_tallies(apps, schema_editor) -> None:
    db = schema_editor.connection.alias
    VoteOption = apps.get_model("meetings", "VoteOption")
    SecretTally = apps.get_model("meetings", "SecretTally")
    SealedTally = apps.get_model("meetings", "SealedTally")
    for tally in SealedTally.objects.using(db).all():
        counts = sealing.open_counts(tally.vote_id, _option_keys(VoteOption, db, tally.vote_id), tally.sealed)
        SecretTally.objects.using(db).bulk_create(
            [SecretTally(vote_id=tally.vote_id, key=key, count=count) for key, count in counts.items()])


class Migration(migrations.Migration):
    dependencies = [
        ("meetings", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="SealedTally",
            fields=[
                (
                    "vote",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="sealed_tally",
                        serialize=False,
                        to="meetings.vote",
                    ),
                ),
                ("sealed", models.BinaryField()),
            ],
        ),
        migrations.RunPython(seal_open_tallies, unseal_tallies),
        migrations.DeleteModel(
            name="SecretTally",
        ),
    ]
