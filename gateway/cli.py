"""The ``karpov`` command: serve, migrate, bootstrap-admin, export-schema, openapi, catalog."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
from pathlib import Path

from gateway.settings import ConfigError, Settings, load_settings


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        print(f"karpov: configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def _database_url(settings: Settings) -> str:
    from sqlalchemy import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)


def _unreachable(settings: Settings, error: BaseException) -> int:
    """An unusable database is one line naming it and why, not a traceback (issue 11)."""
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    print(
        f"karpov: cannot use the database {_database_url(settings)} (KARPOV_DATABASE_URL): "
        f"{reason}",
        file=sys.stderr,
    )
    return 2


def where_to_go(host: str, port: int, settings: Settings) -> str:
    """What ``serve`` prints before it starts (issue 11)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 (only printed)
    base = f"http://{shown}:{port}"
    lines = [
        f"karpov: serving on {base}",
        f"  start here:      {base}/",
        f"  GraphiQL:        {base}/graphql" + ("" if settings.graphiql else " (disabled)"),
        f"  /v1 reference:   {base}/v1/docs",
        f"  health:          {base}/healthz",
    ]
    return "\n".join(lines)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from persistence.migrate import pending_revisions, upgrade_to_head

    settings = _settings()
    if args.workers > 1 and not settings.redis_url:
        # harden: without Redis each process would keep its own limits, throttles and key
        # cache, silently multiplying every limit by the number of workers.
        print(
            f"karpov: --workers {args.workers} needs KARPOV_REDIS_URL (limits, throttles "
            "and key changes are shared through Redis); set it, or serve one worker",
            file=sys.stderr,
        )
        return 2
    settings.master_key_bytes()  # create var/master.key once, before workers race for it
    try:
        if settings.is_sqlite:
            asyncio.run(upgrade_to_head(settings.database_url))
            pending = []
        else:
            pending = asyncio.run(pending_revisions(settings.database_url))
    except Exception as error:  # the driver's own exceptions: unreachable, refused, no db
        return _unreachable(settings, error)
    if pending:
        print(
            f"karpov: the database has {len(pending)} pending migration(s); "
            "run `karpov migrate` first",
            file=sys.stderr,
        )
        return 2
    print(where_to_go(args.host, args.port, settings), file=sys.stderr, flush=True)
    uvicorn.run(
        "gateway.asgi:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=False,  # client IPs come from KARPOV_TRUSTED_PROXIES only
        server_header=False,
        log_config=None,
        # worker (issue 17): SIGTERM stops accepting, lets in-flight requests finish within
        # the grace, then the lifespan closes the container (jobs, buffers flushed).
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace),
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from persistence.migrate import upgrade_to_head

    settings = _settings()
    try:
        asyncio.run(upgrade_to_head(settings.database_url))
    except Exception as error:
        return _unreachable(settings, error)
    print("karpov: database is at the latest revision")
    return 0


def cmd_bootstrap_admin(args: argparse.Namespace) -> int:
    from gateway.container import build_container
    from persistence.migrate import upgrade_to_head

    settings = _settings()

    async def run() -> int:
        if settings.is_sqlite:
            await upgrade_to_head(settings.database_url)
        container = await build_container(settings)
        try:
            result = await container.services.admin_users.bootstrap_superadmin(args.email)
        finally:
            await container.close()
        if not result.created:
            print(f"karpov: {result.user.email} already exists; nothing changed")
            return 0
        # Printed once, to stderr, never logged: like the original's banner.
        banner = "=" * 64
        print(
            f"{banner}\nSuperadmin created: {result.user.email}\n"
            f"Password (shown once): {result.password}\n{banner}",
            file=sys.stderr,
        )
        return 0

    return asyncio.run(run())


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from domain.keyring import DecryptionFailed
    from gateway.container import build_container

    settings = _settings()

    async def run() -> int:
        container = await build_container(settings)
        try:
            report = await container.services.key_rotation.rotate()
        except DecryptionFailed:
            print(
                "karpov: the stored key versions cannot be opened with this "
                "KARPOV_MASTER_KEY; nothing was changed",
                file=sys.stderr,
            )
            return 2
        finally:
            await container.close()
        print(
            f"karpov: key version {report.version} is current; re-encrypted "
            f"{report.reencrypted} secret(s); {report.remaining} changed meanwhile"
        )
        if report.remaining:
            print("karpov: run `karpov keys rotate` again to finish", file=sys.stderr)
            return 1
        return 0

    return asyncio.run(run())


def cmd_export_schema(args: argparse.Namespace) -> int:
    from schema.build import export_sdl

    _settings()  # like every command: refuse to run on a bad configuration
    if not args.output or args.output == "-":
        sys.stdout.write(export_sdl())
        return 0
    output = Path(args.output)
    output.write_text(export_sdl())
    print(f"karpov: wrote {output}", file=sys.stderr)
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    import yaml

    from rest.openapi import openapi_document
    from rest.routes import ROUTES

    document = openapi_document(ROUTES, server_url=_settings().public_base_url)
    text = (
        yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
        if args.format == "yaml"
        else json.dumps(document, indent=2) + "\n"
    )
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("karpov")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown"


