"""Does compiled SQL run on Redshift or Athena? Syntax by sqlglot, functions by name.

sqlglot parses leniently and would happily transpile ``arg_max`` into ``max_by``, but
the warehouse runs the SQL exactly as dbt compiled it. So the check has two parts:

1. the SQL must parse in the target's sqlglot dialect (``QUALIFY`` fails on Athena)
   and use none of the syntax sqlglot accepts everywhere but the target rejects
   (``FORBIDDEN_TOKENS``: Trino has no ``::`` cast);
2. every function called, by the name written in the SQL, must be one the target has.
   The lists below are allow-lists from the AWS references (Redshift: "SQL functions
   reference"; Athena engine v3: Trino's functions). A name that is missing fails with
   a hint, so a new function is a deliberate, reviewed addition, never an accident.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

_COMMON = """
abs avg case cast ceil ceiling coalesce concat count cume_dist dense_rank exp first_value
floor greatest lag last_value lead least length ln lower lpad ltrim max md5 min mod
nullif nth_value ntile percent_rank power rank replace round row_number rpad rtrim sign
split_part sqrt stddev stddev_pop stddev_samp substring sum trim upper var_pop var_samp
variance
"""

TARGET_FUNCTIONS: dict[str, frozenset[str]] = {
    "redshift": frozenset(
        (
            _COMMON
            + """
            add_months bool_and bool_or btrim char_length charindex checksum convert
            convert_timezone current_date current_schema date_part date_trunc dateadd
            datediff decode extract func_sha1 getdate isnull json_extract_path_text
            json_parse last_day left len listagg median months_between nvl nvl2
            percentile_cont percentile_disc position ratio_to_report regexp_count
            regexp_instr regexp_replace regexp_substr repeat reverse right sha2 strpos
            substr sysdate timestamp_cmp to_char to_date to_number to_timestamp translate
            trunc
            """
        ).split()
    ),
    "athena": frozenset(
        (
            _COMMON
            + """
            approx_distinct approx_percentile array_agg arbitrary bool_and bool_or
            cardinality chr codepoint concat_ws contains count_if current_date
            current_timestamp date date_add date_diff date_format date_parse date_trunc fail
            day day_of_week day_of_year element_at every filter format_datetime
            from_iso8601_timestamp from_unixtime hour if json_extract json_extract_scalar
            json_format json_parse listagg map_agg max_by millisecond min_by minute month
            parse_datetime position quarter regexp_extract regexp_like regexp_replace
            reverse second sequence sha256 split strpos substr to_hex to_iso8601
            to_milliseconds to_unixtime to_utf8 transform try try_cast week year
            """
        ).split()
    ),
}

FORBIDDEN_TOKENS: dict[str, dict[TokenType, str]] = {
    "redshift": {},
    "athena": {TokenType.DCOLON: "uses a :: cast, which Athena lacks (use cast(x as type))"},
}

# Why some DuckDB habits fail, so the message says what to use instead.
HINTS = {
    "arg_max": "use row_number() over (...) = 1 or a dispatch macro",
    "arg_min": "use row_number() over (...) = 1 or a dispatch macro",
    "strftime": "use a dispatch macro (to_char on Redshift, date_format on Athena)",
    "read_parquet": "a DuckDB table function: on Redshift/Athena sources are tables",
    "read_json_auto": "a DuckDB table function: on Redshift/Athena sources are tables",
    "epoch_ms": "use dbt.datediff or a dispatch macro",
    "list_aggregate": "DuckDB lists do not exist on the target",
    "struct_pack": "DuckDB structs do not exist on the target",
    "date_diff": "use dbt.datediff (Redshift spells it datediff)",
    "datediff": "use dbt.datediff (Athena spells it date_diff)",
    "dateadd": "use dbt.dateadd (Athena spells it date_add)",
    "date_add": "use dbt.dateadd (Redshift spells it dateadd)",
}


@dataclass(frozen=True)
class Problem:
    model: str
    message: str

    def __str__(self) -> str:
        return f"{self.model}: {self.message}"


def called_functions(sql: str, dialect: str) -> set[str]:
    """Names of the functions that ``sql`` calls, lowercased, as written."""
    dia = Dialect.get_or_raise(dialect)
    parser = dia.parser_class
    tokens = dia.tokenize(sql)
    return {
        name.text.lower()
        for name, nxt in itertools.pairwise(tokens)
        if nxt.token_type == TokenType.L_PAREN
        and name.token_type in parser.FUNC_TOKENS
        and name.token_type not in parser.TYPE_TOKENS
    }


def check(model: str, sql: str, dialect: str) -> list[Problem]:
    """Everything in ``sql`` that stops it from running on ``dialect``'s warehouse."""
    dia = Dialect.get_or_raise(dialect)
    try:
        dia.parse(sql)
    except (ParseError, TokenError) as exc:
        first = str(exc).splitlines()[0]
        return [Problem(model, f"does not parse as {dialect} SQL: {first}")]
    tokens = {token.token_type for token in dia.tokenize(sql)}
    problems = [Problem(model, why) for kind, why in FORBIDDEN_TOKENS[dialect].items() if kind in tokens]
    for name in sorted(called_functions(sql, dialect) - TARGET_FUNCTIONS[dialect]):
        hint = HINTS.get(name, f"add it to TARGET_FUNCTIONS['{dialect}'] only if {dialect} has it")
        problems.append(Problem(model, f"calls {name}(), which {dialect} lacks ({hint})"))
    return problems
