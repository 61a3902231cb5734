"""Rule strategies: closed candles in (numpy arrays), entry and exit signals out."""