# -- music (issue 13): the local catalog ----------------------------------------------------


async def import_catalog(settings: Settings, directory: Path) -> int:
    """Import ``directory`` into the catalog of ``settings``' database (migrated first on
    SQLite, as ``serve`` does); prints what changed."""
    from domain.clock import SystemClock
    from domain.music.catalog import CatalogImporter
    from integrations.audio.scanner import MutagenScanner
    from persistence.migrate import upgrade_to_head
    from persistence.sql.catalog import SqlCatalogStore
    from persistence.sql.engine import create_engine

    if settings.is_sqlite:
        await upgrade_to_head(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        importer = CatalogImporter(SqlCatalogStore(engine), MutagenScanner(), SystemClock())
        report = await importer.import_directory(directory)
    finally:
        await engine.dispose()
    print(
        f"karpov: imported {directory}: {report.added} new, {report.updated} updated, "
        f"{report.playlists} playlist(s), {len(report.skipped)} skipped"
    )
    for line in report.skipped:
        print(f"  skipped {line}", file=sys.stderr)
    return 0


def cmd_catalog_import(args: argparse.Namespace) -> int:
    settings = _settings()
    directory = Path(args.directory) if args.directory else settings.catalog_dir
    try:
        return asyncio.run(import_catalog(settings, directory))
    except FileNotFoundError as error:
        print(f"karpov: {error}", file=sys.stderr)
        return 2


def cmd_catalog_demo(args: argparse.Namespace) -> int:
    from integrations.audio.synth import write_demo

    settings = _settings()
    directory = Path(args.directory) if args.directory else settings.catalog_dir / "demo"
    written = write_demo(directory)
    print(f"karpov: wrote {len(written)} demo songs (with covers and lyrics) to {directory}")
    return asyncio.run(import_catalog(settings, directory))


# -- worker (issue 17): the worker, doctor and version ---------------------------------------


def cmd_worker(args: argparse.Namespace) -> int:
    from gateway.logs import configure_logging
    from gateway.worker import build_worker
    from persistence.migrate import pending_revisions

    settings = _settings()
    if not settings.redis_url:
        print(
            "karpov: `karpov worker` needs KARPOV_REDIS_URL; without Redis the jobs run "
            "inside `karpov serve`",
            file=sys.stderr,
        )
        return 2
    if asyncio.run(pending_revisions(settings.database_url)):
        print("karpov: the database has pending migrations; run `karpov migrate`", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    settings.master_key_bytes()
    build_worker(settings).run()
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from gateway.doctor import run_doctor

    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"problem: configuration: {error}")
        return 1
    return asyncio.run(run_doctor(settings))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="karpov", description="Karpov API platform (settings: KARPOV_* variables)"
    )
    parser.add_argument("--version", action="version", version=f"karpov {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "worker", help="run the scheduled jobs on arq (needs KARPOV_REDIS_URL)"
    ).set_defaults(func=cmd_worker)
    sub.add_parser(
        "doctor", help="print the effective configuration (secrets masked) and check it"
    ).set_defaults(func=cmd_doctor)

    serve = sub.add_parser("serve", help="serve HTTP (applies migrations on SQLite)")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default %(default)s)"
    )
    serve.add_argument(
        "--port", type=int, default=8080, help="port to listen on (default %(default)s)"
    )
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes (default %(default)s)"
    )
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply pending database migrations").set_defaults(
        func=cmd_migrate
    )

    boot = sub.add_parser("bootstrap-admin", help="create a superadmin (idempotent)")
    boot.add_argument(
        "--email", default="admin@example.com",
        help="the superadmin's e-mail (default %(default)s); the password is printed once",
    )  # fmt: skip
    boot.set_defaults(func=cmd_bootstrap_admin)

    keys = sub.add_parser("keys", help="manage the key ring of secrets at rest")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    keys_sub.add_parser(
        "rotate", help="add a key version and re-encrypt every stored secret under it"
    ).set_defaults(func=cmd_keys_rotate)

    export = sub.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    export.add_argument("--output", help="write it to this file instead of stdout")
    export.set_defaults(func=cmd_export_schema)

    openapi = sub.add_parser("openapi", help="print the /v1 OpenAPI document")
    openapi.add_argument(
        "--format", choices=["json", "yaml"], default="json", help="default %(default)s"
    )
    openapi.add_argument("--output", help="write it to this file instead of stdout")
    openapi.set_defaults(func=cmd_openapi)

    # music (issue 13)
    catalog = sub.add_parser("catalog", help="the local music catalog")
    catalog_sub = catalog.add_subparsers(dest="catalog_command", required=True)
    imports = catalog_sub.add_parser(
        "import", help="import a directory of MP3/FLAC/OGG/M4A/WAV files (re-import updates)"
    )
    imports.add_argument("directory", nargs="?", help="default: KARPOV_CATALOG_DIR")
    imports.set_defaults(func=cmd_catalog_import)
    demo = catalog_sub.add_parser("demo", help="write a few short demo songs and import them")
    demo.add_argument("--directory", help="default: KARPOV_CATALOG_DIR/demo")
    demo.set_defaults(func=cmd_catalog_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
