"""sqlfluff stand-in for dbt's ``adapter`` object (dbt never reads this folder).

Models only call ``adapter.dispatch`` inside ``config(...)``, which the templater drops,
so the dispatched macro's value never reaches the linted SQL: any string will do.
"""


def dispatch(macro_name, macro_namespace=None):
    return lambda *args, **kwargs: ""
