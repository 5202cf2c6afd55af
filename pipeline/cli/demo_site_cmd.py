"""``newsflow demo-site``: serve the local demo news network until interrupted."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli.app import app, console


@app.command("demo-site")
def demo_site(
    host: str = typer.Option("127.0.0.1", help="Loopback address to bind (anything else is refused)."),
    port: int = typer.Option(
        8701, min=0, max=65533, help="First port; the outlets use PORT, PORT+1, PORT+2 (0 = free ports)."
    ),
    sources_out: Path | None = typer.Option(
        None, "--sources-out", help="Write a sources.yaml for the outlets as served.", show_default=False
    ),
    articles: int = typer.Option(0, min=0, max=100_000, help="Scale mode: add N generated articles."),
    edition: int = typer.Option(1, min=1, max=2, help="Start in edition 1 ('now') or 2 ('later')."),
    slow_seconds: float = typer.Option(3.0, min=0.0, max=600.0, help="Delay of the deliberately slow page."),
) -> None:
    """Serve the demo news network (three outlets on loopback) until Ctrl-C."""
    import signal
    import threading

    # Ctrl-C/SIGINT stops it even when started from a parent that ignores SIGINT (a script's
    # background job, a test process): an ignored signal is inherited across exec.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    from pipeline.demo_site import DemoNetwork

    network = DemoNetwork(host=host, port=port, articles=articles, edition=edition, slow_seconds=slow_seconds)
    network.start()
    try:
        for outlet in network.outlets:
            console.print(f"{outlet.key:<18} {outlet.name:<22} {outlet.base_url}/", highlight=False)
        if sources_out is not None:
            network.write_sources(sources_out)
            console.print(f"wrote {sources_out}", highlight=False)
        console.print(
            f"edition {network.edition}, {articles} generated articles; Ctrl-C to stop", highlight=False
        )
        threading.Event().wait()
    except KeyboardInterrupt:
        console.print("stopped")
    finally:
        network.stop()
