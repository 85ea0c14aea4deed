"""Training-side computation: data, split, features, model, evaluation, metrics."""
