"""The project's errors: one base class, a few kinds, each message saying what to do."""


class BotError(Exception):
    """Base of every error the bot raises on purpose; its message is shown to the user."""


class InputFileError(BotError):
    """An input file cannot be read as a page or a corpus (empty, binary, not UTF-8)."""


class PageFormatError(InputFileError):
    """A text file is not a doctor Q&A page in the expected format."""


class IndexMismatchError(BotError):
    """The index on disk was built differently (another embedder or format) and must be rebuilt."""


class IndexMissingError(BotError):
    """There is no index yet."""


class StoreUnavailableError(BotError):
    """The vector store (e.g. a Chroma server) cannot be reached right now."""


class SettingsError(BotError):
    """A setting has a value that cannot be used."""


class InputChangedError(BotError):
    """An input file changed while an ingest was reading it; the index was left as it was."""
