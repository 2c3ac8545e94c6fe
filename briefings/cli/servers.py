"""The two web servers: ``briefings serve`` answers readers' links (unsubscribe,
preferences, PRO view in browser); ``briefings preview`` is the editors' desk.
"""

from __future__ import annotations

from pathlib import Path

import click

from .. import config as configuration
from .. import pipeline
from .console import _fail, err, errors_to_exit


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; another than 127.0.0.1 opens it to the network.",
)
@click.option(
    "--port", default=8080, show_default=True, help="Port to listen on; 0 picks a free one."
)
@click.pass_obj
def serve(config_path: Path, host: str, port: int) -> None:
    """Answer readers' unsubscribe, preferences and PRO view links.

    These are the links of sent emails: unsubscribe (RFC 8058 one-click too), the
    preferences page, and a PRO reader's own "view in browser".
    """
    from .. import deliver, unsubscribe

    with errors_to_exit():
        config = configuration.load(config_path)
        secret = deliver.secret_from_environment()
        store = pipeline.open_store(config)
        matcher = pipeline.topic_matcher(config)
    choices = unsubscribe.Choices(
        briefings=tuple((b.id, b.title, b.tier) for b in config.briefings),
        industries=tuple((t.id, t.title) for t in matcher.topics.values() if t.kind == "industry"),
    )
    try:
        httpd = unsubscribe.server(
            store,
            secret,
            choices=choices,
            private=config.settings.private,
            pages=lambda briefing, edition, reader: pipeline.pro_page(
                config, briefing, edition, reader.industries
            ),
            base_url=config.delivery.base_url,
            host=host,
            port=port,
        )
    except OSError as exc:
        store.close()
        _fail([f"cannot listen on {host}:{port}: {exc.strerror}"], 1)
    err.print(
        "Answering unsubscribe, preferences and PRO view links at "
        f"http://{host}:{httpd.server_address[1]}/"
    )
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
        store.close()


@click.command()
@click.option(
    "--host",
    default=None,
    help="Address to listen on (default 127.0.0.1, and only this computer is answered); "
    "naming one, e.g. 0.0.0.0, opens the desk to other hosts.",
)
@click.option(
    "--port", default=8000, show_default=True, help="Port to listen on; 0 picks a free one."
)
@click.pass_obj
def preview(config_path: Path, host: str | None, port: int) -> None:
    """Open the editors' desk, a local web app.

    See every edition as web page, email and text; drop, pin and reorder stories,
    write the note, rebuild, send a test and approve.
    """
    from .. import desk

    with errors_to_exit():
        configuration.load(config_path)
        store = pipeline.open_store(configuration.load(config_path))
    editors = desk.Desk(config_path=config_path, store=store, open_to_network=host is not None)
    try:
        httpd = desk.server(editors, host=host or "127.0.0.1", port=port)
    except OSError as exc:
        store.close()
        _fail([f"cannot listen on {host or '127.0.0.1'}:{port}: {exc.strerror}"], 1)
    shown = host if host and host not in ("0.0.0.0", "::") else "127.0.0.1"
    err.print(f"The desk is at http://{shown}:{editors.port}/?token={editors.token}")
    err.print("Keep the address to yourself: the token in it lets its holder approve editions.")
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
        store.close()
