"""Output formats: one module per format (``audit.outputs.score_writers`` holds the ``score`` command's).

Nothing is imported here: the command line reaches ``audit.outputs.destination`` before it has judged
anything, and a format's module (with pandas behind it) is loaded only when that format is written.
"""
