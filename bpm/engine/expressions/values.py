"""JavaScript's value rules, as Jexl 2.3.0 applies them to JSON data.

Jexl evaluates with JavaScript's operators: loose ``==``, ``+`` that joins
text, comparisons and arithmetic that coerce, numbers that are doubles and
print as JavaScript prints them. A definition must mean the same in a
TypeScript front end as here, so these functions follow the ECMAScript
algorithms (ToNumber, ToString, ToPrimitive, IsLooselyEqual, IsLessThan) for
the values JSON can hold plus ``undefined``. Where JavaScript would reach into
its object model (``'a'.toUpperCase``, ``{}.constructor``), we answer
``undefined``: nothing but the data is reachable.

Numbers are Python ints while they are whole and within 2^53 (where int and
double agree) and floats otherwise; -0, NaN and the infinities exist during
evaluation and become JSON at the boundary (``to_json_result``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from bpm.engine.errors import ExpressionError
from bpm.engine.jsonvalue import Budget, NotJsonError
from bpm.engine.undefined import UNDEFINED

MAX_STRING = 1_000_000
SAFE = 2**53
_INF = math.inf
JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
           "\u2028\u2029\u202f\u205f\u3000\ufeff"
"""JavaScript's WhiteSpace and LineTerminator (its \\s and what trim() removes; Python's differ)."""
_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)", re.ASCII)
_RADIX = re.compile(r"0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)", re.ASCII)
_ARRAY_INDEX = re.compile(r"0|[1-9][0-9]*", re.ASCII)


def is_list(value: Any) -> bool:
    """True for what JavaScript calls an array (lists and list views, not text)."""
    return type(value) is list or (isinstance(value, Sequence) and not isinstance(value, (str, bytes)))


def is_number(value: Any) -> bool:
    """True for ints and floats, false for booleans."""
    kind = type(value)
    return kind is int or kind is float


def type_name(value: Any) -> str:
    """Name a value's type the way a process designer would."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if is_list(value):
        return "list"
    return "value"


def truthy(value: Any) -> bool:
    """JavaScript truthiness: 0, -0, NaN, '', null and undefined are false; [] and {} are true."""
    if value is None or value is False or value is UNDEFINED:
        return False
    kind = type(value)
    if kind is str:
        return value != ""
    if kind is int or kind is float:
        return value == value and value != 0
    return True


def canonical(number: float) -> int | float:
    """A whole double within 2^53 as an int (except -0), anything else as it is."""
    if number.is_integer() and -SAFE <= number <= SAFE and not (number == 0 and math.copysign(1, number) < 0):
        return int(number)
    return number


