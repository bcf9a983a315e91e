"""Symtable cookbook: micro-programs beside the exact facts the symtable plane must produce (CPython 3.13).

Each expectation was checked against ``python -m symtable`` (scope codes, flags) and ``dis`` (which
slot the compiler uses) for the snippet. Scopes are short qualpaths (``"f"``, ``"C::m"``, the module
is ``"mod"``), bindings ``"<scope>.<name>"``; see ``symfacts.py``.
"""

import ast

import pytest

from codeintel_assets.extract.symtable import function_partition_rows, read_symtable, symbol_facts, walk_symtable
from codeintel_assets.extract.syntax import walk_ast
from codeintel_assets.extract.spans import LineIndex
from symfacts import source_file, sym

GP = "<generic parameters of "


def test_global_declaration_rebinds_the_module_slot():
    f = sym("""
        x = 0
        def f():
            global x
            x = 1
    """)
    assert f.scopes() == {"mod": "MODULE", "f": "FUNCTION"}
    assert f.bindings("mod") == {"x": "local", "f": "namespace"}
    assert f.bindings("f") == {"x": "global_ref"}
    assert f.scope_codes("f") == {"x": "GLOBAL_EXPLICIT"}
    assert f.binding("f.x")["declared_here"] is False  # the slot it assigns is the module's
    assert f.edges() == {("f.x", "GLOBAL", "mod.x")}
    assert f.site_set() == {
        ("x", "def", "name_store", "mod", "mod.x"), ("f", "def", "def_name", "mod", "mod.f"),
        ("x", "decl", "global_decl", "f", "mod.x"), ("x", "def", "name_store", "f", "mod.x"),
    }


def test_nonlocal_and_augmented_assignment():
    f = sym("""
        def outer():
            n = 0
            def inc():
                nonlocal n
                n += 1
                return n
            return inc
    """)
    assert f.scope_codes("outer") == {"n": "CELL", "inc": "LOCAL"}
    assert f.bindings("outer::inc") == {"n": "nonlocal_ref"}
    assert f.edges() == {("outer::inc.n", "NONLOCAL", "outer.n")}
    assert f.sites() == [
        ("outer", "def", "def_name", "mod", "mod.outer"), ("n", "def", "name_store", "outer", "outer.n"),
        ("inc", "def", "def_name", "outer", "outer.inc"),
        ("n", "decl", "nonlocal_decl", "outer::inc", "outer.n"),
        ("n", "use", "aug_target", "outer::inc", "outer.n"),  # n += 1 reads, then writes, the outer cell
        ("n", "def", "aug_target", "outer::inc", "outer.n"),
        ("n", "use", "name_load", "outer::inc", "outer.n"),
        ("inc", "use", "name_load", "outer", "outer.inc"),
    ]


def test_closure_three_levels_deep():
    f = sym("""
        def a():
            x = 1
            def b():
                def c():
                    return x
                return c
            return b
    """)
    assert {q: f.scope_codes(q) for q in ("a", "a::b", "a::b::c")} == {
        "a": {"x": "CELL", "b": "LOCAL"}, "a::b": {"c": "LOCAL", "x": "FREE"}, "a::b::c": {"x": "FREE"},
    }
    # b only passes the cell through; both resolve to the defining function's binding.
    assert f.edges() == {("a::b.x", "FREE", "a.x"), ("a::b::c.x", "FREE", "a.x")}
    assert ("x", "use", "name_load", "a::b::c", "a.x") in f.site_set()
    assert f.resolve("a::b::c", "x") == "a.x"


def test_class_body_names_are_not_visible_to_methods():
    f = sym("""
        class C:
            y = 1
            def m(self):
                return y
    """)
    assert f.bindings("C") == {"y": "local", "m": "namespace"}
    assert f.bindings("C::m") == {"self": "param", "y": "global_ref"}
    assert f.edges() == {("C::m.y", "GLOBAL", "mod.y")}
    assert f.binding("mod.y")["is_synthesized"] and f.binding("mod.y")["binding_kind"] == "unknown"
    assert f.site_set() >= {("y", "def", "name_store", "C", "C.y"), ("y", "use", "name_load", "C::m", "mod.y")}


