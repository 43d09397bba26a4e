"""The 医保 knowledge base: source documents → reviewed data files → knowledge.db, and its query API."""
