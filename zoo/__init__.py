"""The zoo's recipes (`*.toml`) and what each reached (`results.csv`), as package data.

The files live at the repository's top level (`zoo/`) and ship inside the wheel as
`keras_gans.zoo`; `keras_gans.recipes` is the registry that reads them.
"""
