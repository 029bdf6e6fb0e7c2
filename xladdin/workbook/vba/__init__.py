"""The master's VBA project, written from source: cfb (the compound file), ovba (MS-OVBA compression),
project (the project's streams), rewrite (keeping staff modules), modules (our modules and UDF wrappers)."""
