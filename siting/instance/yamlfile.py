"""The one YAML loader of ``siting``: parsed once, strict, bounded.

Every YAML file the tool reads (``instance.yaml``, designs files) goes through :func:`load_yaml`:

- the file must be a regular file of at most :data:`~siting.instance.files.MAX_YAML_BYTES`;
- it is parsed once, by libyaml (PyYAML's C parser) where it is installed, into nodes;
- **aliases are refused** (``&anchor`` / ``*alias`` and ``<<`` merges): a few hundred bytes of
  nested aliases stand for billions of values, and a recursive alias for an infinite one;
- **repeated keys are refused** (YAML keeps the last without a word);
- **tags are refused** (``!!python/object`` and friends): plain values only;
- scalars are typed by the YAML 1.2 core rules (``true``/``false``, ``null``/``~``, decimal
  numbers), and the YAML 1.1 words that other readers take for booleans (``yes``, ``no``, ``on``,
  ``off``, ``y``, ``n`` in any case) are refused when unquoted: ``lifetime_years: on`` would be 1
  year to one reader and text to another, and ``currency: NO`` false to one. Dates stay text.

Every problem is one ``file line N | problem; fix`` line.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import yaml

from siting.errors import InputError, Problem
from siting.instance.files import MAX_YAML_BYTES, decode_utf8, read_limited

try:  # libyaml: the same grammar, parsed in C
    from yaml.cyaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser, Composer):  # type: ignore[no-redef]
        def __init__(self, stream):
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"^[-+]?[0-9][0-9_]*$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?$")
_SPECIAL = {".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}
#: Words a YAML 1.1 reader takes for booleans; refused unquoted.
YAML11_WORDS = frozenset({"yes", "no", "on", "off", "y", "n"})
_PLAIN_TAGS = {"plain", "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq",
               "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool",
               "tag:yaml.org,2002:null"}


_PLAIN = "plain"  # the tag of an untagged plain scalar, typed by :func:`_scalar`


class _Loader(_Parser, yaml.resolver.BaseResolver):
    """Parser and composer only: nodes keep their text, and :func:`_value` types them."""

    def __init__(self, stream: str):
        _Parser.__init__(self, stream)
        yaml.resolver.BaseResolver.__init__(self)

    def resolve(self, kind, value, implicit):
        """Untagged nodes: plain scalars are marked for typing, quoted ones are text."""
        if kind is yaml.ScalarNode:
            return _PLAIN if implicit[0] else "tag:yaml.org,2002:str"
        return yaml.resolver.BaseResolver.resolve(self, kind, value, implicit)


def load_yaml(path: Path, where: str | None = None, kind: str = "YAML files",
              missing: str = "not found", fix: str = "give the path of a YAML file",
              name: str | None = None) -> object:
    """Read, parse and type the YAML file at ``path``.

    Parameters
    ----------
    path
        The file.
    where
        How messages about the file as a whole name it (the file name by default).
    name
        How messages about a line of it name it (the file name by default).
    kind
        What the file is, for the size limit's message (``instance files``).
    missing, fix
        The problem and fix when the file does not exist.

    Raises
    ------
    InputError
        For a file that is not a regular file, too large, not UTF-8, malformed, or that uses an
        alias, a tag, a repeated key or an unquoted YAML 1.1 boolean word.
    """
    name = name or path.name
    data = read_limited(path, where or name, MAX_YAML_BYTES, kind, missing, fix)
    if isinstance(data, Problem):
        raise InputError(data)
    text = decode_utf8(data, name, "save it as UTF-8")
    if isinstance(text, Problem):
        raise InputError(text)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError as exc:
        exc = _python_parser_error(text) or exc  # its messages name the character ('\t') where libyaml's do not
        mark = getattr(exc, "problem_mark", None)
        at = f"{name} line {mark.line + 1}" if mark else name
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if "alias" in problem:  # an alias to an anchor defined nowhere
            raise InputError(Problem(at, "uses a YAML alias (*name)", _NO_ALIAS)) from None
        raise InputError(Problem(at, f"malformed YAML: {problem}",
                                 "check indentation and that every key is followed by ':'")) from None
    finally:
        loader.dispose()
    if node is None:
        return None
    try:
        return _value(node, name, text, set(), "")
    except RecursionError:  # libyaml allows 1,000 levels, more than Python's stack here
        raise InputError(Problem(name, "nests lists or mappings hundreds of levels deep",
                                 "siting's YAML files need a few levels; check that this is the right file")) from None


def _python_parser_error(text: str) -> yaml.YAMLError | None:
    """The error PyYAML's own parser finds in ``text`` (only called once libyaml found one)."""
    try:
        for _ in yaml.parse(text, Loader=yaml.SafeLoader):
            pass
    except yaml.YAMLError as exc:
        return exc
    except RecursionError:
        return None
    return None


