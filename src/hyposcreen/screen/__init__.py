"""screen stage of the hyposcreen pipeline."""