def test_super_uses_the_implicit_class_cell():
    f = sym("""
        class C(B):
            def m(self):
                return super().m()
    """)
    assert f.scope_codes("C::m") == {"self": "LOCAL", "super": "GLOBAL_IMPLICIT", "__class__": "FREE"}
    assert "__class__" not in f.symbols("C")  # the class table never lists the cell it gets
    cell = f.binding("C.__class__")
    assert (cell["is_synthesized"], cell["is_implicit"], cell["binding_kind"]) == (True, True, "local")
    assert f.edges() == {("C::m.__class__", "FREE", "C.__class__"), ("C::m.super", "GLOBAL", "mod.super")}
    assert f.sites("implicit_class_ref") == [("super", "use", "implicit_class_ref", "C::m", "C.__class__")]


def test_name_mangling():
    f = sym("""
        class K:
            __a = 1
            def __m(self):
                return self.__a, __b
    """)
    assert f.bindings("K") == {"_K__a": "local", "_K__m": "namespace"}
    assert f.symbols("K")["_K__m"]["is_namespace"] is False  # the table is named "__m"
    assert f.bindings("K::__m") == {"self": "param", "_K__b": "global_ref"}
    assert f.edges() == {("K::__m._K__b", "GLOBAL", "mod._K__b")}
    names = {(r["name"], r["symbol_name"]) for r in f.rows("py_sym_name_sites")}
    assert {("__a", "_K__a"), ("__m", "_K__m"), ("__b", "_K__b")} <= names


def test_inlined_list_comprehension_has_no_table_and_no_code():
    f = sym("""
        def f(xs):
            return [x * 2 for x in xs]
    """)
    assert f.scopes() == {"mod": "MODULE", "f": "FUNCTION"}  # PEP 709
    assert f.bindings("f") == {"xs": "param", "x": "local"}
    assert f.crosswalk() == [("f", "inlined_comprehension"), ("f", "runtime"), ("mod", "runtime")]
    assert f.sites() == [
        ("f", "def", "def_name", "mod", "mod.f"), ("xs", "def", "param", "f", "f.xs"),
        ("x", "use", "name_load", "f", "f.x"), ("x", "def", "comprehension_target", "f", "f.x"),
        ("xs", "use", "name_load", "f", "f.xs"),
    ]


def test_generator_expression_keeps_its_scope_and_first_iterable_is_outside():
    f = sym("""
        def g(xs):
            return sum(x for x in xs)
    """)
    assert f.scopes() == {"mod": "MODULE", "g": "FUNCTION", "g::<genexpr#1>": "FUNCTION"}
    assert f.bindings("g::<genexpr#1>") == {".0": "param", "x": "local"}
    assert f.anchor_text("g::<genexpr#1>") == "(x for x in xs)"
    assert f.crosswalk() == [("g", "runtime"), ("g::<genexpr#1>", "runtime"), ("mod", "runtime")]
    assert f.site_set() >= {("xs", "use", "name_load", "g", "g.xs"),  # evaluated in g, passed as .0
                            ("x", "use", "name_load", "g::<genexpr#1>", "g::<genexpr#1>.x")}


def test_walrus_in_comprehensions_binds_in_the_enclosing_function():
    f = sym("""
        def h(xs):
            if any((y := x) > 0 for x in xs):
                return y
            return [z := x for x in xs], z
    """)
    assert f.bindings("h::<genexpr#1>") == {".0": "param", "x": "local", "y": "nonlocal_ref"}
    assert f.scope_codes("h") == {"xs": "LOCAL", "any": "GLOBAL_IMPLICIT", "y": "CELL", "z": "LOCAL", "x": "LOCAL"}
    assert f.edges() == {("h::<genexpr#1>.y", "NONLOCAL", "h.y"), ("h.any", "GLOBAL", "mod.any")}
    assert f.sites("walrus_target") == [("y", "def", "walrus_target", "h::<genexpr#1>", "h.y"),
                                        ("z", "def", "walrus_target", "h", "h.z")]


def test_except_as_name_is_unbound_after_the_handler():
    f = sym("""
        def f():
            try:
                pass
            except ValueError as e:
                print(e)
    """)
    assert f.bindings("f") == {"ValueError": "global_ref", "e": "local", "print": "global_ref"}
    rows = [r for r in f.rows("py_sym_name_sites") if r["name"] == "e"]
    assert [(r["role"], r["site_kind"], r["is_implicit"]) for r in rows] == [
        ("def", "except_name", False), ("kill", "except_unbind", True), ("use", "name_load", False)]
    handler_end = f.text.index("print(e)") + len("print(e)")
    assert rows[1]["span_start_byte"] == rows[1]["span_end_byte"] == handler_end
    assert f.text.encode()[rows[0]["span_start_byte"]:rows[0]["span_end_byte"]] == b"e"


