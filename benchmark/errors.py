"""Errors that carry a user-facing message (printed without a traceback by the CLI)."""


class BenchmarkError(Exception):
    """Anything the user can fix: bad input file, unknown name, missing mirror ..."""


class InputError(BenchmarkError):
    """A malformed or missing input file; the message names the file (and line where it applies)."""

    def __init__(self, path, message: str, line: int | None = None):
        where = f"{path}" + (f", line {line}" if line is not None else "")
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line
