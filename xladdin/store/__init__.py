"""The store: the SQLite history beside the master (历史库.sqlite), its one way in is class Store.

history holds Store, sql every statement it runs (named), schema its tables, version and migrations,
frames the conversions between frames and rows. May import xladdin.domain and xladdin.base.
"""
