"""The live desk: what is pushed to an agent's screen (the feed and its event stream) and
the reference agent desktop page."""
