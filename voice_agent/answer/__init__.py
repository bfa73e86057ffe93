"""Answer: retrieval, screening, the decision, grounded sentences, evaluation."""
