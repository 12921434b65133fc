"""Objects a capped list cannot reach, found by partitioning it with its ``query`` filter.

``GET /users`` cannot be sorted, and its team filter misses the people in no team, so
past the 10,000-record pagination cap some users lie out of reach of every list the
crawler reads. Its ``query`` matches a substring of the name or the e-mail address,
which partitions the list: a query whose total is within the cap can be read whole,
and one over it is narrowed by growing it one character at a time (every e-mail is a
string of such characters and is unique, so some prefix of it is always narrow enough).

The partition is steered by what is already known, to keep requests near the lower
bound: the characters are those the names and e-mails already crawled contain; a
query is read only while it holds people not yet seen (its total minus the known
people it matches); the cheapest such query goes first; a query is narrowed rather
than read when reading it would cost more pages than asking its narrower queries.
It stops the moment the count matches the list's ``total``.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from audit.crawl_specs import CAP, PAGE, ListSpec, pages

if TYPE_CHECKING:
    from audit.crawl import Crawler


@dataclasses.dataclass
class QueryPartition:
    """What a query partition did, for the manifest and the benchmark."""

    queries: int = 0  # distinct queries asked
    requests: int = 0  # pages fetched, first pages included
    found: int = 0  # objects it reached that nothing else had

    def to_json(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class _Known:
    """The searchable text of every object reached so far (casefolded, as ``query`` matches)."""

    fields: Callable[[Any], Iterable[Any]]
    texts: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)

    def add(self, objects: Iterable[Any]) -> None:
        for obj in objects:
            if isinstance(obj, dict) and obj.get("id") is not None:
                self.texts[str(obj["id"])] = tuple(str(v).casefold() for v in self.fields(obj) if v)

    def matching(self, query: str) -> int:
        return sum(1 for texts in self.texts.values() if any(query in text for text in texts))

    def alphabet(self) -> list[str]:
        # Whitespace is left out: a server may trim it from a query, and e-mails have none.
        return sorted({char for texts in self.texts.values() for text in texts for char in text
                       if char.isprintable() and not char.isspace()})

    def continuations(self, query: str) -> set[str]:
        """The characters that follow ``query`` in what is known (the likeliest narrower queries)."""
        found = set()
        for texts in self.texts.values():
            for text in texts:
                start = text.find(query)
                while start >= 0:
                    after = start + len(query)
                    if after < len(text):
                        found.add(text[after])
                    start = text.find(query, start + 1)
        return found


def find_by_query(crawler: Crawler, spec: ListSpec, total: int) -> QueryPartition:
    """Reach the objects of ``spec`` still missing (``total`` in all) by query; returns what it cost."""
    assert spec.searchable is not None
    name = spec.collection
    known = _Known(spec.searchable)
    known.add(crawler.writer.existing(name))
    done = QueryPartition()
    before = crawler.count(name)
    alphabet = known.alphabet()
    asked: set[str] = set()
    # (total, query) of queries probed, over one page and not yet read whole
    open_queries: list[tuple[int, str]] = []
    # narrower queries no known object suggests: asked only if the likely ones fall short
    unlikely: list[str] = []

    def missing() -> int:
        return total - crawler.count(name)

    def probe(queries: list[str]) -> None:
        queries = [q for q in queries if q not in asked]
        asked.update(queries)
        done.queries += len(queries)
        done.requests += len(queries)
        memos = crawler.map(lambda q: crawler.page(spec, (("query", q),), _label(q), 0, observe=known.add), queries)
        for query, memo in zip(queries, memos):
            if memo.get("more"):
                size = memo.get("total")
                heapq.heappush(open_queries, (size if isinstance(size, int) else CAP + 1, query))

    def unseen(query: str, size: int) -> int:
        return size - known.matching(query)

    probe(alphabet)
    while missing() > 0:
        while open_queries and unseen(open_queries[0][1], open_queries[0][0]) <= 0:
            heapq.heappop(open_queries)  # everyone it holds is known already
        if not open_queries:
            if not unlikely:
                break
            probe(unlikely)
            unlikely = []
            continue
        size, query = heapq.heappop(open_queries)
        likely = sorted(known.continuations(query))
        if size > CAP or pages(size) - 1 > len(likely):
            unlikely += [query + char for char in alphabet if char not in likely]
            probe([query + char for char in likely])
            continue
        offsets = range(PAGE, pages(size) * PAGE, PAGE)
        done.requests += len(offsets)
        crawler.map(lambda offset, q=query: crawler.page(spec, (("query", q),), _label(q), offset,
                                                         observe=known.add), offsets)
    done.found = crawler.count(name) - before
    return done


def _label(query: str) -> str:
    # Journal keys of the query's pages (the query itself: short, and stable across a resume).
    return "query-" + query
