"""Everything about articles: reading, sentences, chunks, embeddings, index, retrieval."""