def test_del_binds_and_kills():
    f = sym("""
        def f():
            x = 1
            del x
        def g():
            del y
    """)
    assert f.bindings("f") == {"x": "local"} and f.bindings("g") == {"y": "local"}
    assert f.binding("g.y")["declared_here"] is True  # `del y` alone makes y local
    assert f.sites("name_del") == [("x", "kill", "name_del", "f", "f.x"), ("y", "kill", "name_del", "g", "g.y")]


def test_star_import_leaves_names_to_the_module_slot():
    f = sym("""
        from os.path import *
        def f():
            return join("a")
    """)
    assert f.bindings("mod") == {"f": "namespace"}  # `*` binds nothing the symbol table can see
    assert f.edges() == {("f.join", "GLOBAL", "mod.join")}
    edge = [r for r in f.rows("py_sym_resolution_edges")][0]
    assert "star import" in edge["reason"]
    assert f.binding("mod.join")["is_synthesized"] is True


def test_annotation_only_names():
    f = sym("""
        x: int
        def h():
            v: str
            w: int = 1
            return w
    """)
    # symtable sets DEF_LOCAL with DEF_ANNOT for `x: int`, so is_assigned() is true: the AST decides.
    assert f.symbols("mod")["x"]["is_assigned"] and f.symbols("mod")["x"]["is_annotated"]
    assert f.bindings("mod") == {"x": "annot_only", "int": "unknown", "h": "namespace"}
    assert f.bindings("h") == {"v": "annot_only", "str": "global_ref", "w": "local", "int": "global_ref"}
    assert f.sites("annotation_only") == [("x", "decl", "annotation_only", "mod", "mod.x"),
                                          ("v", "decl", "annotation_only", "h", "h.v")]
    # A module annotation is evaluated (into __annotations__); a function's local annotations never are.
    by_scope = {(r["name"], f._scope_short(r["scope_id"])): r["is_evaluated"]
                for r in f.rows("py_sym_name_sites") if r["in_annotation"]}
    assert by_scope == {("int", "mod"): True, ("str", "h"): False, ("int", "h"): False}


def test_future_annotations_are_never_visited():
    f = sym("""
        from __future__ import annotations
        def f(a: Undefined) -> Other:
            v: Local = 1
            return v
    """)
    assert f.facts.status["future_annotations"] is True
    assert f.bindings("mod") == {"annotations": "import", "f": "namespace"}
    assert f.bindings("f") == {"a": "param", "v": "local"}
    assert f.edges() == set()
    assert f.sites("annotation_name") == [("Undefined", "use", "annotation_name", "mod", None),
                                          ("Local", "use", "annotation_name", "f", None),
                                          ("Other", "use", "annotation_name", "mod", None)]
    assert {r["resolution"] for r in f.rows("py_sym_name_sites") if r["site_kind"] == "annotation_name"} == \
        {"stringized_annotation"}


def test_pep695_type_alias():
    f = sym("""
        type Pair[T] = tuple[T, T]
    """)
    assert f.scopes() == {"mod": "MODULE", f"{GP}Pair>": "TYPE_PARAMETERS", f"{GP}Pair>::Pair": "TYPE_ALIAS"}
    tp, alias = f.scope(f"{GP}Pair>"), f.scope(f"{GP}Pair>::Pair")
    assert (tp["scope_role"], alias["scope_role"]) == ("type_meta", "type_meta")
    assert f.anchor_text(f"{GP}Pair>") == "[T]" and tp["anchor_confidence"] == pytest.approx(0.9)
    assert f.anchor_text(f"{GP}Pair>::Pair") == "type Pair[T] = tuple[T, T]"
    assert alias["anchor_confidence"] == pytest.approx(0.95)
    assert f.scope_codes(f"{GP}Pair>") == {"T": "CELL"}
    assert f.edges() == {(f"{GP}Pair>::Pair.T", "FREE", f"{GP}Pair>.T"), (f"{GP}Pair>::Pair.tuple", "GLOBAL", "mod.tuple")}
    assert f.crosswalk() == sorted([("mod", "runtime"), (f"{GP}Pair>", "type_meta"), (f"{GP}Pair>::Pair", "type_meta")])
    assert f.bindings("mod") == {"Pair": "namespace"}
    assert f.bindings("mod", synthesized=True) == {"Pair": "namespace", "tuple": "unknown"}


