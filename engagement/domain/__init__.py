"""Next-best actions in plain Python: the engagement fold, the rules and the suggestion
lifecycle. Nothing here imports Django; it is tested without a database."""
