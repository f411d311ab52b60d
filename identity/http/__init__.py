"""HTTP adapter of the identity package and the service-wide middleware."""
