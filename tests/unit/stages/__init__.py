"""Unit tests of the stage runners."""