def test_generic_function():
    f = sym("""
        def first[T](xs: list[T]) -> T:
            return xs[0]
    """)
    tp = f"{GP}first>"
    assert f.scopes() == {"mod": "MODULE", tp: "TYPE_PARAMETERS", f"{tp}::first": "FUNCTION"}
    # symtable declares .defaults for every generic def; the compiler passes it only with defaults.
    assert f.bindings(tp) == {".defaults": "param", "T": "local", "list": "global_ref"}
    assert f.binding(f"{tp}..defaults")["is_implicit"] is True
    assert f.site_set() >= {("list", "use", "name_load", tp, "mod.list"), ("T", "use", "name_load", tp, f"{tp}.T"),
                            ("T", "def", "type_param", tp, f"{tp}.T")}  # annotations live in the type scope
    assert f.scope(f"{tp}::first")["anchor_reason"] == "def/class statement by name and line"


def test_generic_class():
    f = sym("""
        class Box[T](Base[T]):
            def get(self) -> T: ...
    """)
    tp, box = f"{GP}Box>", f"{GP}Box>::Box"
    assert f.scope_codes(tp) == {".type_params": "CELL", ".generic_base": "LOCAL", "T": "CELL",
                                 "Base": "GLOBAL_IMPLICIT"}
    assert f.scope_codes(box) == {"__type_params__": "LOCAL", ".type_params": "FREE", "get": "LOCAL", "T": "FREE"}
    assert f.edges() == {(f"{tp}.Base", "GLOBAL", "mod.Base"), (f"{box}..type_params", "FREE", f"{tp}..type_params"),
                         (f"{box}.T", "FREE", f"{tp}.T")}
    assert ("Base", "use", "name_load", tp, "mod.Base") in f.site_set()  # bases are evaluated in the type scope
    assert f.crosswalk() == sorted([("mod", "runtime"), (tp, "type_meta"), (box, "runtime"), (f"{box}::get", "runtime")])


def test_typevar_bounds_and_defaults():
    f = sym("""
        def f[*Ts, **P, T: int = bool](): pass
    """)
    tp = f"{GP}f>"
    assert f.scopes() == {"mod": "MODULE", tp: "TYPE_PARAMETERS", f"{tp}::T": "TYPE_VARIABLE",
                          f"{tp}::T#2": "TYPE_VARIABLE", f"{tp}::f": "FUNCTION"}
    assert (f.anchor_text(f"{tp}::T"), f.anchor_text(f"{tp}::T#2")) == ("int", "bool")
    assert f.scope(f"{tp}::T")["anchor_reason"] == "TypeVar bound expression"
    assert f.scope(f"{tp}::T#2")["anchor_reason"] == "type parameter default expression"
    t = f.symbols(tp)["T"]
    assert (t["is_namespace"], t["namespace_count"], t["is_type_param"]) == (True, 2, True)
    assert f.bindings(tp)["T"] == "local"  # its "namespaces" are its lazily evaluated bound and default
    ns = [(r["child_scope_type"], r["is_ambiguous"]) for r in f.rows("py_sym_namespace_edges") if r["name"] == "T"]
    assert ns == [("TYPE_VARIABLE", True), ("TYPE_VARIABLE", True)]
    assert f.crosswalk() == sorted([("mod", "runtime"), (tp, "type_meta"), (f"{tp}::T", "type_meta"),
                                    (f"{tp}::T#2", "type_meta"), (f"{tp}::f", "runtime")])


def test_match_statement_captures():
    f = sym("""
        def m(p):
            match p:
                case [x, *rest]:
                    return x
                case {"k": v, **kw}:
                    return v
                case Point(x=px) as whole:
                    return px
                case _:
                    return None
    """)
    assert f.bindings("m") == {"p": "param", "x": "local", "rest": "local", "v": "local", "kw": "local",
                               "Point": "global_ref", "px": "local", "whole": "local"}
    assert f.sites("match_capture") == [(n, "def", "match_capture", "m", f"m.{n}")
                                        for n in ("x", "rest", "kw", "v", "whole", "px")]


