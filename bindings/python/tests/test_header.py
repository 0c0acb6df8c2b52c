"""What the binding tells ctypes agrees with include/hiveport.h: a prototype, a structure or a constant
that drifted from the header would pass wrong arguments or read wrong fields without any error."""
import ctypes
import os
import re
import shlex
import shutil
import subprocess

import pytest

import hiveport
from hiveport import _lib, hive
from conftest import ROOT, skip_or_fail

PACKAGE = ROOT / "bindings" / "python" / "hiveport"
# Declared but deliberately not bound, with the reason.
UNBOUND = {"hiveport_open": "hiveport_open_ext() with hiveport_options_init()'s defaults does the same",
           "hiveport_open_named": "for the copy of a hive known by another name (the CLI's images); Python "
                                  "code opens hives by their paths",
           "hiveport_name": "hiveport_path() for the hives Python opens, which have no other name"}

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


def test_every_function_of_the_header_is_bound_and_called():
    # A function added to include/hiveport.h fails here until the binding declares and uses it.
    declared = set(header_functions())
    bound = set(_lib._PROTOTYPES) | set(_lib._OPTIONAL_PROTOTYPES)
    assert set(UNBOUND) <= declared, "UNBOUND names a function the header no longer declares"
    assert not declared - set(UNBOUND) - bound, "not bound: %s" % sorted(declared - set(UNBOUND) - bound)
    assert not bound - declared, "bound but not declared: %s" % sorted(bound - declared)
    calls = "".join(p.read_text() for p in PACKAGE.glob("*.py") if p.name != "_lib.py")
    for name in _lib._PROTOTYPES:
        assert re.search(r"\blib\.%s\(" % name, calls), f"{name} is declared to ctypes but never called"
    for name in _lib._OPTIONAL_PROTOTYPES:  # called through _lib.NAME_fn, looked up at load time
        fn = name[len("hiveport_"):] + "_fn"
        assert re.search(r"_lib\.%s\b" % fn, calls) and getattr(_lib, fn) is not None, name


def test_the_structures_of_0_2_are_whole():
    assert [f[0] for f in _lib.CFinding01._fields_ + _lib.CFinding._fields_] == header_struct_fields("hiveport_finding")
    assert [f[0] for f in _lib.CPlanItem._fields_] == header_struct_fields("hiveport_plan_item")


@pytest.mark.parametrize("struct,tag", [
    (_lib.COptions, "hiveport_options"),
    (_lib.CSetting, "hiveport_setting"),
    (_lib.CChange, "hiveport_change"),
    (_lib.CFinding01, "hiveport_finding"),
    (_lib.CPlanItem, "hiveport_plan_item"),
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
    opens = {"WRITE": hive._OPEN_WRITE, "NO_LOGS": hive._OPEN_NO_LOGS, "DISCARD_LOGS": hive._OPEN_DISCARD_LOGS,
             "BREAK_LINKS": hive._OPEN_BREAK_LINKS, "DAMAGED": hive._OPEN_DAMAGED,
             "COMMIT_LOG": hive._OPEN_COMMIT_LOG, "COMMIT_COPY": hive._OPEN_COMMIT_COPY}
    assert {n: header_constant("HIVEPORT_OPEN_" + n) for n in opens} == opens
    assert set(re.findall(r"#define HIVEPORT_OPEN_(\w+)", HEADER)) == set(opens), "an open flag is not bound"
    assert hive._CHECK_PRIMARY == header_constant("HIVEPORT_CHECK_PRIMARY")
    assert set(re.findall(r"#define HIVEPORT_CHECK_(\w+)", HEADER)) == {"PRIMARY"}
    assert hive._SET_REPLACE_TYPE == header_constant("HIVEPORT_SET_REPLACE_TYPE")
    assert hive._RPC_CLEAR_KEEP_KEY == header_constant("HIVEPORT_RPC_CLEAR_KEEP_KEY")
    assert (hiveport.CURRENT, hiveport.DEFAULT, hiveport.LASTKNOWNGOOD, hiveport.ALL) == tuple(
        header_constant(n) for n in ("HIVEPORT_CS_CURRENT", "HIVEPORT_CS_DEFAULT", "HIVEPORT_CS_LASTKNOWNGOOD",
                                     "HIVEPORT_CS_ALL"))


def test_layouts_are_those_the_compiler_gives(tmp_path):
    # Field names agreeing is not enough: offsets and sizes come from the C compiler on the real header.
    make_vars = dict(v.split("=", 1) for v in shlex.split(os.environ.get("HIVEPORT_MAKE_VARS", "")))
    cc = make_vars.get("CC") or "cc"
    if shutil.which(cc) is None:
        skip_or_fail("C compiler", f"{cc} is not installed")
    structs = {"hiveport_options": _lib.COptions, "hiveport_setting": _lib.CSetting, "hiveport_change": _lib.CChange,
               "hiveport_finding": _lib.CFinding, "hiveport_plan_item": _lib.CPlanItem}
    lines = [f'printf("{tag} {name} %zu %zu\\n", offsetof({tag}, {name}), sizeof(({tag} *)0)->{name});'
             for tag, struct in structs.items() for name in _all_fields(struct)]
    lines += [f'printf("{tag} sizeof %zu\\n", sizeof({tag}));' for tag in structs]
    source = tmp_path / "layout.c"
    source.write_text("#include <stddef.h>\n#include <stdio.h>\n#include <hiveport.h>\nint main(void)\n{\n"
                      + "\n".join(lines) + "\nreturn 0;\n}\n")
    subprocess.run([cc, "-I", str(ROOT / "include"), "-o", str(tmp_path / "layout"), str(source)], check=True)
    got = subprocess.run([str(tmp_path / "layout")], check=True, capture_output=True, text=True).stdout.split("\n")
    want = [f"{tag} {name} {getattr(struct, name).offset} {getattr(struct, name).size}"
            for tag, struct in structs.items() for name in _all_fields(struct)]
    want += [f"{tag} sizeof {ctypes.sizeof(struct)}" for tag, struct in structs.items()]
    assert got[:-1] == want


def _all_fields(struct):
    """Field names of a ctypes structure and of the structures it extends, in order."""
    bases = [b for b in struct.__mro__ if "_fields_" in b.__dict__]
    return [f[0] for b in reversed(bases) for f in b.__dict__["_fields_"]]
