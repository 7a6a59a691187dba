import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("complaints", "0022_regulatory_profiles")]

    operations = [
        migrations.AlterField(
            model_name="complaint",
            name="profile",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="complaints",
                to="complaints.regulatoryprofile",
                db_index=False,
            ),
        ),
    ]
