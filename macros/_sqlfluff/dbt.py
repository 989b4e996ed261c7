"""Stand-ins for dbt's cross-database macros (`dbt.type_string()`, `dbt.hash()`, ...).

sqlfluff's jinja templater lints without a warehouse or a dbt manifest, so it cannot
call dbt's own macros; `.sqlfluff` loads this module as the `dbt` namespace instead. Each
function returns SQL of the shape the real macro renders on DuckDB, which is all the
linter needs. dbt itself ignores this folder (it only parses .sql files).
"""


def type_string():
    return "varchar"


def type_int():
    return "integer"


def type_bigint():
    return "bigint"


def type_numeric():
    return "numeric(28, 6)"


def type_timestamp():
    return "timestamp"


def hash(field):
    return f"md5(cast({field} as varchar))"


def concat(fields):
    return f"concat({', '.join(fields)})"


def safe_cast(field, type_):
    return f"try_cast({field} as {type_})"


def date_trunc(datepart, date):
    return f"date_trunc('{datepart}', {date})"


def dateadd(datepart, interval, from_date_or_timestamp):
    return f"date_add({from_date_or_timestamp}, interval ({interval}) {datepart})"


def datediff(first_date, second_date, datepart):
    return f"date_diff('{datepart}', {first_date}, {second_date})"
