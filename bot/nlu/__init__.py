"""Custom NLU components for Chinese: text normalisation and a knowledge-base gazetteer."""
