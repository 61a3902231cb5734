"""Market data: recorded candle series, the replay feed and the live feed, shared by every user."""
