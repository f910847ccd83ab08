"""`python app.py`: sync the index from seeds/ and serve the chat (the UI lands with its issue)."""

from __future__ import annotations

import sys

from bot.cli import main as cli_main

if __name__ == "__main__":
    sys.exit(cli_main(["ingest"]))
