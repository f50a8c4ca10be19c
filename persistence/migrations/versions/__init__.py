# A package only so that the revision files are installed with the wheel; Alembic skips it.
