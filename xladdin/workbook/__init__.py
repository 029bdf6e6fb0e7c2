"""Everything that touches a workbook file: reading submissions, building and writing the master."""
