"""The pd-audit commands, one module per family; ``audit.cli`` wires them into the click group.

``options`` holds what every family shares: the option groups (declared once, each arriving in
the command as a frozen dataclass), the value types and the renamed spellings; ``console`` is how
a command prints. A command module parses nothing itself and renders nothing itself: it turns its
options into calls of the stages (``audit.assess``, ``audit.crawl``...) and of ``audit.outputs``.
"""