def test_decorated_def_anchors_by_def_line_and_pairs_with_its_code():
    f = sym("""
        @decorator
        @other(lambda: 1)
        def deco(a=lambda: 2, b=lambda: 3):
            return a
    """)
    assert f.scope("deco")["lineno"] == 3  # get_lineno() is the def line; co_firstlineno the first decorator
    cu = f.scope("deco")["code_unit_id"]
    # The unit's id: path, the def node's span (decorators are outside it), qualpath `deco` (no module name).
    start, end = f.utf8.index(b"def deco"), f.utf8.index(b"return a") + len(b"return a")
    assert cu == f"mod.py:CU:{start}:{end}:deco" == "mod.py:CU:29:77:deco"
    assert [(q, f.anchor_text(q), f.scope(q)["anchor_confidence"]) for q in ("<lambda#1>", "<lambda#2>", "<lambda#3>")] == [
        ("<lambda#1>", "lambda: 2", pytest.approx(0.7)), ("<lambda#2>", "lambda: 3", pytest.approx(0.7)),
        ("<lambda#3>", "lambda: 1", 1.0)]  # symtable visits defaults before decorators


def test_same_line_lambdas_told_apart_by_names():
    f = sym("""
        f2 = lambda a=lambda: 1: a
    """)
    assert f.anchor_text("<lambda#1>") == "lambda: 1"  # the default is entered first
    assert f.anchor_text("<lambda#2>") == "lambda a=lambda: 1: a"
    assert f.scope("<lambda#2>")["anchor_reason"].endswith("told apart by their names")


def test_comprehension_inlined_in_a_class_body_skips_the_class():
    f = sym("""
        y = 0
        class C:
            y = 1
            ys = [y for _ in range(3)]
    """)
    assert f.bindings("C") == {"y": "local", "ys": "local", "range": "global_ref", "_": "local"}
    loads = [r for r in f.rows("py_sym_name_sites") if r["name"] == "y" and r["role"] == "use"]
    assert [(r["resolution"], r["binding_id"].split(":SCOPE:")[1]) for r in loads] == [
        ("comprehension_skips_class", "<module>:0:MODULE:0:BIND:y")]  # LOAD_GLOBAL y, not the class's y
    assert [r["binding_id"] for r in loads] == ["mod.py:SCOPE:<module>:0:MODULE:0:BIND:y"]


def test_annotation_scope_in_a_class_sees_the_class_namespace():
    f = sym("""
        class C:
            T = int
            type A = list[T]
    """)
    assert f.bindings("C::A") == {"__classdict__": "free_ref", "list": "global_ref", "T": "global_ref"}
    assert f.edges() == {("C::A.__classdict__", "FREE", "C.__classdict__"), ("C::A.T", "GLOBAL", "mod.T"),
                         ("C::A.T", "CLASSDICT", "C.T"), ("C::A.list", "GLOBAL", "mod.list"),
                         ("C.int", "GLOBAL", "mod.int")}
    assert ("T", "use", "name_load", "C::A", "C.T") in f.site_set()  # LOAD_FROM_DICT_OR_GLOBALS


def test_dead_code_scope_has_no_code_object():
    f = sym("""
        if 0:
            def dead(): pass
        if not __debug__:
            f = lambda: 1
    """)
    assert f.crosswalk() == [("<lambda#1>", "scope_without_code"), ("dead", "scope_without_code"), ("mod", "runtime")]
    assert f.scope("dead")["crosswalk_reason"] == "no code object: eliminated by the compiler as unreachable"
    assert f.scope("dead")["has_code_object"] is False


def test_symtable_ok_but_compile_fails():
    f = sym("""
        def f[T = int, U](): pass
    """)
    assert f.facts.status["ok"] is True and f.facts.status["code_units_available"] is False
    assert {r["crosswalk_kind"] for r in f.rows("py_sym_scopes")} == {"code_units_unavailable"}


def test_syntax_error_is_a_failure_row():
    f = sym("def g(:\n")
    st = f.facts.status
    assert (st["ok"], st["error_stage"], st["error_type"]) == (False, "symtable", "SyntaxError")
    assert all(f.facts[t].num_rows == 0 for t in f.facts.tables if t != "py_sym_files")


