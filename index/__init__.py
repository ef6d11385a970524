"""Everything about articles: reading, storing, searching and summarising them.

This module is the public face the bot (and anyone else) uses: the serving index that answers
questions and reloads, what an answer is made of, the daily summary, readers' votes, the
database, and the errors and reports they raise or return. The subpackages behind it change
together by what they do:

- ``articles``: reading article files and feeds, cleaning, sentences;
- ``storage``: the tables, the SQL, index versions, vectors (FAISS), BM25, the build;
- ``encoders``: the e5-small network as embedder and cross-encoder;
- ``search``: reading a question, features, the ranker, the searcher, sources;
- ``lab``: evaluation and fitting (``python -m index eval | tune``), apart from what serves.
"""

from index.articles.feeds import FeedFailure, FeedResult
from index.articles.reports import ReadWarning, SkippedFile, SkipReason, WarningKind
from index.search.answers import Answer, Quote
from index.search.ranker import RankerFileError
from index.search.searcher import Searcher
from index.search.sources import (
    ArticleSource,
    SourcedAnswer,
    answer_with_sources,
    by_article,
    shown_file,
)
from index.search.timewords import asks_for_todays_news
from index.serving import ReloadResult, ReloadTurn, ServingIndex
from index.storage.planning import BuildReport
from index.storage.stats import IndexStats, index_stats
from index.storage.store import (
    UNWRITABLE,
    DatabaseUnavailableError,
    create_schema,
    database_unavailable,
    make_engine,
)
from index.storage.tables import AwareDateTime, utc_now
from index.storage.vectors import IndexMismatchError
from index.storage.versions import BuildBusyError, LockHolder
from index.storage.votes import FeedbackFigures, FeedbackStore, Vote, VoteOutcome
from index.summary import Summarizer, Summary, day_window, last_24_hours

__all__ = [
    "UNWRITABLE",
    "Answer",
    "ArticleSource",
    "AwareDateTime",
    "BuildBusyError",
    "BuildReport",
    "DatabaseUnavailableError",
    "FeedFailure",
    "FeedResult",
    "FeedbackFigures",
    "FeedbackStore",
    "IndexMismatchError",
    "IndexStats",
    "LockHolder",
    "Quote",
    "RankerFileError",
    "ReadWarning",
    "ReloadResult",
    "ReloadTurn",
    "Searcher",
    "ServingIndex",
    "SkipReason",
    "SkippedFile",
    "SourcedAnswer",
    "Summarizer",
    "Summary",
    "Vote",
    "VoteOutcome",
    "WarningKind",
    "answer_with_sources",
    "asks_for_todays_news",
    "by_article",
    "create_schema",
    "database_unavailable",
    "day_window",
    "index_stats",
    "last_24_hours",
    "make_engine",
    "shown_file",
    "utc_now",
]
