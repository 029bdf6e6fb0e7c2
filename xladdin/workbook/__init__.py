"""Everything that touches a workbook file: reading submissions (reader, guard, xmlscan), building the
master and the ledger template (build, layout, ledger, shipped), patching the master in place
(package, sheetxml, bookparts, hyperlinks, repairs, room), the open workbook (live), the 退回 copy
(returned), exports, the run lock and the VBA project (vba/). May import xladdin.domain and xladdin.base.
"""
