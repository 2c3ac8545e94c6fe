"""Pure deduplication: canonical URLs, copies and same-event clusters.

Two levels of sameness join articles into one :class:`Story`:

* **copies**: the same text syndicated with light edits. MinHash LSH
  (datasketch) over word shingles finds them in near-linear time, and they are
  always joined;
* **same event**: different words from different outlets within
  ``event_window``. Articles become TF-IDF vectors of their title and text, so
  the rare words an event is told with (a crossing's name, a figure, a city)
  weigh most; candidates share one of their strongest words, and two clusters
  join only when their *average* similarity clears the bar, so one loose pair
  cannot chain unrelated stories together.

:mod:`.urls` makes canonical URLs; :mod:`.features` holds what clustering works on
(:class:`Thresholds`, :class:`Features`, :data:`Vector`); :mod:`.signatures` the MinHash
signatures and LSH bands (datasketch, imported on first use); :mod:`.vectors` the TF-IDF
vectors, key terms, similarity and linkage; :mod:`.placing` puts an article in its story
(:func:`place`, :class:`MemoryIndex`, :func:`cluster`); :mod:`.stories` makes a
:class:`Story` of a cluster; :mod:`.labelled` reads labelled examples and scores clusters
against them; :mod:`.followups` links a story to the one an earlier edition sent that it
follows up (:func:`link_earlier`). Every name stays importable from here.
"""

from ..model import Article as Article
from ..model import Source as Source
from ..model import Story as Story
from ..model import TopicMatch as TopicMatch
from .features import Features as Features
from .features import Thresholds as Thresholds
from .features import Vector as Vector
from .followups import link_earlier as link_earlier
from .followups import wanted_terms as wanted_terms
from .labelled import PairScore as PairScore
from .labelled import parse_labelled as parse_labelled
from .labelled import score_pairs as score_pairs
from .placing import MemoryIndex as MemoryIndex
from .placing import Neighbourhood as Neighbourhood
from .placing import UnionFind as UnionFind
from .placing import _story_order as _story_order
from .placing import cluster as cluster
from .placing import place as place
from .signatures import _agreement as _agreement
from .signatures import _bands as _bands
from .signatures import _minhash_template as _minhash_template
from .signatures import _shingles as _shingles
from .signatures import band_keys as band_keys
from .signatures import jaccard as jaccard
from .signatures import minhash as minhash
from .signatures import prepare as prepare
from .stories import _copies as _copies
from .stories import _originals as _originals
from .stories import make_story as make_story
from .stories import story_id as story_id
from .urls import _AMP_PARAMS as _AMP_PARAMS
from .urls import _AMP_SUFFIX as _AMP_SUFFIX
from .urls import TRACKING_PARAMS as TRACKING_PARAMS
from .urls import _without_amp as _without_amp
from .urls import canonical_url as canonical_url
from .vectors import _DAMPED as _DAMPED
from .vectors import _SEQUEL as _SEQUEL
from .vectors import _STOP as _STOP
from .vectors import _penalty as _penalty
from .vectors import _sequel as _sequel
from .vectors import _terms as _terms
from .vectors import add_to as add_to
from .vectors import cosine as cosine
from .vectors import event_similarity as event_similarity
from .vectors import inverse_frequencies as inverse_frequencies
from .vectors import key_terms as key_terms
from .vectors import linkage as linkage
from .vectors import summed as summed
from .vectors import term_counts as term_counts
from .vectors import tfidf as tfidf
