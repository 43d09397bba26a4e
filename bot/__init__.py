"""Our Rasa extensions: NLU components, channels and web pages."""
