"""Storage: the tables, all SQL, index versions, vectors (FAISS), BM25, the build."""
