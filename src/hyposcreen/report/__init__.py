"""report stage of the hyposcreen pipeline."""
