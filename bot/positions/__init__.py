"""Actor positions: who says what on a topic, which named stance it is, and when it shifts."""
