"""Language: the supported languages, language identification, facts in a text."""
