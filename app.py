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
    """Sync the sources, warm the models while the app is built, listen."""
    import logging

    import uvicorn

    from bot.chain import Bot
    from bot.settings import Settings
    from vectorstore.errors import BotError
    from webapp.startup import WarmingBot, sync_sources

    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    try:
        settings = Settings.load(host=args.host, port=args.port, data_dir=args.data_dir)
        index = sync_sources(settings)
        bot = WarmingBot(Bot(settings, index=index))
        bot.warm_now()  # beside the app's build (Gradio's import is most of it), not after it
        from webapp.server import build_app

        app = build_app(bot)
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
