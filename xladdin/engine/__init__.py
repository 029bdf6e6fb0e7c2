"""The engine: the named operations every door calls, and the one pipeline of a run.

operations (validate, consolidate, rank, notice, run, rollback, history, templates, init), pipeline
(one run from inbox to saved master), presentation (the master's regions: titles, rows, formulas),
rollback (undo a run), intake (the inbox: scan, check, archive, return), reading (one file or many in
worker processes), templates, model (the job result). May import every package below it: notices,
store, workbook, domain, base.
"""