_NO_ALIAS = "aliases (&name, *name, <<) are not accepted in siting's YAML files; write the values out"


def _alias_line(text: str) -> int | None:
    """The line of the first alias, found by a second pass over the events (only when one exists)."""
    loader = _Loader(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.AliasEvent) or (
                    isinstance(event, yaml.ScalarEvent) and event.value == "<<" and event.implicit[0]):
                return event.start_mark.line + 1
    finally:
        loader.dispose()
    return None


def _value(node: yaml.Node, name: str, text: str, seen: set[int], parent: str):
    """Python value of ``node``: each node is visited once, so that a node reached twice (an
    alias) is refused before anything is expanded."""
    if id(node) in seen:
        line = _alias_line(text)
        raise InputError(Problem(f"{name} line {line}" if line else name, "uses a YAML alias (*name)", _NO_ALIAS))
    seen.add(id(node))
    line = node.start_mark.line + 1
    if node.tag not in _PLAIN_TAGS:
        shown = node.tag.replace("tag:yaml.org,2002:", "!!")
        raise InputError(Problem(f"{name} line {line}", f"YAML tag not allowed ({shown})",
                                 "write plain values; tags such as !!python are refused"))
    if isinstance(node, yaml.MappingNode):
        out: dict = {}
        lines: dict = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == "<<" and key_node.tag == _PLAIN:
                raise InputError(Problem(f"{name} line {key_node.start_mark.line + 1}",
                                         "uses a YAML merge key (<<)", _NO_ALIAS))
            key = _value(key_node, name, text, seen, parent)
            if isinstance(key, (dict, list)):
                raise InputError(Problem(f"{name} line {key_node.start_mark.line + 1}",
                                         "has a mapping or list as a key", "keys are plain names"))
            at = key_node.start_mark.line + 1
            if key in out:
                word = "setting" if parent == "settings" else "key"
                raise InputError(Problem(f"{name} line {at}",
                                         f"{word} '{key}' is given twice (lines {lines[key]} and {at})",
                                         "keep one of them"))
            lines[key] = at
            out[key] = _value(value_node, name, text, seen, str(key))
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_value(item, name, text, seen, parent) for item in node.value]
    return _scalar(node, name, line)


def _scalar(node: yaml.ScalarNode, name: str, line: int):
    text = node.value
    if node.tag == "tag:yaml.org,2002:str":  # quoted, block or tagged text: as written
        return text
    if node.tag != _PLAIN:
        return _tagged(node, name, line)
    if _NULL.match(text):
        return None
    if text in _BOOL:
        return _BOOL[text]
    if text.lower() in YAML11_WORDS:
        return _refuse_word(text, name, line)
    if _INT.match(text):
        return int(text.replace("_", ""))
    if _FLOAT.match(text) and any(ch.isdigit() for ch in text):
        return float(text.replace("_", ""))
    if text.lower() in _SPECIAL:
        return _SPECIAL[text.lower()]
    return text


def _tagged(node: yaml.ScalarNode, name: str, line: int):
    """A scalar with an explicit core tag (``!!int 3``): typed as the tag says."""
    kind = node.tag.rsplit(":", 1)[-1]
    try:
        if kind == "int":
            return int(node.value.replace("_", ""))
        if kind == "float":
            return float(node.value.replace("_", ""))
        if kind == "bool" and node.value in _BOOL:
            return _BOOL[node.value]
        if kind == "null" and _NULL.match(node.value):
            return None
    except ValueError:
        pass
    raise InputError(Problem(f"{name} line {line}", f"'{node.value}' is not a valid !!{kind}",
                             "write the value without a tag"))


def _refuse_word(text: str, name: str, line: int):
    raise InputError(Problem(f"{name} line {line}",
                             f"'{text}' without quotes is true or false to some YAML readers and text to others",
                             f"write it in quotes (\"{text}\") if you mean the text, true or false for a yes/no "
                             "setting, or a number"))
