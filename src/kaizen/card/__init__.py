"""The model card: built from what the pipeline measured, validated against its JSON schema."""
