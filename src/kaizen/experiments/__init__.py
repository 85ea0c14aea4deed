"""Experiments: dvc views and selection, the MLflow mirror."""
