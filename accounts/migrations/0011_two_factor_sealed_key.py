"""两步验证: the app's key is kept sealed under SECRET_KEY (accounts/two_factor.py), not
as text. Every key is sealed under the SECRET_KEY this migration runs with: run it with
the deployment's environment loaded (docs/deploy.md)."""

from django.db import migrations, models

from accounts.two_factor import KEY_PURPOSE, seal_key
from server import sealing


def seal_keys(apps, schema_editor) -> None:
    TwoFactor = apps.get_model("accounts", "TwoFactor")
    db = schema_editor.connection.alias
    for row in TwoFactor.objects.using(db).only("pk", "secret"):
        TwoFactor.objects.using(db).filter(pk=row.pk).update(sealed_key=seal_key(row.pk, row.secret))


def open_keys(apps, schema_editor) -> None:
    TwoFactor = apps.get_model("accounts", "TwoFactor")
    db = schema_editor.connection.alias
    for row in TwoFactor.objects.using(db).only("pk", "sealed_key"):
        key, _current = sealing.open_sealed(KEY_PURPOSE, row.sealed_key, str(row.pk).encode())
        TwoFactor.objects.using(db).filter(pk=row.pk).update(secret=key.decode())


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0010_passkeys"),
    ]

    operations = [
        migrations.AddField(
            model_name="twofactor",
            name="sealed_key",
            field=models.BinaryField(default=b"", editable=False),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="twofactor",
            name="secret",
            field=models.CharField(default="", max_length=64),
        ),
        migrations.RunPython(seal_keys, open_keys),
        migrations.RemoveField(
            model_name="twofactor",
            name="secret",
        ),
    ]
