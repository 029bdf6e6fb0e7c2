"""The base: vocabulary and plumbing that every layer shares and that holds no rule of the campaign.

errors (the roots of the exit codes), schema (labels, field keys, A1 arithmetic), issues (the issue
codes, an enum and its catalogue), values (numbers and dates as staff type them), text (characters),
located (a value and the cell it came from), fs (the file system at the edges, OS errors in Chinese),
faults (named crash points for tests). Imports nothing from xladdin outside this package.
"""
