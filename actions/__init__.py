"""Custom actions (rasa_sdk): they answer from the knowledge base through its query API, never through SQL."""
