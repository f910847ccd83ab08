"""Chroma HNSW settings of the chunk collections (chosen with benchmarks/hnsw_recall.py)."""

EF_SEARCH = 800  # candidates HNSW explores per query; Chroma applies it when it loads the index
EF_CONSTRUCTION = 200  # build effort, fixed when a generation's collection is created
MAX_NEIGHBORS = 32  # links per node, fixed at creation
# An index with projected vectors (ingest --dense-dims) asks HNSW for this many times the
# candidates and rescores them with the full vectors (benchmarks/hnsw_recall.py --dims).
PROJECTED_OVERSAMPLE = 2
