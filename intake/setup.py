"""Preparing a data directory and its database (what `sealdrop-intake init` does)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect, make_url

from . import config as config_module
from . import mailboxsalt
from .config import ConfigError, Settings
from .db import make_engine
from .storage import Store, blur_time

HEAD = "head"

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig


def alembic_config(settings: Settings) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig  # not loaded by the serving app

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    return cfg


def migrate(settings: Settings, revision: str = HEAD) -> None:
    from alembic import command

    command.upgrade(alembic_config(settings), revision)


def downgrade(settings: Settings, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(settings), revision)


def init_data_dir(config: Mapping[str, Any] | Settings | None = None) -> Settings:
    """Creates the data directory (0700) and its subdirectories, brings the database to the
    latest schema, makes the mailbox salt if there is none, and cleans up expired uploads and
    orphans. Safe to run again."""
    settings = config_module.load(config)
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(settings.data_dir, 0o700)
    for path in (settings.blob_dir, settings.upload_dir, settings.tmp_dir):
        path.mkdir(mode=0o700, exist_ok=True)
    migrate(settings)
    mailboxsalt.ensure(settings.data_dir)
    database = make_url(settings.database_url)
    if database.get_backend_name() == "sqlite" and database.database:
        os.chmod(database.database, 0o600)  # SQLite creates its -wal and -shm files alike
    store = Store(settings, make_engine(settings.database_url))
    store.cleanup()
    store.engine.dispose()
    salt = settings.data_dir / mailboxsalt.FILE_NAME
    for path in (salt, settings.data_dir, settings.blob_dir, settings.upload_dir, settings.tmp_dir):
        blur_time(path)
    return settings


def check_initialised(store: Store) -> None:
    settings = store.settings
    dirs = (settings.blob_dir, settings.upload_dir, settings.tmp_dir)
    if not all(path.is_dir() for path in dirs) or not inspect(store.engine).has_table(
        "submissions"
    ):
        raise ConfigError(
            f"{settings.data_dir} is not a prepared sealdrop data directory; "
            "run `sealdrop-intake init` first"
        )
