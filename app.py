"""`python app.py`: sync the index from BOT_SOURCES (default seeds/), then serve the chat, widget and API (uvicorn)."""

from __future__ import annotations

import argparse
import os
import sys

# Before gradio is imported: no analytics calls, no model-hub look-ups (the machine may be offline).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command-line flags; each wins over its environment variable."""
    parser = argparse.ArgumentParser(description="Serve the doctor-answers chat, widget and API.")
    parser.add_argument("--host", help="address to listen on (env BOT_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (env BOT_PORT, default 7860)")
    parser.add_argument("--data-dir", help="folder for the index and state (env BOT_DATA_DIR)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Sync the sources, warm the models, listen; the chat pages are mounted once warm."""
    import logging

    import uvicorn

    from bot.chain import Bot
    from bot.settings import Settings
    from vectorstore.errors import BotError
    from webapp.pages_later import mount_pages_later
    from webapp.service import build_service
    from webapp.startup import WarmingBot, sync_sources

    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    try:
        settings = Settings.load(host=args.host, port=args.port, data_dir=args.data_dir)
        index = sync_sources(settings)
        bot = WarmingBot(Bot(settings, index=index))
        # The API and the widget script now; the chat pages (Gradio: ~5 s to import and build)
        # after the warm-up, mounted while the server already answers over the API; the
        # redactor (for feedback) loads after them.
        app = mount_pages_later(build_service(bot), after=bot.ready)
        bot.redactor_after = app.state.pages.mounted
        bot.warm_now()
    except BotError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    # proxy_headers=False: uvicorn would believe X-Forwarded-For from 127.0.0.1; the app's own
    # TrustedProxies middleware believes it only from BOT_TRUSTED_PROXIES.
    config = uvicorn.Config(app, host=settings.host, port=settings.port, proxy_headers=False)
    server = uvicorn.Server(config)
    print(f"serving on http://{settings.host}:{settings.port}/", flush=True)
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
