"""Dashboard views: MongoDB collections summarizing a dataset, computed per partition from its stored rows."""
