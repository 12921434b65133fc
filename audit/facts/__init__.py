"""Facts: the pandas tables derived from a snapshot, and the pure maths behind them.

``intervals`` owns half-open UTC interval sets (union, intersection, difference,
measure); ``coverage`` owns what on-call schedules, escalation levels and support
hours mean as interval sets (coverage, gaps, per-person load). Neither reads a
snapshot: the table builders beside them do, and hand them plain data.
"""