def test_scope_ids_and_qualpaths():
    f = sym("""
        class C:
            def m(self):
                return [lambda: i for i in range(3)]
    """)
    assert {r["scope_id"] for r in f.rows("py_sym_scopes")} == {
        "mod.py:SCOPE:<module>:0:MODULE:0", "mod.py:SCOPE:C:1:CLASS:0", "mod.py:SCOPE:C::m:2:FUNCTION:0",
        "mod.py:SCOPE:C::m::<lambda#1>:3:FUNCTION:0"}
    # Qualpaths are relative to the module; the dotted module name is its own column.
    assert [(r["qualpath"], r["module_name"]) for r in f.rows("py_sym_scopes")] == [
        ("<module>", "mod"), ("C", "mod"), ("C::m", "mod"), ("C::m::<lambda#1>", "mod")]
    # The lambda of an inlined comprehension hangs off the enclosing table (and code object), and i is a cell.
    assert f.scope_codes("C::m") == {"self": "LOCAL", "range": "GLOBAL_IMPLICIT", "i": "CELL"}
    assert f.edges() >= {("C::m::<lambda#1>.i", "FREE", "C::m.i")}


SAMPLES = [
    "x = 1\ndef f(a, /, b, *c, d, **e):\n    global x\n    return x\n",
    "class top:\n    y = 1\n    def g(self): nonlocal_ = 2\n",
    "def f():\n    a = 1\n    def g():\n        nonlocal a\n        a = 2\n    return g\n",
    "import os.path as p\nfrom m import (a as b, c)\ntype T[X: int] = X\n",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_symbol_booleans_and_partitions_equal_the_symtable_api(text):
    top = read_symtable(text.encode(), "mod.py")
    tree = walk_symtable(top, "mod.py")
    ours = {(f.scope.scope_id, f.name): (f.is_referenced, f.is_assigned, f.is_imported, f.is_annotated, f.is_parameter,
                                         f.is_local, f.is_global, f.is_declared_global, f.is_nonlocal, f.is_free,
                                         f.is_namespace)
            for f in symbol_facts(tree)}
    theirs = {}
    for sc in tree.scopes:
        for name in sc.table.get_identifiers():
            s = sc.table.lookup(name)
            theirs[(sc.scope_id, name)] = (s.is_referenced(), s.is_assigned(), s.is_imported(), s.is_annotated(),
                                           s.is_parameter(), s.is_local(), s.is_global(), s.is_declared_global(),
                                           s.is_nonlocal(), s.is_free(), s.is_namespace())
    assert ours == theirs
    partitions = {r[1]: r[2:] for r in function_partition_rows("f", tree)}
    for sc in tree.scopes:
        if sc.scope_type == "FUNCTION":
            t = sc.table
            assert partitions[sc.scope_id] == (list(t.get_parameters()), list(t.get_locals()), list(t.get_globals()),
                                               list(t.get_nonlocals()), sorted(t.get_frees()))


def test_name_site_ids_are_py_ast_nodes_ids():
    text = "class C[T]:\n    def m(self, *a, k=1, **kw):\n        return [x for x in a if (y := x)], y, lambda: T\n"
    f = sym(text)
    nodes = walk_ast(ast.parse(text), LineIndex(text.encode()))
    for r in f.rows("py_sym_name_sites"):
        o = int(r["ast_node_id"].rsplit(":", 1)[1])
        assert type(nodes[o].node).__name__ == r["ast_kind"]


def test_code_unit_scope_ids_for_the_bytecode_plane():
    from codeintel_assets.extract.bytecode import extract_bytecode
    from codeintel_assets.extract.crosswalk import code_unit_scope_ids
    text = "class C[T]:\n    def m(self):\n        return super().m(), (x for x in ())\ntype A = int\n"
    src = source_file(text)
    bc = extract_bytecode(src)
    ids = code_unit_scope_ids(src.path, bc.units, read_symtable(src.data, src.path))
    by_cu = {r["code_unit_id"]: r["scope_id"] for r in sym(text).rows("py_sym_scopes") if r["code_unit_id"]}
    assert ids == [by_cu[u.code_unit_id] for u in bc.units] and None not in ids
    assert len(ids) == 6
