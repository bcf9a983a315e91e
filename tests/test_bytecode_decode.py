"""The bytecode plane's own decoder (``extract.bytecode.get_instructions``) == ``dis.get_instructions``.

``CodeUnit.instructions`` must stay what ``dis`` returns (the cfg and dataflow planes read it): the
decoder is checked against ``list(dis.get_instructions(code))`` on every code object of a sample of
the installed standard library (every 7th file and the largest ones), field by field and on every
public property, and it must decode almost all of them itself (not fall back to ``dis``).
"""

import dis
import math
import sysconfig
import warnings
from pathlib import Path
from types import CodeType

from codeintel_assets.extract import bytecode as B

ATTRS = ("opcode", "opname", "baseopcode", "baseopname", "arg", "oparg", "argval", "argrepr", "offset",
         "start_offset", "cache_offset", "end_offset", "positions", "jump_target", "label", "is_jump_target",
         "starts_line", "line_number", "cache_info")


def _code_objects(step: int = 7) -> list[CodeType]:
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in root.rglob("*.py") if "site-packages" not in p.relative_to(root).parts)
    picked = files[::step] + sorted(files, key=lambda p: -p.stat().st_size)[:5]
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for p in picked:
            try:
                code = compile(p.read_bytes(), str(p), "exec", dont_inherit=True, optimize=0)
            except (SyntaxError, ValueError):
                continue
            stack = [code]
            while stack:
                c = stack.pop()
                out.append(c)
                stack.extend(k for k in c.co_consts if isinstance(k, CodeType))
    return out


def _same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if a is b or a == b:
        return True
    return isinstance(a, float) and math.isnan(a) and math.isnan(b)  # a nan constant is itself, not equal


def test_decoder_equals_dis_on_the_stdlib_sample():
    codes = _code_objects()
    assert len(codes) > 5000
    decoded_here = 0
    for code in codes:
        expected = list(dis.get_instructions(code))
        fast = B._decode(code)
        got = B.get_instructions(code)
        decoded_here += fast is not None
        assert len(got) == len(expected), code
        for e, g in zip(expected, got):
            assert type(g) is dis.Instruction
            for name in ATTRS:
                assert _same(getattr(e, name), getattr(g, name)), (code, e, name, getattr(g, name))
            if isinstance(e.argval, CodeType) or e.argval is None or isinstance(e.argval, (str, int, tuple)):
                assert g.argval is e.argval or g.argval == e.argval
        if fast is not None:
            assert all(x is y for x, y in zip((i.argval for i in expected if isinstance(i.argval, CodeType)),
                                              (i.argval for i in fast if isinstance(i.argval, CodeType))))
        assert B.jump_targets(got) == [i.jump_target for i in expected]
    # After the first few code objects taught it the opcodes, the decoder does the work itself.
    assert decoded_here > 0.98 * len(codes), (decoded_here, len(codes))


def test_decoder_handles_extended_args_and_backward_jumps():
    body = "\n".join(f"    v{k} = {k}" for k in range(300))
    src = f"def f(xs):\n    for x in xs:\n        if x:\n            continue\n{body}\n    while xs:\n        xs.pop()\n"
    code = compile(src, "<t>", "exec")
    f = next(c for c in code.co_consts if isinstance(c, CodeType))
    B.get_instructions(f)  # learn
    expected = list(dis.get_instructions(f))
    assert any(i.opname == "EXTENDED_ARG" for i in expected)
    assert B._decode(f) == expected
