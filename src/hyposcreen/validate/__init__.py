"""validate stage of the hyposcreen pipeline."""
