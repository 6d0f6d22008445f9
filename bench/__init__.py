"""`make bench`: figures and ratios against baselines timed in the same process."""
