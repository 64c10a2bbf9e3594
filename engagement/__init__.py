"""Next-best actions: rules over a patient's state, the suggestion queue and its API."""
