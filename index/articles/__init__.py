"""Reading articles: files, cleaning, sentences, feeds."""
