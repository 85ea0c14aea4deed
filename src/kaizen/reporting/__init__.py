"""The pull-request report: sections, data diff, significance, charts."""
