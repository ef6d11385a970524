"""The e5-small network in its two uses: the embedder and the cross-encoder."""
