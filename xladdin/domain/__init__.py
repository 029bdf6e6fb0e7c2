"""The domain: the campaign's rules, pure Python, no files, no Excel, no clock of its own.

validate (a ledger's rows against the registry and the project's last figures), consolidate (the
summary, increments and flags), rank (the 红黑榜 and its lists), roster (who reported), register
(督办台账), milestones (节点计划 and 作战图), rules (each ledger rule declared once: its code, columns,
thresholds and the expression both checks are rendered from), selfcheck (the ledger template's formulas,
rendered from those rules), settings (设置), worksheet (the worksheet functions' logic), cityresult (the
city's published result). May import xladdin.base only; inside, validate and selfcheck never import each
other and rules imports no other domain module.
"""
