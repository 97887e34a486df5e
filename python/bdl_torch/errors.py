"""Errors that are the user's to fix: the command line prints the message and exits 1."""


class InputError(Exception):
    """Bad input (a file, a field, a flag); the message names it."""


class CheckpointError(InputError):
    """A checkpoint file that is missing, damaged or foreign; the message names the file and its first problem."""


EXIT_INPUT = 1