def _float(value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:
        return _INF if value > 0 else -_INF


def _num(value: int | float) -> int | float:
    """A number as JavaScript holds it: ints beyond 2^53 rounded to the double they parse to."""
    if type(value) is int and not -SAFE <= value <= SAFE:
        return _float(value)
    return value


def to_number(value: Any) -> int | float:
    """ECMAScript ToNumber."""
    kind = type(value)
    if kind is int or kind is float:
        return _num(value)
    if kind is bool:
        return 1 if value else 0
    if value is None:
        return 0
    if kind is str:
        return _string_to_number(value)
    if value is UNDEFINED:
        return math.nan
    primitive = to_primitive(value)
    return to_number(primitive) if type(primitive) is str else math.nan


def _string_to_number(text: str) -> int | float:
    text = text.strip(JS_SPACE)
    if not text:
        return 0
    if _DECIMAL.fullmatch(text):
        return canonical(_float(float(text.replace("Infinity", "inf"))))
    if _RADIX.fullmatch(text):
        return canonical(_float(int(text, 0)))
    return math.nan


def to_primitive(value: Any) -> Any:
    """ECMAScript ToPrimitive for JSON values: a list becomes its joined text, an object '[object Object]'."""
    if isinstance(value, Mapping):
        return "[object Object]"
    if is_list(value):
        return _join(value)
    return value


def _join(items: Any) -> str:
    return ",".join("" if item is None or item is UNDEFINED else to_string(item) for item in items)


def to_string(value: Any) -> str:
    """ECMAScript ToString (``String(value)``)."""
    kind = type(value)
    if kind is str:
        return value
    if kind is int:
        return str(value) if -SAFE <= value <= SAFE else number_text(_float(value))
    if kind is float:
        return number_text(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if value is UNDEFINED:
        return "undefined"
    primitive = to_primitive(value)
    return primitive if type(primitive) is str else "[object Object]"


def to_text(value: Any) -> str:
    """Text for interpolation, as Refluxo writes it: ``String(value ?? "")``."""
    if value is None or value is UNDEFINED:
        return ""
    return to_string(value)


def number_text(number: float) -> str:
    """Number::toString: the shortest digits that read back, laid out as JavaScript does."""
    if number != number:
        return "NaN"
    if number == 0:
        return "0"
    if number < 0:
        return "-" + number_text(-number)
    if number == _INF:
        return "Infinity"
    if number.is_integer() and number < SAFE:
        return str(int(number))
    digits, point = _shortest_digits(number)
    k = len(digits)
    if k <= point <= 21:
        return digits + "0" * (point - k)
    if 0 < point <= 21:
        return digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return "0." + "0" * -point + digits
    exponent = point - 1
    sign = "+" if exponent >= 0 else "-"
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{mantissa}e{sign}{abs(exponent)}"


def _shortest_digits(number: float) -> tuple[str, int]:
    """Digits d1..dk and n with value 0.d1..dk x 10^n, from Python's shortest repr (as JavaScript's)."""
    text = repr(number)
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    shift = int(exponent) if exponent else 0
    if whole == "0":
        stripped = fraction.lstrip("0")
        return stripped.rstrip("0"), shift - (len(fraction) - len(stripped))
    return (whole + fraction).rstrip("0"), len(whole) + shift


def utf16_length(text: str) -> int:
    """``text.length`` in JavaScript: UTF-16 code units."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _utf16_unit(text: str, index: int) -> Any:
    if text.isascii():
        return text[index] if index < len(text) else UNDEFINED
    units = text.encode("utf-16-le", "surrogatepass")
    if 2 * index + 2 > len(units):
        return UNDEFINED
    return units[2 * index:2 * index + 2].decode("utf-16-le", "surrogatepass")


def _text_less(left: str, right: str) -> bool:
    if left.isascii() and right.isascii():
        return left < right
    return left.encode("utf-16-be", "surrogatepass") < right.encode("utf-16-be", "surrogatepass")


_UNDEF, _NULL, _BOOL, _NUMBER, _STRING, _OBJECT = range(6)


def _kind(value: Any) -> int:
    kind = type(value)
    if kind is int or kind is float:
        return _NUMBER
    if kind is str:
        return _STRING
    if kind is bool:
        return _BOOL
    if value is None:
        return _NULL
    if value is UNDEFINED:
        return _UNDEF
    return _OBJECT


def loose_equal(left: Any, right: Any) -> bool:
    """ECMAScript IsLooselyEqual (``==``): coercing primitives, objects by identity."""
    a, b = _kind(left), _kind(right)
    if a == b:
        if a == _NUMBER:
            return _num(left) == _num(right)
        if a == _OBJECT:
            return left is right
        return a <= _NULL or left == right
    if a <= _NULL or b <= _NULL:
        return a <= _NULL and b <= _NULL
    if a == _BOOL:
        return loose_equal(1 if left else 0, right)
    if b == _BOOL:
        return loose_equal(left, 1 if right else 0)
    if a == _NUMBER and b == _STRING:
        return _num(left) == _string_to_number(right)
    if a == _STRING and b == _NUMBER:
        return _string_to_number(left) == _num(right)
    if a == _OBJECT:
        return loose_equal(to_primitive(left), right)
    return loose_equal(left, to_primitive(right))


def strict_equal(left: Any, right: Any) -> bool:
    """ECMAScript IsStrictlyEqual (``===``)."""
    a = _kind(left)
    if a != _kind(right):
        return False
    if a == _NUMBER:
        return _num(left) == _num(right)
    if a == _OBJECT:
        return left is right
    return a <= _NULL or left == right


def not_equal(left: Any, right: Any) -> bool:
    """Jexl's ``!=``."""
    return not loose_equal(left, right)


def _is_less(left: Any, right: Any) -> bool | None:
    """ECMAScript IsLessThan; None stands for JavaScript's undefined (a NaN was involved)."""
    left, right = to_primitive(left), to_primitive(right)
    if type(left) is str and type(right) is str:
        return _text_less(left, right)
    x, y = to_number(left), to_number(right)
    if x != x or y != y:
        return None
    return x < y


def _both_numbers(left: Any, right: Any) -> bool:
    a, b = type(left), type(right)
    return (a is int or a is float) and (b is int or b is float)


def less(left: Any, right: Any) -> bool:
    """``<``."""
    if _both_numbers(left, right):
        return _num(left) < _num(right)
    return _is_less(left, right) is True


def greater(left: Any, right: Any) -> bool:
    """``>``."""
    if _both_numbers(left, right):
        return _num(left) > _num(right)
    return _is_less(right, left) is True


def less_equal(left: Any, right: Any) -> bool:
    """``<=``: false when either side is NaN, as in JavaScript."""
    if _both_numbers(left, right):
        return _num(left) <= _num(right)
    return _is_less(right, left) is False


def greater_equal(left: Any, right: Any) -> bool:
    """``>=``."""
    if _both_numbers(left, right):
        return _num(left) >= _num(right)
    return _is_less(left, right) is False


def _limit(text: str) -> str:
    if len(text) > MAX_STRING:
        raise ExpressionError(f"text longer than {MAX_STRING:,} characters")
    return text


def _small_ints(left: Any, right: Any) -> bool:
    return type(left) is int and type(right) is int and -SAFE <= left <= SAFE and -SAFE <= right <= SAFE


def add(left: Any, right: Any) -> Any:
    """``+``: joins text if either side is (or becomes) text, else adds numbers."""
    if _small_ints(left, right):
        result = left + right
        return result if -SAFE <= result <= SAFE else float(result)
    if type(left) is str and type(right) is str:
        return _limit(left + right)
    left, right = to_primitive(left), to_primitive(right)
    if type(left) is str or type(right) is str:
        return _limit(to_string(left) + to_string(right))
    return canonical(_float(to_number(left)) + _float(to_number(right)))


def subtract(left: Any, right: Any) -> Any:
    """``-``."""
    if _small_ints(left, right):
        result = left - right
        return result if -SAFE <= result <= SAFE else float(result)
    return canonical(_float(to_number(left)) - _float(to_number(right)))


def multiply(left: Any, right: Any) -> Any:
    """``*``."""
    if _small_ints(left, right) and left and right:
        result = left * right
        return result if -SAFE <= result <= SAFE else float(result)
    return canonical(_float(to_number(left)) * _float(to_number(right)))


def _divide(left: Any, right: Any) -> float:
    x, y = _float(to_number(left)), _float(to_number(right))
    if y == 0:
        if x == 0 or x != x:
            return math.nan
        return math.copysign(_INF, x) * math.copysign(1, y)
    return x / y


def divide(left: Any, right: Any) -> Any:
    """``/``: division by zero gives Infinity or NaN, as in JavaScript."""
    return canonical(_divide(left, right))


def floor_divide(left: Any, right: Any) -> Any:
    """``//``: ``Math.floor(left / right)``."""
    quotient = _divide(left, right)
    if quotient != quotient or quotient in (_INF, -_INF) or quotient == 0:
        return canonical(quotient)
    return canonical(float(math.floor(quotient)))


def modulo(left: Any, right: Any) -> Any:
    """``%``: the remainder keeps the dividend's sign (``-3 % 4`` is -3)."""
    x, y = _float(to_number(left)), _float(to_number(right))
    if y == 0 or x != x or y != y or x in (_INF, -_INF):
        return math.nan
    if y in (_INF, -_INF):
        return canonical(x)
    return canonical(math.fmod(x, y))


def power(left: Any, right: Any) -> Any:
    """``^``: ``Math.pow``."""
    x, y = _float(to_number(left)), _float(to_number(right))
    if y != y:
        return math.nan
    if y == 0:
        return 1
    if x != x or (abs(x) == 1 and y in (_INF, -_INF)):
        return math.nan
    odd = y.is_integer() and abs(y) < 2**64 and int(y) % 2 == 1
    try:
        return canonical(math.pow(x, y))
    except OverflowError:
        return -_INF if x < 0 and odd else _INF
    except ValueError:  # 0 to a negative power, or a negative number to a fraction
        if x == 0:
            return -_INF if odd and math.copysign(1, x) < 0 else _INF
        return math.nan


def negate(value: Any) -> Any:
    """Unary ``-`` (our extension): ``-ToNumber(value)``."""
    number = to_number(value)
    if type(number) is int and number != 0:
        return -number
    return -float(number)


def contains(item: Any, container: Any) -> bool:
    """Jexl's ``in``: a substring of text, or ``===`` an element of a list; anything else is false."""
    if type(container) is str:
        return to_string(item) in container
    if is_list(container):
        return any(strict_equal(item, element) for element in container)
    return False


def get_property(subject: Any, name: str) -> Any:
    """``subject[name]`` for a property name, on data only (no prototype, no methods)."""
    if isinstance(subject, Mapping):
        return subject.get(name, UNDEFINED)
    if subject is None or subject is UNDEFINED:
        raise ExpressionError(f"cannot read '{name[:50]}' of {type_name(subject)}")
    if name == "length":
        if type(subject) is str:
            return utf16_length(subject)
        if is_list(subject):
            return len(subject)
    return UNDEFINED


def member(subject: Any, name: str) -> Any:
    """``a.b`` in Jexl: undefined on null/undefined, and a list's first item stands for the list."""
    if subject is None or subject is UNDEFINED:
        return UNDEFINED
    if type(subject) is dict:
        return subject.get(name, UNDEFINED)
    if is_list(subject):
        if not len(subject):
            raise ExpressionError(f"cannot read '{name[:50]}' of an empty list")
        subject = subject[0]
    return get_property(subject, name)


def property_key(key: Any) -> str:
    """ECMAScript ToPropertyKey for a computed ``a[key]``."""
    if type(key) is str:
        return key
    if isinstance(key, Mapping):
        return "[object Object]"
    return to_string(key)


def index(subject: Any, key: Any) -> Any:
    """``a[key]`` in Jexl: a boolean keeps or drops the whole subject, anything else is a property."""
    if type(key) is bool:
        return subject if key else UNDEFINED
    if type(key) is int and type(subject) is list and 0 <= key < len(subject):
        return subject[key]
    if subject is None or subject is UNDEFINED:
        raise ExpressionError(f"cannot read [{to_string(key)[:50]}] of {type_name(subject)}")
    name = property_key(key)
    if isinstance(subject, Mapping):
        return subject.get(name, UNDEFINED)
    if (type(subject) is str or is_list(subject)) and _ARRAY_INDEX.fullmatch(name) and len(name) < 17:
        position = int(name)
        if type(subject) is str:
            return _utf16_unit(subject, position)
        return subject[position] if position < len(subject) else UNDEFINED
    return get_property(subject, name)


def to_json_result(value: Any, path: str = "$", budget: Budget | None = None) -> Any:
    """What ``JSON.stringify`` keeps of a result: undefined keys dropped, NaN and Infinity as null.

    At most ``jsonvalue.MAX_VALUES`` values (else TooManyValues): ``[a, a]`` shares ``a`` in
    memory, so only the copy would pay for a result doubled step after step.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None or value is UNDEFINED:
        return value
    if budget is None:
        budget = Budget()
    budget.spend()
    if kind is float:
        if value != value or value in (_INF, -_INF):
            return None
        return canonical(value) if value != 0 else 0
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise NotJsonError(path, f"object key {key!r} is not a string")
            item = to_json_result(item, f"{path}.{key}", budget)
            if item is not UNDEFINED:
                out[key] = item
        return out
    if is_list(value):
        return [None if (item := to_json_result(element, f"{path}[{i}]", budget)) is UNDEFINED else item
                for i, element in enumerate(value)]
    raise NotJsonError(path, f"a {kind.__name__} is not a JSON value")
