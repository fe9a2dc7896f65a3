"""The Streamlit dashboard on the MongoDB views (`make dashboard`): never imports Spark, Cassandra or the Elhub client."""
