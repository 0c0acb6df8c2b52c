"""What the binding tells ctypes agrees with include/hiveport.h: a prototype, a structure or a constant
that drifted from the header would pass wrong arguments or read wrong fields without any error."""
import re

import pytest

import hiveport
from hiveport import _lib, hive
from conftest import ROOT

HEADER = (ROOT / "include" / "hiveport.h").read_text()


def header_functions():
    """name -> number of parameters, for every HIVEPORT_API function."""
    functions = {}
    for name, params in re.findall(r"HIVEPORT_API[^;(]*?\b(hiveport_\w+)\(([^)]*)\);", HEADER):
        params = params.strip()
        functions[name] = 0 if params in ("", "void") else params.count(",") + 1
    return functions


def header_struct_fields(tag):
    body = re.search(r"typedef struct %s \{(.*?)\} %s;" % (tag, tag), HEADER, re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    return [re.search(r"(\w+)\s*(?:\[\w*\])?$", decl.strip()).group(1) for decl in body.split(";") if decl.strip()]


def header_constant(name):
    value = re.search(r"\b%s\b\s*(?:=\s*)?\(?(-?(?:0x[0-9a-f]+|\d+))u?\)?" % name, HEADER)
    assert value, f"{name} is not in include/hiveport.h"
    return int(value.group(1), 0)


def test_prototypes_match_the_header():
    declared = header_functions()
    assert len(declared) > 30
    for name, (_, argtypes) in _lib._PROTOTYPES.items():
        assert name in declared, f"{name} is bound but not declared in include/hiveport.h"
        assert len(argtypes) == declared[name], f"{name}: {len(argtypes)} parameters bound, {declared[name]} declared"
    for name, (_, argtypes) in _lib._OPTIONAL_PROTOTYPES.items():
        if name in declared:  # once the header has it, the binding must agree with it
            assert len(argtypes) == declared[name], name


@pytest.mark.parametrize("struct,tag", [
    (_lib.COptions, "hiveport_options"),
    (_lib.CSetting, "hiveport_setting"),
    (_lib.CChange, "hiveport_change"),
    (_lib.CFinding, "hiveport_finding"),
])
def test_structures_are_a_prefix_of_the_header(struct, tag):
    # Fields may be added at the end of these structures: the binding reads the ones it knows.
    names = [f[0] for f in struct._fields_]
    assert header_struct_fields(tag)[: len(names)] == names


@pytest.mark.parametrize("enum,prefix", [
    (hiveport.Status, "HIVEPORT_E_"),
    (hiveport.LogState, "HIVEPORT_LOGS_"),
    (hiveport.SelectField, "HIVEPORT_SELECT_"),
    (hiveport.ChangeKind, "HIVEPORT_CHANGE_"),
    (hiveport.Severity, "HIVEPORT_SEVERITY_"),
    (hiveport.RegType, "HIVEPORT_REG_"),
    (hiveport.SettingFlag, "HIVEPORT_SETTING_"),
])
def test_enums_match_the_header(enum, prefix):
    for member in enum:
        if member.name in ("OK", "NONE"):
            continue
        assert header_constant(prefix + member.name) == member.value, member.name
    declared = set(re.findall(r"\b(%s[A-Z_]+)\b\s*(?:=|\(|0x|\d)" % prefix, HEADER))
    assert {prefix + m.name for m in enum if m.name not in ("OK", "NONE")} == declared - {"HIVEPORT_OK"}


def test_flags_and_targets_match_the_header():
    assert (hive._OPEN_WRITE, hive._OPEN_NO_LOGS, hive._OPEN_DISCARD_LOGS) == tuple(
        header_constant(n) for n in ("HIVEPORT_OPEN_WRITE", "HIVEPORT_OPEN_NO_LOGS", "HIVEPORT_OPEN_DISCARD_LOGS"))
    assert hive._SET_REPLACE_TYPE == header_constant("HIVEPORT_SET_REPLACE_TYPE")
    assert hive._RPC_CLEAR_KEEP_KEY == header_constant("HIVEPORT_RPC_CLEAR_KEEP_KEY")
    assert (hiveport.CURRENT, hiveport.DEFAULT, hiveport.LASTKNOWNGOOD, hiveport.ALL) == tuple(
        header_constant(n) for n in ("HIVEPORT_CS_CURRENT", "HIVEPORT_CS_DEFAULT", "HIVEPORT_CS_LASTKNOWNGOOD",
                                     "HIVEPORT_CS_ALL"))
