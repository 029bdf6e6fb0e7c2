"""The notices: the 督查日报, the weekly 通报 and the 专报, from words to an archived Word file.

compose and leader build the text (pure), typography tidies it, word writes GB/T 9704 documents,
issue numbers (期数) and writes them, archive keeps the 通报存档 in the store. May import xladdin.store,
xladdin.workbook, xladdin.domain and xladdin.base; never the engine or a door.
"""
