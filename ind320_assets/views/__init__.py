"""Dashboard views: MongoDB collections derived from the base collections, per partition."""
